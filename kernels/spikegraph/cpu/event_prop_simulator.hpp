#pragma once
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <tuple>
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
#include <spikegraph/graph/network.hpp>
#include <spikegraph/model/leaky_integrate.hpp>
#include <spikegraph/model/leaky_integrate_fire.hpp>
#include <spikegraph/model/precise_timing.hpp>
#include <spikegraph/model/readout.hpp>
#include <spikegraph/model/synapse.hpp>
#include <spikegraph/train/loss.hpp>

namespace spikegraph::cpu_backend {

// The CPU EventProp simulator (Wunderlich & Pehle 2021, "Event-based
// backpropagation can compute exact gradients for spiking neural networks",
// Sci. Rep. 11:12829). The forward pass is the grid model of docs/dynamics.md
// with spike times placed inside their step (model/precise_timing.hpp); it
// keeps per spike only its neuron, offset and the two derivatives of the
// offset, so memory grows with spikes, not with steps x neurons. The backward
// pass runs the adjoint of every step in reverse: between spikes the adjoints
// decay with the same constants as the state (alpha, beta), at spikes they
// jump, and weight gradients are accumulated at presynaptic spikes. The
// gradient is that of the simulated loss exactly (tests/event_prop_gradient_test.cpp
// checks it against finite differences).
//
// It implements the backend contract of docs/architecture.md (so evaluate,
// predict, weights and checkpoints work on it) plus backward() and gradients.
template <class Net>
class EventPropSimulator {
public:
    static constexpr std::size_t num_populations = Net::num_populations;
    static constexpr std::size_t num_connections = Net::num_connections;

    struct SpikeRecord {
        std::uint32_t id;
        float offset;     // time of the spike inside its step, (0, dt]
        float d_v_start;  // d offset / d V at the start of the step
        float d_v_end;    // d offset / d V when it crossed
    };

    EventPropSimulator(const Net& net, const SimulationOptions& options)
        : net_(net), options_(options), pool_(options.num_threads) {
        options_.validate();
        const std::size_t lanes = options_.batch_size;
        const float dt = options_.dt;
        for_each_population([&]<std::size_t P>(auto& b) {
            using Pop = typename Net::template population_type<P>;
            using Model = typename Pop::neuron_type;
            const auto& pop = net_.template population<P>();
            pop.neuron.validate(name_view<Pop::name>);
            b.records.assign(lanes, {});
            b.step_start.assign(lanes, std::vector<std::uint32_t>(std::size_t(options_.example_timesteps) + 1, 0));
            b.spike_counts.assign(lanes * Pop::size, 0);
            if constexpr (is_input_model<Model>) {
                b.input.allocate(pop.neuron, dt, lanes);
                b.queue.assign(lanes * Pop::size, 0);
            } else {
                if constexpr (std::is_same_v<Model, LeakyIntegrateFire>) {
                    if (pop.neuron.tau_refrac != 0.0f)
                        detail::throw_invalid("population '", name_view<Pop::name>,
                                              "': EventProp needs tau_refrac = 0 (no refractory period), got ",
                                              pop.neuron.tau_refrac);
                }
                b.dynamics = pop.neuron.dynamics(dt);
                b.readout_dynamics = pop.readout.dynamics(dt, options_.example_timesteps);
                b.initial = pop.neuron.initial_state();
                for (auto& v : b.variables) v.assign(lanes * Pop::size, 0.0f);
                b.readout.assign(lanes * Pop::size, 0.0f);
                b.readout_step.assign(lanes * Pop::size, -1);
                b.lambda_v.assign(lanes * Pop::size, 0.0f);
                b.v_bar.assign(lanes * Pop::size, 0.0f);
                b.u_bar.assign(lanes * Pop::size, 0.0f);
            }
        });
        for_each_connection([&]<std::size_t C>(auto& b) {
            using Conn = typename Net::template connection_type<C>;
            using Post = typename Conn::post_type;
            const auto& c = net_.template connection<C>();
            c.synapse.validate(name_view<Conn::name>);
            b.synapse = c.synapse.dynamics(dt);
            const auto& post = net_.template population<std::size_t(Net::connection_post[C])>().neuron;
            const auto post_dynamics = post.dynamics(dt);
            b.arrival = ExponentialArrival{dt,
                                           c.synapse.tau,
                                           post.tau_mem,
                                           post_dynamics.input_scale * b.synapse.scale,
                                           post_dynamics.alpha,
                                           b.synapse.decay};
            b.storage = detail::build_connection(c.connectivity, Conn::pre_type::size, Post::size, options_.seed, C,
                                                 Conn::name.str());
            b.in_syn.assign(lanes * Post::size, 0.0f);
            b.lambda_j.assign(lanes * Post::size, 0.0f);
            b.events.assign(lanes, 0);
        });
        spike_recording_.fill(false);
    }

    const SimulationOptions& options() const { return options_; }
    const Net& network() const { return net_; }
    std::size_t active_lanes() const { return active_lanes_; }

    void set_regularisation(const SpikeRegularisation& r) { regularisation_ = r; }

    template <std::size_t P>
    void set_input(const InputBatch& batch) {
        using Pop = typename Net::template population_type<P>;
        static_assert(is_input_model<typename Pop::neuron_type>, "spikegraph: set_input needs an input population");
        if (batch.lanes() > options_.batch_size)
            detail::throw_invalid("population '", name_view<Pop::name>, "': batch of ", batch.lanes(),
                                  " examples exceeds batch_size ", options_.batch_size);
        active_lanes_ = batch.lanes();
        for (std::size_t lane = 0; lane < batch.lanes(); ++lane) std::get<P>(populations_).input.set_lane(lane, batch);
    }

    // Forward pass of the active lanes, keeping what backward() needs.
    void run() {
        FlushDenormalsGuard flush;
        prepare_recording();
        pool_.parallel_for(active_lanes_, [&](std::size_t lane) { forward_lane(lane); });
        ran_ = true;
    }

    template <std::size_t P>
    void readout(std::span<float> out) const {
        using Pop = typename Net::template population_type<P>;
        static_assert(Pop::has_readout, "spikegraph: this population has no readout");
        const auto& b = std::get<P>(populations_);
        for (std::size_t i = 0; i < active_lanes_ * Pop::size; ++i) {
            if constexpr (std::is_same_v<typename Pop::readout_type, FirstSpikeTime>) out[i] = b.readout[i];
            else out[i] = b.readout_dynamics.result(b.readout[i]);
        }
    }

    // Backward pass after run(): readout_gradient holds dL/dy for population
    // P's readout y, [lane][neuron] over the active lanes. Adds dL/dw of every
    // connection, summed over lanes, to the gradients.
    template <std::size_t P>
    void backward(std::span<const float> readout_gradient) {
        using Pop = typename Net::template population_type<P>;
        static_assert(Pop::has_readout, "spikegraph: backward needs the output population's readout");
        if (!ran_) detail::throw_invalid("EventProp backward() called before a forward run()");
        if (readout_gradient.size() != active_lanes_ * Pop::size)
            detail::throw_invalid("population '", name_view<Pop::name>, "': readout gradient has ", readout_gradient.size(),
                                  " values, expected ", active_lanes_ * Pop::size);
        FlushDenormalsGuard flush;
        // Lanes are summed in a fixed number of groups (lane l into group l % groups) and the
        // groups in a fixed order, so the result does not depend on the number of threads.
        const std::size_t groups = gradient_groups();
        ensure_gradient_groups(groups);
        for_each_population([&]<std::size_t Q>(auto& b) {
            using Pop = typename Net::template population_type<Q>;
            if constexpr (!PopulationBuffers<Pop, Q>::is_input) {
                b.regularisation_drive.assign(Pop::size, 0.0f);
                if (!regularisation_.active() || Q == P) return;
                for (std::size_t lane = 0; lane < active_lanes_; ++lane)
                    for (std::size_t i = 0; i < Pop::size; ++i)
                        b.regularisation_drive[i] += float(b.spike_counts[lane * Pop::size + i]);
                for (auto& d : b.regularisation_drive) d = regularisation_.drive(d / float(active_lanes_), active_lanes_);
            }
        });
        pool_.parallel_for(groups, [&](std::size_t group) {
            for (std::size_t lane = group; lane < active_lanes_; lane += groups)
                backward_lane<P>(lane, group, readout_gradient.subspan(lane * Pop::size, Pop::size));
        });
        // Sum the groups into group 0, in parallel over blocks of weights.
        for_each_connection([&]<std::size_t C>(auto& b) {
            const std::size_t n = b.storage.weights.size();
            constexpr std::size_t block = 4096;
            pool_.parallel_for((n + block - 1) / block, [&](std::size_t k) {
                const std::size_t end = std::min(n, (k + 1) * block);
                for (std::size_t g = 1; g < groups; ++g) {
                    float* target = b.gradient[0].data();
                    const float* source = b.gradient[g].data();
                    for (std::size_t i = k * block; i < end; ++i) target[i] += source[i];
                    std::fill(b.gradient[g].begin() + std::ptrdiff_t(k * block), b.gradient[g].begin() + std::ptrdiff_t(end),
                              0.0f);
                }
            });
        });
    }

    // dL/dw of connection C accumulated since zero_gradients(), in the layout of its weights.
    template <std::size_t C>
    std::span<const float> gradient() const {
        const auto& b = std::get<C>(connections_);
        if (b.gradient.empty()) return {};
        return b.gradient[0];
    }
    template <std::size_t C>
    std::span<float> mutable_gradient() {
        auto& b = std::get<C>(connections_);
        ensure_gradient_groups(1);
        return b.gradient[0];
    }
    void zero_gradients() {
        for_each_connection([&]<std::size_t C>(auto& b) {
            for (auto& g : b.gradient) std::fill(g.begin(), g.end(), 0.0f);
        });
    }

    template <std::size_t C>
    const detail::ConnectionStorage& connection_storage() const {
        return std::get<C>(connections_).storage;
    }
    template <std::size_t C>
    std::span<float> mutable_weights() {
        return std::get<C>(connections_).storage.weights;
    }
    template <std::size_t C>
    void set_weights(std::span<const float> weights) {
        using Conn = typename Net::template connection_type<C>;
        auto& storage = std::get<C>(connections_).storage;
        if (weights.size() != storage.weights.size())
            detail::throw_invalid("connection '", name_view<Conn::name>, "': got ", weights.size(), " weights, expected ",
                                  storage.weights.size());
        std::copy(weights.begin(), weights.end(), storage.weights.begin());
    }
    template <std::size_t C>
    void set_connection_storage(detail::ConnectionStorage storage) {
        using Conn = typename Net::template connection_type<C>;
        detail::check_connection_storage(storage, Conn::connectivity_type::kind, Conn::pre_type::size,
                                         Conn::post_type::size, "connection '" + Conn::name.str() + "'");
        auto& b = std::get<C>(connections_);
        const bool resized = storage.weights.size() != b.storage.weights.size();
        b.storage = std::move(storage);
        if (resized)
            for (auto& g : b.gradient) g.assign(b.storage.weights.size(), 0.0f);
    }

    // Recording: spikes (with their step) per population; variable recording
    // is not offered by this simulator.
    void stop_recording() { spike_recording_.fill(false); }
    void record_spikes(std::size_t population, bool enabled) { spike_recording_.at(population) = enabled; }
    const RecordedSpikes& recorded_spikes(std::size_t population) const { return recorded_spikes_.at(population); }
    void record_variable(std::size_t, std::size_t, bool enabled) {
        if (enabled)
            detail::throw_invalid("variable recording is not available on the EventProp simulator; "
                                  "record with an InferenceCompiler model that has the same weights");
    }
    const std::vector<float>& recorded_variable(std::size_t population, std::size_t variable) const {
        detail::throw_invalid("variable ", variable, " of population ", population, " is not being recorded");
    }

    // Spikes of population P in the last run, per lane, and per neuron summed over lanes.
    template <std::size_t P>
    std::span<const std::uint64_t> spike_totals() const {
        const auto& b = std::get<P>(populations_);
        totals_scratch_.assign(active_lanes_, 0);
        for (std::size_t lane = 0; lane < active_lanes_; ++lane) totals_scratch_[lane] = b.records[lane].size();
        return totals_scratch_;
    }
    template <std::size_t P>
    std::span<const std::uint32_t> neuron_spike_counts() const {
        using Pop = typename Net::template population_type<P>;
        return std::span<const std::uint32_t>(std::get<P>(populations_).spike_counts).first(active_lanes_ * Pop::size);
    }
    std::uint64_t synaptic_events() const {
        std::uint64_t total = 0;
        for_each_connection_const([&]<std::size_t C>(const auto& b) {
            for (std::size_t lane = 0; lane < active_lanes_; ++lane) total += b.events[lane];
        });
        return total;
    }
    // Spike records kept by the last run (all lanes), a measure of the memory EventProp needs.
    std::size_t stored_spikes() const {
        std::size_t total = 0;
        for_each_population_const([&]<std::size_t P>(const auto& b) {
            for (std::size_t lane = 0; lane < active_lanes_; ++lane) total += b.records[lane].size();
        });
        return total;
    }

private:
    template <class Pop, std::size_t Index>
    struct PopulationBuffers {
        using Model = typename Pop::neuron_type;
        static constexpr bool is_input = is_input_model<Model>;
        std::vector<std::vector<SpikeRecord>> records;           // per lane, in step order
        std::vector<std::vector<std::uint32_t>> step_start;      // per lane: step n's records start at [n]
        std::vector<std::uint32_t> spike_counts;                 // [lane][neuron]
        // input populations
        std::conditional_t<is_input, InputSource<Pop, Index>, std::monostate> input;
        std::vector<std::uint32_t> queue;
        // neuron populations
        typename Model::Dynamics dynamics{};
        typename Pop::readout_type::Dynamics readout_dynamics{};
        NeuronState<Model> initial{};
        std::array<std::vector<float>, Model::Variables::size> variables;
        std::vector<float> readout;
        std::vector<std::int32_t> readout_step;  // MaxVar: step of the maximum; FirstSpikeTime: record of the first spike
        std::vector<float> lambda_v;             // adjoint of V at the start of the current backward step
        std::vector<float> v_bar;                // scratch: adjoint of V after integration
        std::vector<float> u_bar;                // scratch: adjoint of each spike offset of the step
        std::vector<float> regularisation_drive; // per neuron: dL/dV added at each of its spikes
    };

    template <class Conn>
    struct ConnectionBuffers {
        typename Exponential::Dynamics synapse{};
        ExponentialArrival arrival{};
        detail::ConnectionStorage storage;
        std::vector<float> in_syn;                 // [lane][post]
        std::vector<float> lambda_j;               // adjoint of in_syn, [lane][post]
        std::vector<std::vector<float>> gradient;  // per group of lanes
        std::vector<std::uint64_t> events;         // [lane]
    };

    template <class F>
    void for_each_population(F&& f) { for_each_buffer(populations_, f); }
    template <class F>
    void for_each_population_const(F&& f) const { for_each_buffer(populations_, f); }
    template <class F>
    void for_each_connection(F&& f) { for_each_buffer(connections_, f); }
    template <class F>
    void for_each_connection_const(F&& f) const { for_each_buffer(connections_, f); }

    std::size_t gradient_groups() const { return std::min<std::size_t>(8, options_.batch_size); }

    void ensure_gradient_groups(std::size_t groups) {
        for_each_connection([&]<std::size_t C>(auto& b) {
            while (b.gradient.size() < groups) b.gradient.emplace_back(b.storage.weights.size(), 0.0f);
        });
    }

    // ---- forward ------------------------------------------------------------

    void forward_lane(std::size_t lane) {
        const int steps = options_.example_timesteps;
        for_each_population([&]<std::size_t P>(auto& b) {
            using Pop = typename Net::template population_type<P>;
            b.records[lane].clear();
            std::fill_n(b.spike_counts.begin() + std::ptrdiff_t(lane * Pop::size), Pop::size, 0u);
            if constexpr (PopulationBuffers<Pop, P>::is_input) {
                b.input.reset_lane(lane);
            } else {
                const std::size_t first = lane * Pop::size;
                for (std::size_t v = 0; v < b.variables.size(); ++v)
                    std::fill_n(b.variables[v].begin() + std::ptrdiff_t(first), Pop::size, b.initial[int(v)]);
                std::fill_n(b.readout.begin() + std::ptrdiff_t(first), Pop::size, b.readout_dynamics.initial);
                std::fill_n(b.readout_step.begin() + std::ptrdiff_t(first), Pop::size, -1);
            }
        });
        for_each_connection([&]<std::size_t C>(auto& b) {
            using Conn = typename Net::template connection_type<C>;
            std::fill_n(b.in_syn.begin() + std::ptrdiff_t(lane * Conn::post_type::size), Conn::post_type::size, 0.0f);
            b.events[lane] = 0;
        });
        for (int step = 0; step < steps; ++step) {
            for_each_population([&]<std::size_t P>(auto&) { update_population<P>(lane, step); });
            for_each_connection([&]<std::size_t C>(auto&) { propagate<C>(lane, step); });
        }
        for_each_population([&]<std::size_t P>(auto& b) {
            b.step_start[lane][std::size_t(steps)] = std::uint32_t(b.records[lane].size());
        });
        record_lane(lane);
    }

    template <std::size_t P>
    void update_population(std::size_t lane, int step) {
        using Pop = typename Net::template population_type<P>;
        using Model = typename Pop::neuron_type;
        using ReadoutType = typename Pop::readout_type;
        auto& b = std::get<P>(populations_);
        auto& records = b.records[lane];
        b.step_start[lane][std::size_t(step)] = std::uint32_t(records.size());
        std::uint32_t* counts = b.spike_counts.data() + lane * Pop::size;
        if constexpr (is_input_model<Model>) {
            std::uint32_t* queue = b.queue.data() + lane * Pop::size;
            std::uint32_t count = 0;
            b.input.emit(lane, step, options_.seed, 0, Pop::size, queue, count);
            for (std::uint32_t s = 0; s < count; ++s) {
                records.push_back({queue[s], options_.dt, 0.0f, 0.0f});
                ++counts[queue[s]];
            }
        } else {
            constexpr int readout_var = readout_variable_index<Model, ReadoutType>;
            const float dt = options_.dt;
            for (std::size_t i = 0; i < Pop::size; ++i) {
                const std::size_t index = lane * Pop::size + i;
                NeuronState<Model> state;
                for (std::size_t v = 0; v < b.variables.size(); ++v) state[int(v)] = b.variables[v][index];
                const float v_start = state[Model::V];
                const float isyn = synaptic_input<P>(lane, i);
                b.dynamics.integrate(state, isyn);
                if constexpr (readout_var >= 0) {
                    const float before = b.readout[index];
                    b.readout_dynamics.accumulate(b.readout[index], state[readout_var], step);
                    if constexpr (std::is_same_v<ReadoutType, MaxVar<ReadoutType::variable>>)
                        if (b.readout[index] != before) b.readout_step[index] = step;
                }
                if (b.dynamics.threshold(state)) {
                    if constexpr (is_spiking_model<Model>) {
                        const SpikeCrossing crossing =
                            interpolate_crossing(v_start, state[Model::V], b.dynamics.v_thresh, dt);
                        b.dynamics.precise_reset(state, crossing.offset);
                        if constexpr (std::is_same_v<ReadoutType, FirstSpikeTime>) {
                            if (b.readout_step[index] < 0) {
                                b.readout_step[index] = std::int32_t(records.size());
                                b.readout[index] = -(float(step) * dt + crossing.offset);
                            }
                        } else {
                            b.readout_dynamics.spike(b.readout[index], step);
                        }
                        records.push_back({std::uint32_t(i), crossing.offset, crossing.d_v_start, crossing.d_v_end});
                        ++counts[i];
                    }
                }
                for (std::size_t v = 0; v < b.variables.size(); ++v) b.variables[v][index] = state[int(v)];
            }
        }
    }

    template <std::size_t P>
    float synaptic_input(std::size_t lane, std::size_t neuron) {
        float isyn = 0.0f;
        for_each_connection([&]<std::size_t C>(auto& b) {
            if constexpr (Net::connection_post[C] == int(P)) {
                constexpr std::size_t post = Net::template connection_type<C>::post_type::size;
                isyn += b.synapse.inject(b.in_syn[lane * post + neuron]);
            }
        });
        return isyn;
    }

    template <std::size_t C, class F>
    void for_each_synapse(std::uint32_t id, F&& f) const {
        using Conn = typename Net::template connection_type<C>;
        cpu_backend::for_each_synapse<Conn::connectivity_type::kind>(std::get<C>(connections_).storage,
                                                                     Conn::post_type::size, id, f);
    }

    template <std::size_t C>
    void propagate(std::size_t lane, int step) {
        using Conn = typename Net::template connection_type<C>;
        constexpr std::size_t pre_index = std::size_t(Net::connection_pre[C]);
        constexpr std::size_t post_index = std::size_t(Net::connection_post[C]);
        constexpr std::size_t num_post = Conn::post_type::size;
        using PreModel = typename Conn::pre_type::neuron_type;
        const auto& pre = std::get<pre_index>(populations_);
        auto& post = std::get<post_index>(populations_);
        auto& b = std::get<C>(connections_);
        float* in_syn = b.in_syn.data() + lane * num_post;
        float* v = post.variables[0].data() + lane * num_post;
        const auto& records = pre.records[lane];
        const std::uint32_t first = pre.step_start[lane][std::size_t(step)];
        std::uint64_t events = 0;
        for (std::size_t r = first; r < records.size(); ++r) {
            const SpikeRecord& spike = records[r];
            if constexpr (is_input_model<PreModel>) {
                // Input spikes sit at the end of their step: the whole weight, no voltage.
                for_each_synapse<C>(spike.id, [&](std::size_t k, std::size_t, float w) { in_syn[k] += w; ++events; });
            } else {
                const auto f = b.arrival.factors(spike.offset);
                for_each_synapse<C>(spike.id, [&](std::size_t k, std::size_t, float w) {
                    in_syn[k] += w * f.current;
                    v[k] += w * f.voltage;
                    ++events;
                });
            }
        }
        b.events[lane] += events;
    }

    void record_lane(std::size_t lane) {
        for_each_population([&]<std::size_t P>(auto& b) {
            if (!spike_recording_[P]) return;
            auto& steps = recorded_spikes_[P].steps[lane];
            auto& ids = recorded_spikes_[P].ids[lane];
            steps.clear();
            ids.clear();
            const auto& start = b.step_start[lane];
            for (std::size_t step = 0; step + 1 < start.size(); ++step)
                for (std::uint32_t r = start[step]; r < start[step + 1]; ++r) {
                    steps.push_back(std::int32_t(step));
                    ids.push_back(b.records[lane][r].id);
                }
        });
    }

    // Sizes the recording buffers (callbacks switch recording on before run()).
    void prepare_recording() {
        for (std::size_t p = 0; p < num_populations; ++p) {
            if (!spike_recording_[p]) continue;
            recorded_spikes_[p].steps.assign(active_lanes_, {});
            recorded_spikes_[p].ids.assign(active_lanes_, {});
        }
    }

    // ---- backward -----------------------------------------------------------

    template <std::size_t Output>
    void backward_lane(std::size_t lane, std::size_t group, std::span<const float> output_gradient) {
        for_each_population([&]<std::size_t P>(auto& b) {
            using Pop = typename Net::template population_type<P>;
            if constexpr (!PopulationBuffers<Pop, P>::is_input)
                std::fill_n(b.lambda_v.begin() + std::ptrdiff_t(lane * Pop::size), Pop::size, 0.0f);
        });
        for_each_connection([&]<std::size_t C>(auto& b) {
            using Conn = typename Net::template connection_type<C>;
            std::fill_n(b.lambda_j.begin() + std::ptrdiff_t(lane * Conn::post_type::size), Conn::post_type::size, 0.0f);
        });
        for (int step = options_.example_timesteps - 1; step >= 0; --step) {
            for_each_population([&]<std::size_t P>(auto& b) {
                using Pop = typename Net::template population_type<P>;
                if constexpr (!PopulationBuffers<Pop, P>::is_input) {
                    const auto& start = b.step_start[lane];
                    std::fill_n(b.u_bar.begin() + std::ptrdiff_t(lane * Pop::size), start[step + 1] - start[step], 0.0f);
                }
            });
            for_each_connection([&]<std::size_t C>(auto&) { reverse_propagate<C>(lane, group, step); });
            for_each_population([&]<std::size_t P>(auto&) {
                if constexpr (!is_input_model<typename Net::template population_type<P>::neuron_type>)
                    reverse_update<P, Output>(lane, step, output_gradient);
            });
        }
    }

    // Adjoint of propagate(): with lambda of the targets at the end of the
    // step, each spike adds dL/dw for its synapses and gathers dL/d(offset).
    template <std::size_t C>
    void reverse_propagate(std::size_t lane, std::size_t group, int step) {
        using Conn = typename Net::template connection_type<C>;
        constexpr std::size_t pre_index = std::size_t(Net::connection_pre[C]);
        constexpr std::size_t post_index = std::size_t(Net::connection_post[C]);
        constexpr std::size_t num_post = Conn::post_type::size;
        using PreModel = typename Conn::pre_type::neuron_type;
        auto& pre = std::get<pre_index>(populations_);
        const auto& post = std::get<post_index>(populations_);
        auto& b = std::get<C>(connections_);
        const float* lambda_j = b.lambda_j.data() + lane * num_post;
        const float* lambda_v = post.lambda_v.data() + lane * num_post;
        float* gradient = b.gradient[group].data();
        const auto& records = pre.records[lane];
        const std::uint32_t first = pre.step_start[lane][std::size_t(step)];
        const std::uint32_t last = pre.step_start[lane][std::size_t(step) + 1];
        for (std::uint32_t r = first; r < last; ++r) {
            const SpikeRecord& spike = records[r];
            if constexpr (is_input_model<PreModel>) {
                for_each_synapse<C>(spike.id, [&](std::size_t k, std::size_t e, float) { gradient[e] += lambda_j[k]; });
            } else {
                const auto f = b.arrival.factors(spike.offset);
                float u_bar = 0.0f;
                for_each_synapse<C>(spike.id, [&](std::size_t k, std::size_t e, float w) {
                    gradient[e] += f.current * lambda_j[k] + f.voltage * lambda_v[k];
                    u_bar += w * (f.d_current_d_u * lambda_j[k] + f.d_voltage_d_u * lambda_v[k]);
                });
                pre.u_bar[lane * Conn::pre_type::size + (r - first)] += u_bar;
            }
        }
    }

    // d(readout)/d(V after integration in this step) for the variable readouts.
    template <class ReadoutType, class Buffers>
    float readout_weight(const Buffers& b, std::size_t index, int step) const {
        const int steps = options_.example_timesteps;
        if constexpr (std::is_same_v<ReadoutType, SumVar<ReadoutType::variable>>) return 1.0f;
        else if constexpr (std::is_same_v<ReadoutType, AvgVar<ReadoutType::variable>>) return 1.0f / float(steps);
        else if constexpr (std::is_same_v<ReadoutType, AvgVarExpWeight<ReadoutType::variable>>) {
            const float inv = 1.0f / float(steps);
            return expf(-float(step) * inv) * inv;
        } else if constexpr (std::is_same_v<ReadoutType, Var<ReadoutType::variable>>) return step == steps - 1 ? 1.0f : 0.0f;
        else if constexpr (std::is_same_v<ReadoutType, MaxVar<ReadoutType::variable>>) return b.readout_step[index] == step ? 1.0f : 0.0f;
        else return 0.0f;
    }

    // Adjoint of update_population() for one step of one lane.
    template <std::size_t P, std::size_t Output>
    void reverse_update(std::size_t lane, int step, std::span<const float> output_gradient) {
        using Pop = typename Net::template population_type<P>;
        using Model = typename Pop::neuron_type;
        using ReadoutType = typename Pop::readout_type;
        auto& b = std::get<P>(populations_);
        const std::size_t base = lane * Pop::size;
        float* lambda_v = b.lambda_v.data() + base;
        float* v_bar = b.v_bar.data() + base;
        constexpr bool drives_variable = P == Output && readout_variable_index<Model, ReadoutType> >= 0;

        // dL/d(V after integration) = dL/d(V after reset) + the readout's direct term.
        for (std::size_t i = 0; i < Pop::size; ++i) {
            v_bar[i] = lambda_v[i];
            if constexpr (drives_variable) v_bar[i] += output_gradient[i] * readout_weight<ReadoutType>(b, base + i, step);
        }
        // A first-spike-time output that never fired gets its gradient as dL/dV
        // at the last step (the loss's push towards firing, see train/loss.hpp).
        if constexpr (P == Output && std::is_same_v<ReadoutType, FirstSpikeTime>)
            if (step == options_.example_timesteps - 1)
                for (std::size_t i = 0; i < Pop::size; ++i)
                    if (b.readout_step[base + i] < 0) v_bar[i] += output_gradient[i];
        if constexpr (is_spiking_model<Model>) {
            // Jumps at this step's spikes: the offset moves the targets
            // (u_bar from reverse_propagate), the reset, the first-spike-time
            // loss and the regulariser; the offset depends on V at the start
            // of the step and on the V that crossed.
            const auto& records = b.records[lane];
            const std::uint32_t first = b.step_start[lane][std::size_t(step)];
            const std::uint32_t last = b.step_start[lane][std::size_t(step) + 1];
            const float* u_bar = b.u_bar.data() + base;
            for (std::uint32_t r = first; r < last; ++r) {
                const SpikeRecord& spike = records[r];
                float du = u_bar[r - first] + b.dynamics.d_precise_reset_d_offset(spike.offset) * lambda_v[spike.id];
                if constexpr (P == Output && std::is_same_v<ReadoutType, FirstSpikeTime>)
                    if (b.readout_step[base + spike.id] == std::int32_t(r)) du -= output_gradient[spike.id];  // y = -t
                v_bar[spike.id] += du * spike.d_v_end + b.regularisation_drive[spike.id];
                b.u_bar[base + (r - first)] = du * spike.d_v_start;  // reused: the part that goes to V at the start
            }
            for (std::size_t i = 0; i < Pop::size; ++i) lambda_v[i] = b.dynamics.alpha * v_bar[i];
            for (std::uint32_t r = first; r < last; ++r) lambda_v[records[r].id] += b.u_bar[base + (r - first)];
        } else {
            for (std::size_t i = 0; i < Pop::size; ++i) lambda_v[i] = b.dynamics.alpha * v_bar[i];
        }
        // in_syn(n+1) = beta in_syn(n) + spikes; V(after integration) has k in_syn(n).
        for_each_connection([&]<std::size_t C>(auto& c) {
            if constexpr (Net::connection_post[C] == int(P)) {
                float* lambda_j = c.lambda_j.data() + base;
                const float beta = c.synapse.decay;
                const float k = c.arrival.k;
                for (std::size_t i = 0; i < Pop::size; ++i) lambda_j[i] = beta * lambda_j[i] + k * v_bar[i];
            }
        });
    }

    Net net_;
    SimulationOptions options_;
    ThreadPool pool_;
    std::size_t active_lanes_ = 0;
    bool ran_ = false;
    SpikeRegularisation regularisation_{};
    typename PopulationBuffersOf<Net, PopulationBuffers>::type populations_;
    typename ConnectionBuffersOf<Net, ConnectionBuffers>::type connections_;
    std::array<bool, num_populations> spike_recording_{};
    std::array<RecordedSpikes, num_populations> recorded_spikes_{};
    mutable std::vector<std::uint64_t> totals_scratch_;
};

}  // namespace spikegraph::cpu_backend
