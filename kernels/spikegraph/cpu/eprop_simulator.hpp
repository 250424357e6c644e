#pragma once
#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <tuple>
#include <type_traits>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <spikegraph/compile/input_batch.hpp>
#include <spikegraph/compile/simulation_options.hpp>
#include <spikegraph/connection_storage.hpp>
#include <spikegraph/connection_storage_check.hpp>
#include <spikegraph/cpu/buffer_tuples.hpp>
#include <spikegraph/cpu/denormals.hpp>
#include <spikegraph/cpu/input_source.hpp>
#include <spikegraph/cpu/simulator.hpp>
#include <spikegraph/cpu/synapse_rows.hpp>
#include <spikegraph/cpu/thread_pool.hpp>
#include <spikegraph/cpu/training_simulator.hpp>
#include <spikegraph/eprop_neuron.hpp>
#include <spikegraph/graph/network.hpp>
#include <spikegraph/model/adaptive_leaky_integrate_fire.hpp>
#include <spikegraph/model/leaky_integrate.hpp>
#include <spikegraph/model/leaky_integrate_fire.hpp>
#include <spikegraph/model/readout.hpp>
#include <spikegraph/model/synapse.hpp>
#include <spikegraph/train/loss.hpp>
#include <spikegraph/train/regularisation.hpp>

namespace spikegraph::cpu_backend {

// Per-population state of the e-prop simulator (see EPropSimulator below).
template <class Pop, std::size_t Index>
struct EPropPopulationBuffers {
    using Model = typename Pop::neuron_type;
    static constexpr bool is_input = is_input_model<Model>;
    std::vector<std::vector<std::uint32_t>> spikes;      // per lane: ids in step order
    std::vector<std::vector<std::uint32_t>> step_start;  // per lane: step n's spikes start at [n]
    std::vector<std::uint32_t> queue;
    std::conditional_t<is_input, InputSource<Pop, Index>, std::monostate> input;
    typename Model::Dynamics dynamics{};
    typename Pop::readout_type::Dynamics readout_dynamics{};
    NeuronState<Model> initial{};
    std::array<std::vector<float>, Model::Variables::size> variables;
    std::vector<float> readout;
    std::vector<float> history;       // [lane][step][neuron]: psi of hidden neurons, V of the output
    std::vector<float> rate_drive;    // [lane][step][neuron]: c_reg (f_j(t) - f_target)
    std::vector<float> running_rate;  // [lane][neuron]: spikes per step, kept across examples as mlGeNN
    std::vector<float> filtered;      // scratch [lane][step][neuron]: the reverse-filtered postsynaptic factor
    NeuronBiases bias;                // the output's, when trained

    std::uint32_t spike_id(std::size_t lane, std::size_t r) const { return spikes[lane][r]; }
};

template <class Conn>
struct EPropConnectionBuffers {
    Delta::Dynamics synapse{};
    detail::ConnectionStorage storage;
    std::vector<float> in_syn;                 // [lane][post]
    mutable std::vector<std::vector<float>> gradient;  // per group of lanes (summed on first read, see TrainingSimulatorBase)
    std::vector<std::uint64_t> events;         // [lane]
};

// The CPU e-prop simulator (Bellec et al. 2020, "A solution to the learning
// dilemma for recurrent networks of spiking neurons", Nat. Commun. 11:3625;
// mlGeNN's EPropCompiler). Hidden LIF/ALIF populations with Delta synapses,
// one LI output population, symmetric feedback (B = the output weights).
//
// The e-prop update of a weight i -> j over an example is
//   dW_ji = sum_t L_j(t) ebar_ji(t-1) + c_reg (f_j(t) - f_target) e_ji(t),
//   e_ji(t) = psi_j(t) (zbar_i(t-1) - beta eps_ji(t)),  ebar = kappa-filtered e,
// with zbar_i the alpha-filtered presynaptic spike train, L_j(t) = sum_k B_jk E_k(t)
// and E_k(t) the output error. Every factor of e_ji is either presynaptic
// (zbar_i, a sum over i's spikes) or postsynaptic (psi_j, eps's coefficients,
// L_j), and the weights change only between batches. So the same sum is
// accumulated here at presynaptic spikes, with the postsynaptic factors
// filtered once per neuron in reverse time (docs/eprop.md): the work is
// steps x neurons plus spikes x synapses, not steps x synapses, and sparse
// connections cost their existing synapses only.
// tests/eprop_test.cpp compares the result with the online per-synapse traces.
template <class Net>
class EPropSimulator : public TrainingSimulatorBase<Net, EPropPopulationBuffers, EPropConnectionBuffers> {
    using Base = TrainingSimulatorBase<Net, EPropPopulationBuffers, EPropConnectionBuffers>;

public:
    using Base::num_connections, Base::num_populations;
    static constexpr std::size_t output_index = std::size_t(Net::first_readout() >= 0 ? Net::first_readout() : 0);
    using OutputPopulation = typename Net::template population_type<output_index>;
    static constexpr std::size_t num_outputs = OutputPopulation::size;

    EPropSimulator(const Net& net, const SimulationOptions& options) : Base(net, options) {
        const std::size_t lanes = this->options_.batch_size;
        const std::size_t steps = std::size_t(this->options_.example_timesteps);
        const float dt = this->options_.dt;
        for_each_buffer(this->populations_, [&]<std::size_t P>(auto& b) {
            using Pop = typename Net::template population_type<P>;
            using Model = typename Pop::neuron_type;
            const auto& pop = this->net_.template population<P>();
            pop.neuron.validate(name_view<Pop::name>);
            b.spikes.assign(lanes, {});
            b.step_start.assign(lanes, std::vector<std::uint32_t>(steps + 1, 0));
            b.queue.assign(lanes * Pop::size, 0);
            if constexpr (is_input_model<Model>) {
                b.input.allocate(pop.neuron, dt, lanes);
            } else {
                b.dynamics = pop.neuron.dynamics(dt);
                b.readout_dynamics = pop.readout.dynamics(dt, this->options_.example_timesteps);
                b.initial = pop.neuron.initial_state();
                for (auto& v : b.variables) v.assign(lanes * Pop::size, 0.0f);
                b.readout.assign(lanes * Pop::size, 0.0f);
                b.history.assign(lanes * steps * Pop::size, 0.0f);  // psi (hidden) or V (output) per step
                if constexpr (is_spiking_model<Model>) {
                    b.rate_drive.assign(lanes * steps * Pop::size, 0.0f);
                    b.running_rate.assign(lanes * Pop::size, -1.0f);  // < 0: not started (set to f_target)
                    b.filtered.assign(lanes * steps * Pop::size, 0.0f);
                }
            }
        });
        for_each_buffer(this->connections_, [&]<std::size_t C>(auto& b) {
            using Conn = typename Net::template connection_type<C>;
            const auto& c = this->net_.template connection<C>();
            b.storage = detail::build_connection(c.connectivity, Conn::pre_type::size, Conn::post_type::size,
                                                 this->options_.seed, C, Conn::name.str());
            b.in_syn.assign(lanes * Conn::post_type::size, 0.0f);
            b.events.assign(lanes, 0);
        });
        errors_.assign(lanes * steps * num_outputs, 0.0f);
    }

    void set_regularisation(const RateRegularisation& r) { regularisation_ = r; }

    // Makes the output's bias a trained per-neuron parameter (mlGeNN's
    // train_output_bias): it starts at the biases set so far (the model's
    // bias when none were), and learn() adds dL/db to output_bias_gradient().
    void train_output_bias() {
        auto& out = std::get<output_index>(this->populations_);
        if (!out.bias.per_neuron()) out.bias.values.assign(num_outputs, out.dynamics.bias);
        bias_gradient_.assign(num_outputs, 0.0f);
    }
    bool trains_output_bias() const { return !bias_gradient_.empty(); }
    // The output's biases for an optimiser to change in place.
    std::span<float> mutable_output_biases() { return std::get<output_index>(this->populations_).bias.values; }
    std::span<const float> output_bias_gradient() const { return bias_gradient_; }
    void zero_gradients() {
        Base::zero_gradients();
        std::fill(bias_gradient_.begin(), bias_gradient_.end(), 0.0f);
    }

    // State beyond weights and optimiser that training carries from batch to
    // batch, for checkpoints: each hidden population's running firing rate,
    // [lane][neuron] ("running-rate-<population>"; < 0: not started yet).
    std::vector<std::pair<std::string, std::vector<float>>> training_state() const {
        std::vector<std::pair<std::string, std::vector<float>>> state;
        for_each_buffer(this->populations_, [&]<std::size_t P>(const auto& b) {
            using Model = typename Net::template population_type<P>::neuron_type;
            if constexpr (is_spiking_model<Model> && !is_input_model<Model>)
                state.emplace_back("running-rate-" + Net::template population_type<P>::name.str(), b.running_rate);
        });
        return state;
    }
    // Restores one array of training_state(); the size must match (same network and batch size).
    void set_training_state(const std::string& name, std::vector<float> values) {
        bool found = false;
        for_each_buffer(this->populations_, [&]<std::size_t P>(auto& b) {
            using Pop = typename Net::template population_type<P>;
            if constexpr (is_spiking_model<typename Pop::neuron_type> && !is_input_model<typename Pop::neuron_type>) {
                if (name != "running-rate-" + Pop::name.str()) return;
                if (values.size() != b.running_rate.size())
                    detail::throw_invalid("training state '", name, "': expected ", b.running_rate.size(),
                                          " values (batch_size x neurons), got ", values.size());
                b.running_rate = std::move(values);
                found = true;
            }
        });
        if (!found) detail::throw_invalid("training state '", name, "': no such array in this e-prop network");
    }

    void run() {
        FlushDenormalsGuard flush;
        this->prepare_recording();
        this->pool_.parallel_for(this->active_lanes_, [&](std::size_t lane) { forward_lane(lane); });
        this->ran_ = true;
    }

    template <std::size_t P>
    void readout(std::span<float> out) const {
        using Pop = typename Net::template population_type<P>;
        static_assert(Pop::has_readout, "spikegraph: this population has no readout");
        const auto& b = std::get<P>(this->populations_);
        for (std::size_t i = 0; i < this->active_lanes_ * Pop::size; ++i) out[i] = b.readout_dynamics.result(b.readout[i]);
    }

    // The per-step loss of the last run (sum over its examples of the mean over
    // steps) and, with accumulate, the e-prop update of every connection added
    // to the gradients. The error E_k(t) is dL/dV_k(t) of that loss, divided by
    // batch (the gradient of the batch mean).
    double learn(const Loss& loss, std::span<const std::int32_t> labels, std::size_t batch, bool accumulate = true) {
        if (!this->ran_) detail::throw_invalid("e-prop learn() called before a forward run()");
        if (labels.size() != this->active_lanes_)
            detail::throw_invalid("e-prop: got ", labels.size(), " labels for ", this->active_lanes_, " examples");
        FlushDenormalsGuard flush;
        std::vector<double> lane_loss(this->active_lanes_, 0.0);
        for (std::size_t lane = 0; lane < this->active_lanes_; ++lane)
            lane_loss[lane] = output_errors(loss, lane, std::size_t(labels[lane]), batch);
        if (accumulate) {
            this->accumulate_gradients([&](std::size_t lane, std::size_t group) { backward_lane(lane, group); });
            if (trains_output_bias()) {
                const std::size_t per_lane = std::size_t(this->options_.example_timesteps) * num_outputs;
                for (std::size_t lane = 0; lane < this->active_lanes_; ++lane)
                    eprop_bias_gradient(errors_.data() + lane * per_lane, std::size_t(this->options_.example_timesteps),
                                        num_outputs, std::get<output_index>(this->populations_).dynamics.alpha,
                                        bias_gradient_.data());
            }
        }
        double total = 0.0;
        for (double l : lane_loss) total += l;
        return total;
    }

private:
    // ---- forward ------------------------------------------------------------

    void forward_lane(std::size_t lane) {
        const int steps = this->options_.example_timesteps;
        for_each_buffer(this->populations_, [&]<std::size_t P>(auto& b) {
            using Pop = typename Net::template population_type<P>;
            b.spikes[lane].clear();
            if constexpr (EPropPopulationBuffers<Pop, P>::is_input) {
                b.input.reset_lane(lane);
            } else {
                const std::size_t first = lane * Pop::size;
                for (std::size_t v = 0; v < b.variables.size(); ++v)
                    std::fill_n(b.variables[v].begin() + std::ptrdiff_t(first), Pop::size, b.initial[int(v)]);
                std::fill_n(b.readout.begin() + std::ptrdiff_t(first), Pop::size, b.readout_dynamics.initial);
            }
        });
        for_each_buffer(this->connections_, [&]<std::size_t C>(auto& b) {
            using Conn = typename Net::template connection_type<C>;
            std::fill_n(b.in_syn.begin() + std::ptrdiff_t(lane * Conn::post_type::size), Conn::post_type::size, 0.0f);
            b.events[lane] = 0;
        });
        for (int step = 0; step < steps; ++step) {
            for_each_buffer(this->populations_, [&]<std::size_t P>(auto&) { update_population<P>(lane, step); });
            for_each_buffer(this->connections_, [&]<std::size_t C>(auto&) { propagate<C>(lane, step); });
        }
        for_each_buffer(this->populations_, [&]<std::size_t P>(auto& b) {
            b.step_start[lane][std::size_t(steps)] = std::uint32_t(b.spikes[lane].size());
        });
        this->record_lane(lane);
    }

    template <std::size_t P>
    void update_population(std::size_t lane, int step) {
        using Pop = typename Net::template population_type<P>;
        using Model = typename Pop::neuron_type;
        auto& b = std::get<P>(this->populations_);
        auto& spikes = b.spikes[lane];
        b.step_start[lane][std::size_t(step)] = std::uint32_t(spikes.size());
        if constexpr (is_input_model<Model>) {
            std::uint32_t* queue = b.queue.data() + lane * Pop::size;
            std::uint32_t count = 0;
            b.input.emit(lane, step, this->options_.seed, 0, Pop::size, queue, count);
            spikes.insert(spikes.end(), queue, queue + count);
        } else {
            float* history = b.history.data() + (lane * std::size_t(this->options_.example_timesteps) + std::size_t(step)) * Pop::size;
            [[maybe_unused]] const float rate_decay = float(std::exp(-double(this->options_.dt) / regularisation_.tau_reg));
            [[maybe_unused]] const float target = regularisation_.f_target * this->options_.dt / 1000.0f;  // spikes per step
            const float* biases = b.bias.data();
            const auto readout_dynamics = readout_at_step(b.readout_dynamics, step);
            for (std::size_t i = 0; i < Pop::size; ++i) {
                const std::size_t index = lane * Pop::size + i;
                NeuronState<Model> state;
                for (std::size_t v = 0; v < b.variables.size(); ++v) state[int(v)] = b.variables[v][index];
                float unused_rate = 0.0f, unused_drive = 0.0f;
                float& rate = is_spiking_model<Model> ? b.running_rate[index] : unused_rate;
                float& drive = is_spiking_model<Model>
                                   ? b.rate_drive[(lane * std::size_t(this->options_.example_timesteps) + std::size_t(step)) * Pop::size + i]
                                   : unused_drive;
                if (EPropNeuron<Model, typename Pop::readout_type>::forward(neuron_dynamics(b.dynamics, biases, i),
                                                                           readout_dynamics, state,
                                                                           synaptic_input<P>(lane, i), b.readout[index], step,
                                                                           rate, rate_decay, target, regularisation_.c_reg,
                                                                           history[i], drive))
                    spikes.push_back(std::uint32_t(i));
                for (std::size_t v = 0; v < b.variables.size(); ++v) b.variables[v][index] = state[int(v)];
            }
        }
    }

    template <std::size_t P>
    float synaptic_input(std::size_t lane, std::size_t neuron) {
        float isyn = 0.0f;
        for_each_buffer(this->connections_, [&]<std::size_t C>(auto& b) {
            if constexpr (Net::connection_post[C] == int(P)) {
                constexpr std::size_t post = Net::template connection_type<C>::post_type::size;
                isyn += b.synapse.inject(b.in_syn[lane * post + neuron]);
            }
        });
        return isyn;
    }

    template <std::size_t C>
    void propagate(std::size_t lane, int step) {
        using Conn = typename Net::template connection_type<C>;
        constexpr std::size_t pre_index = std::size_t(Net::connection_pre[C]);
        constexpr std::size_t num_post = Conn::post_type::size;
        const auto& pre = std::get<pre_index>(this->populations_);
        auto& b = std::get<C>(this->connections_);
        float* in_syn = b.in_syn.data() + lane * num_post;
        const auto& spikes = pre.spikes[lane];
        std::uint64_t events = 0;
        for (std::size_t s = pre.step_start[lane][std::size_t(step)]; s < spikes.size(); ++s) {
            for_each_synapse<Conn::connectivity_type::kind>(b.storage, num_post, spikes[s],
                                                            [&](std::size_t k, std::size_t, float w) { in_syn[k] += w; });
            events += synapse_count<Conn::connectivity_type::kind>(b.storage, num_post, spikes[s]);
        }
        b.events[lane] += events;
    }

    // ---- learning -----------------------------------------------------------

    // E_k(t) = dL/dV_k(t) for one example; returns its loss (mean over steps).
    double output_errors(const Loss& loss, std::size_t lane, std::size_t label, std::size_t batch) {
        const std::size_t steps = std::size_t(this->options_.example_timesteps);
        const auto& out = std::get<output_index>(this->populations_);
        return eprop_output_errors<num_outputs>(loss, out.history.data() + lane * steps * num_outputs, steps, label, batch,
                                                errors_.data() + lane * steps * num_outputs);
    }

    void backward_lane(std::size_t lane, std::size_t group) {
        const std::size_t steps = std::size_t(this->options_.example_timesteps);
        const auto& out = std::get<output_index>(this->populations_);
        const float kappa = out.dynamics.alpha;
        const float out_scale = out.dynamics.input_scale;
        const float* error = errors_.data() + lane * steps * num_outputs;
        // Reverse-filtered output error: Etilde_k(s) = out_scale sum_{t>s} kappa^(t-1-s) E_k(t),
        // what a presynaptic spike in step s adds to dL/dw through V_k.
        std::vector<float> error_tilde(steps * num_outputs);
        eprop_filter_errors(error, steps, num_outputs, kappa, out_scale, error_tilde.data());
        for_each_buffer(this->populations_, [&]<std::size_t P>(auto&) {
            using Model = typename Net::template population_type<P>::neuron_type;
            if constexpr (is_spiking_model<Model> && !is_input_model<Model>) hidden_factor<P>(lane, error, kappa);
        });
        for_each_buffer(this->connections_, [&]<std::size_t C>(auto& b) {
            using Conn = typename Net::template connection_type<C>;
            constexpr std::size_t pre_index = std::size_t(Net::connection_pre[C]);
            constexpr std::size_t post_index = std::size_t(Net::connection_post[C]);
            constexpr std::size_t num_post = Conn::post_type::size;
            const auto& pre = std::get<pre_index>(this->populations_);
            const float* factor = post_index == output_index ? error_tilde.data()
                                                             : std::get<post_index>(this->populations_).filtered.data() +
                                                                   lane * steps * num_post;
            float* gradient = b.gradient[group].data();
            const auto& spikes = pre.spikes[lane];
            const auto& start = pre.step_start[lane];
            for (std::size_t s = 0; s < steps; ++s) {
                const float* row = factor + s * num_post;
                for (std::uint32_t r = start[s]; r < start[s + 1]; ++r)
                    for_each_synapse<Conn::connectivity_type::kind>(
                        b.storage, num_post, spikes[r], [&](std::size_t k, std::size_t e, float) { gradient[e] += row[k]; });
            }
        });
    }

    // For hidden population P: filtered[s][j] = what a presynaptic spike in
    // step s adds to dL/dw_ji, from the learning signal, psi, the adaptation
    // trace (ALIF) and the rate regulariser (the derivation is in docs/eprop.md).
    template <std::size_t P>
    void hidden_factor(std::size_t lane, const float* error, float kappa) {
        using Pop = typename Net::template population_type<P>;
        using Model = typename Pop::neuron_type;
        constexpr std::size_t n = Pop::size;
        const std::size_t steps = std::size_t(this->options_.example_timesteps);
        auto& b = std::get<P>(this->populations_);
        const float* psi = b.history.data() + lane * steps * n;
        const float* rate = b.rate_drive.data() + lane * steps * n;
        float* filtered = b.filtered.data() + lane * steps * n;
        const float out_scale = std::get<output_index>(this->populations_).dynamics.input_scale;
        const float alpha = b.dynamics.alpha;
        const float scale = b.dynamics.input_scale;
        float beta = 0.0f, rho = 0.0f;
        if constexpr (std::is_same_v<Model, AdaptiveLeakyIntegrateFire>) beta = b.dynamics.beta, rho = b.dynamics.rho;
        // Per neuron j: its learning signal L_j(t) = sum_k B_jk E_k(t) over all
        // steps (B = the output weights: symmetric e-prop), contiguous in t,
        // then the backward scan over steps s that filters it:
        // M(s) = sum_{t>s} kappa^(t-1-s) L(t) + regulariser(s);
        // q(s) = psi(s) (M(s) - beta R(s)), R(s) = P(s+1) + (rho - psi(s+1) beta) R(s+1), P = M psi;
        // filtered(s) = scale sum_{u>s} alpha^(u-1-s) q(u).
        std::vector<float> error_by_output(num_outputs * steps);  // E transposed, [k][t]: the loops below run over t
        for (std::size_t t = 0; t < steps; ++t)
            for (std::size_t k = 0; k < num_outputs; ++k) error_by_output[k * steps + t] = error[t * num_outputs + k];
        std::vector<float> signal(steps);
        std::vector<std::pair<std::uint32_t, float>> row;  // (output k, out_scale w_jk) of one output connection
        for (std::size_t j = 0; j < n; ++j) {
            std::fill(signal.begin(), signal.end(), 0.0f);
            for_each_buffer(this->connections_, [&]<std::size_t C>(auto& c) {
                if constexpr (Net::connection_pre[C] == int(P) && Net::connection_post[C] == int(output_index)) {
                    using Conn = typename Net::template connection_type<C>;
                    row.clear();
                    for_each_synapse<Conn::connectivity_type::kind>(c.storage, num_outputs, std::uint32_t(j),
                                                                    [&](std::size_t k, std::size_t, float w) {
                                                                        row.emplace_back(std::uint32_t(k), out_scale * w);
                                                                    });
                    // Outputs in row order for every t, as a dot product per t would add them.
                    for (const auto& [k, w] : row) {
                        const float* e = error_by_output.data() + std::size_t(k) * steps;
                        for (std::size_t t = 0; t < steps; ++t) signal[t] += w * e[t];
                    }
                }
            });
            eprop_filter_signal(signal.data(), 1, psi + j, rate + j, n, steps, kappa, alpha, scale, beta, rho, filtered + j);
        }
    }

    RateRegularisation regularisation_{};
    std::vector<float> errors_;         // [lane][step][output]
    std::vector<float> bias_gradient_;  // dL/db of the output's biases; empty unless trained
};

}  // namespace spikegraph::cpu_backend
