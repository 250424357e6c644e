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
#include <spikegraph/cpu/crossed_neurons.hpp>
#include <spikegraph/cpu/denormals.hpp>
#include <spikegraph/cpu/input_source.hpp>
#include <spikegraph/cpu/register_row.hpp>
#include <spikegraph/cpu/short_row_adjoint.hpp>
#include <spikegraph/cpu/simulator.hpp>
#include <spikegraph/cpu/synapse_rows.hpp>
#include <spikegraph/cpu/thread_pool.hpp>
#include <spikegraph/cpu/training_simulator.hpp>
#include <spikegraph/event_prop_neuron.hpp>
#include <spikegraph/graph/network.hpp>
#include <spikegraph/model/leaky_integrate.hpp>
#include <spikegraph/model/leaky_integrate_fire.hpp>
#include <spikegraph/model/precise_timing.hpp>
#include <spikegraph/model/readout.hpp>
#include <spikegraph/model/synapse.hpp>
#include <spikegraph/train/loss.hpp>
#include <spikegraph/train/regularisation.hpp>

namespace spikegraph::cpu_backend {

// The loops over a step's spikes (about 14 of 256 neurons at 56 Hz) run over
// whole vectors of the target: the entries past the count hold stale scratch
// (zero or an earlier step's), are computed and never read. Without the
// padding a count below the vector width runs entirely in the compiler's
// scalar remainder loop. A step with fewer spikes than half a vector takes
// them one by one (gathering them costs more than the vector saves: the
// Yin-Yang quickstart, about one spike a step, ran 1.2x slower that way).
#if defined(__AVX512F__)
inline constexpr std::size_t vector_floats = 16;
#elif defined(__AVX__)
inline constexpr std::size_t vector_floats = 8;
#else
inline constexpr std::size_t vector_floats = 4;
#endif
inline constexpr std::size_t whole_vectors(std::size_t count) {
    return (count + vector_floats - 1) / vector_floats * vector_floats;
}
inline constexpr bool worth_a_vector(std::size_t count) { return 2 * count >= vector_floats; }

// Columns of a population's fire scratch: its variables, V at the step's
// start, the readout and the bias.
template <class Model>
inline constexpr std::size_t fire_scratch_columns = Model::Variables::size + 3;

template <class Pop, std::size_t Index>
struct EventPropPopulationBuffers {
    using Model = typename Pop::neuron_type;
    static constexpr bool is_input = is_input_model<Model>;
    std::vector<std::vector<EventPropSpikeRecord>> records;           // per lane, in step order
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
    std::vector<std::int32_t> readout_step;  // MaxVar: step of the maximum; FirstSpikeTime: step of the first spike
    std::vector<float> lambda_v;             // adjoint of V at the start of the current backward step
    std::vector<float> v_bar;                // scratch: V at the step's start (forward), adjoint of V after integration (backward)
    std::vector<std::uint32_t> crossed;      // scratch: whether V crossed the threshold in this step (not a char type, which would alias everything and stop vectorisation), then the ids that did
    std::vector<float> u_bar;                // scratch: adjoint of each spike offset of the step
    std::vector<float> fired_v_bar, fired_lambda_v;  // scratch: reverse()'s results for the step's spikes, by position
    std::vector<float> reset_slope;          // scratch: each spike's EventPropNeuron::reset_slope, by position
    std::vector<float> regularisation_drive; // per neuron: dL/dV added at each of its spikes
    // Scratch of update_population(), by position in the step's spikes, each
    // row padded to whole_vectors(size): the crossing neurons' state
    // ([lane][fire_scratch_columns][position]), readout_step and records.
    std::vector<float> fire_scratch;
    std::vector<std::int32_t> fire_readout_step;
    std::vector<EventPropSpikeRecord> fire_records;
    NeuronBiases bias;

    std::uint32_t spike_id(std::size_t lane, std::size_t r) const { return records[lane][r].id; }
};

template <class Conn>
struct EventPropConnectionBuffers {
    typename Exponential::Dynamics synapse{};
    ExponentialArrival arrival{};
    detail::ConnectionStorage storage;
    std::vector<float> in_syn;                 // [lane][post]
    std::vector<float> lambda_j;               // adjoint of in_syn, [lane][post]
    mutable std::vector<std::vector<float>> gradient;  // per group of lanes (summed on first read, see TrainingSimulatorBase)
    // Scratch, [lane][position in the step]: the arrival factors of the
    // presynaptic spikes of the step being propagated. Computed in each pass
    // by compute_step_factors(), a loop that vectorises, rather than kept for the
    // whole example (16 bytes a spike that the backward pass waited for).
    // Empty for connections from input populations.
    std::vector<ExponentialArrival::Factors> step_factors;
    std::vector<float> step_offsets;           // scratch, [lane][position]: the offsets of those spikes
    std::vector<std::uint64_t> events;         // [lane]
};

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
class EventPropSimulator : public TrainingSimulatorBase<Net, EventPropPopulationBuffers, EventPropConnectionBuffers> {
    using Base = TrainingSimulatorBase<Net, EventPropPopulationBuffers, EventPropConnectionBuffers>;

public:
    using Base::num_connections, Base::num_populations;

    using SpikeRecord = EventPropSpikeRecord;

    EventPropSimulator(const Net& net, const SimulationOptions& options) : Base(net, options) {
        const std::size_t lanes = this->options_.batch_size;
        const float dt = this->options_.dt;
        for_each_population([&]<std::size_t P>(auto& b) {
            using Pop = typename Net::template population_type<P>;
            using Model = typename Pop::neuron_type;
            const auto& pop = this->net_.template population<P>();
            pop.neuron.validate(name_view<Pop::name>);
            b.records.assign(lanes, {});
            b.step_start.assign(lanes, std::vector<std::uint32_t>(std::size_t(this->options_.example_timesteps) + 1, 0));
            b.spike_counts.assign(lanes * Pop::size, 0);
            if constexpr (is_input_model<Model>) {
                b.input.allocate(pop.neuron, dt, lanes);
                b.queue.assign(lanes * Pop::size, 0);
            } else {
                EventPropNeuron<Model, typename Pop::readout_type>::validate(pop.neuron, name_view<Pop::name>);
                b.dynamics = pop.neuron.dynamics(dt);
                b.readout_dynamics = pop.readout.dynamics(dt, this->options_.example_timesteps);
                b.initial = pop.neuron.initial_state();
                for (auto& v : b.variables) v.assign(lanes * Pop::size, 0.0f);
                b.readout.assign(lanes * Pop::size, 0.0f);
                b.readout_step.assign(lanes * Pop::size, -1);
                b.lambda_v.assign(lanes * Pop::size, 0.0f);
                b.v_bar.assign(lanes * Pop::size, 0.0f);
                b.crossed.assign(lanes * Pop::size, 0);
                b.u_bar.assign(lanes * Pop::size, 0.0f);
                b.fired_v_bar.assign(lanes * Pop::size, 0.0f);
                b.fired_lambda_v.assign(lanes * Pop::size, 0.0f);
                b.reset_slope.assign(lanes * Pop::size, 0.0f);
                b.fire_scratch.assign(lanes * whole_vectors(Pop::size) * fire_scratch_columns<Model>, 0.0f);
                b.fire_readout_step.assign(lanes * whole_vectors(Pop::size), -1);
                b.fire_records.assign(lanes * whole_vectors(Pop::size), {});
            }
        });
        for_each_connection([&]<std::size_t C>(auto& b) {
            using Conn = typename Net::template connection_type<C>;
            using Post = typename Conn::post_type;
            const auto& c = this->net_.template connection<C>();
            c.synapse.validate(name_view<Conn::name>);
            b.synapse = c.synapse.dynamics(dt);
            b.arrival = connection_arrival<C>(this->net_, dt);
            b.storage = detail::build_connection(c.connectivity, Conn::pre_type::size, Post::size, this->options_.seed, C,
                                                 Conn::name.str());
            b.in_syn.assign(lanes * Post::size, 0.0f);
            b.lambda_j.assign(lanes * Post::size, 0.0f);
            b.events.assign(lanes, 0);
            if constexpr (!is_input_model<typename Conn::pre_type::neuron_type>) {
                b.step_factors.assign(lanes * whole_vectors(Conn::pre_type::size), {});
                b.step_offsets.assign(lanes * whole_vectors(Conn::pre_type::size), 0.0f);
            }
        });
    }

    void set_regularisation(const SpikeRegularisation& r) { regularisation_ = r; }

    // Forward pass of the active lanes, keeping what backward() needs.
    void run() {
        FlushDenormalsGuard flush;
        this->prepare_recording();
        this->pool_.parallel_for(this->active_lanes_, [&](std::size_t lane) { forward_lane(lane); });
        this->ran_ = true;
    }

    template <std::size_t P>
    void readout(std::span<float> out) const {
        using Pop = typename Net::template population_type<P>;
        for (std::size_t lane = 0; lane < this->active_lanes_; ++lane) lane_readout<P>(lane, out.subspan(lane * Pop::size, Pop::size));
    }

    // Backward pass after run(): readout_gradient holds dL/dy for population
    // P's readout y, [lane][neuron] over the active lanes. Adds dL/dw of every
    // connection, summed over lanes, to the gradients.
    template <std::size_t P>
    void backward(std::span<const float> readout_gradient) {
        using Pop = typename Net::template population_type<P>;
        static_assert(Pop::has_readout, "spikegraph: backward needs the output population's readout");
        if (!this->ran_) detail::throw_invalid("EventProp backward() called before a forward run()");
        if (readout_gradient.size() != this->active_lanes_ * Pop::size)
            detail::throw_invalid("population '", name_view<Pop::name>, "': readout gradient has ", readout_gradient.size(),
                                  " values, expected ", this->active_lanes_ * Pop::size);
        FlushDenormalsGuard flush;
        set_regularisation_drives<P>();
        this->accumulate_gradients([&](std::size_t lane, std::size_t group) {
            backward_lane<P>(lane, group, readout_gradient.subspan(lane * Pop::size, Pop::size));
        });
    }

    // Whether run_and_backward() may be used: only when no lane's backward
    // pass depends on another lane's forward pass. Spike regularisation
    // breaks that (its drive is the batch's mean spike count).
    bool lanes_are_independent() const { return !regularisation_.active(); }
    // Whether training should take run_and_backward(): when the lanes are
    // independent and the threads no more than the gradient groups (it runs
    // each group's lanes on one thread, where run() spreads single lanes).
    bool prefers_run_and_backward() const {
        return lanes_are_independent() && this->pool_.size() <= this->gradient_groups();
    }

    // run() and backward<P>() in one pass over the lanes: each lane's
    // backward pass follows its own forward pass on the same thread, while
    // its spike records are still in that core's cache (the backward pass
    // reads them newest first; after a run() of the whole batch they come
    // back from L3 or memory). lane_gradient(lane, readout, gradient) is
    // given the lane's readout of population P and writes dL/d(readout) into
    // gradient; it runs on the simulator's threads, several lanes at a time.
    // Readouts, gradients and statistics are afterwards those of run() and
    // backward<P>(), bit for bit (tests/event_prop_units_test.cpp, "[fused]").
    template <std::size_t P, class LaneGradient>
    void run_and_backward(LaneGradient&& lane_gradient) {
        using Pop = typename Net::template population_type<P>;
        static_assert(Pop::has_readout, "spikegraph: backward needs the output population's readout");
        if (!lanes_are_independent())
            detail::throw_invalid("EventProp run_and_backward(): the lanes depend on each other (spike regularisation); "
                                  "use run() and backward()");
        FlushDenormalsGuard flush;
        this->prepare_recording();
        set_regularisation_drives<P>();
        lane_readout_gradient_.assign(this->active_lanes_ * Pop::size, 0.0f);
        this->ran_ = false;
        this->accumulate_gradients([&](std::size_t lane, std::size_t group) {
            forward_lane(lane);
            std::array<float, Pop::size> readout;
            lane_readout<P>(lane, readout);
            const std::span<float> gradient = std::span<float>(lane_readout_gradient_).subspan(lane * Pop::size, Pop::size);
            lane_gradient(lane, std::span<const float>(readout), gradient);
            backward_lane<P>(lane, group, gradient);
        });
        this->ran_ = true;
    }

    template <std::size_t P>
    std::span<const std::uint32_t> neuron_spike_counts() const {
        using Pop = typename Net::template population_type<P>;
        return std::span<const std::uint32_t>(std::get<P>(this->populations_).spike_counts).first(this->active_lanes_ * Pop::size);
    }
    // Spike records kept by the last run (all lanes), a measure of the memory EventProp needs.
    std::size_t stored_spikes() const {
        std::size_t total = 0;
        for_each_population_const([&]<std::size_t P>(const auto& b) {
            for (std::size_t lane = 0; lane < this->active_lanes_; ++lane) total += b.records[lane].size();
        });
        return total;
    }

private:
    template <std::size_t P>
    void lane_readout(std::size_t lane, std::span<float> out) const {
        using Pop = typename Net::template population_type<P>;
        static_assert(Pop::has_readout, "spikegraph: this population has no readout");
        const float* readout = std::get<P>(this->populations_).readout.data() + lane * Pop::size;
        const auto& dynamics = std::get<P>(this->populations_).readout_dynamics;
        for (std::size_t i = 0; i < Pop::size; ++i) {
            if constexpr (std::is_same_v<typename Pop::readout_type, FirstSpikeTime>) out[i] = readout[i];
            else out[i] = dynamics.result(readout[i]);
        }
    }

    // Each population's dL/dV per spike from the regulariser (not for the
    // output population P, whose loss is its readout's).
    template <std::size_t P>
    void set_regularisation_drives() {
        for_each_population([&]<std::size_t Q>(auto& b) {
            using Pop = typename Net::template population_type<Q>;
            if constexpr (!EventPropPopulationBuffers<Pop, Q>::is_input)
                b.regularisation_drive = regularisation_.drives(b.spike_counts.data(), Q == P ? 0 : this->active_lanes_, Pop::size);
        });
    }

    template <class F>
    void for_each_population(F&& f) { for_each_buffer(this->populations_, f); }
    template <class F>
    void for_each_population_const(F&& f) const { for_each_buffer(this->populations_, f); }
    template <class F>
    void for_each_connection(F&& f) { for_each_buffer(this->connections_, f); }
    template <class F>
    void for_each_connection_const(F&& f) const { for_each_buffer(this->connections_, f); }

    // ---- forward ------------------------------------------------------------

    void forward_lane(std::size_t lane) {
        const int steps = this->options_.example_timesteps;
        for_each_population([&]<std::size_t P>(auto& b) {
            using Pop = typename Net::template population_type<P>;
            b.records[lane].clear();
            std::fill_n(b.spike_counts.begin() + std::ptrdiff_t(lane * Pop::size), Pop::size, 0u);
            if constexpr (EventPropPopulationBuffers<Pop, P>::is_input) {
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
        this->record_lane(lane);
    }

    template <std::size_t P>
    void update_population(std::size_t lane, int step) {
        using Pop = typename Net::template population_type<P>;
        using Model = typename Pop::neuron_type;
        using ReadoutType = typename Pop::readout_type;
        auto& b = std::get<P>(this->populations_);
        auto& records = b.records[lane];
        b.step_start[lane][std::size_t(step)] = std::uint32_t(records.size());
        std::uint32_t* counts = b.spike_counts.data() + lane * Pop::size;
        if constexpr (is_input_model<Model>) {
            std::uint32_t* queue = b.queue.data() + lane * Pop::size;
            std::uint32_t count = 0;
            b.input.emit(lane, step, this->options_.seed, 0, Pop::size, queue, count);
            for (std::uint32_t s = 0; s < count; ++s) {
                records.push_back({queue[s], this->options_.dt, 0.0f, 0.0f});
                ++counts[queue[s]];
            }
        } else {
            // EventPropNeuron::forward in its two parts: every neuron
            // integrates (a loop without branches, so it vectorises), then the
            // few that crossed fire, in ascending id order as the backward pass needs.
            using Neuron = EventPropNeuron<Model, ReadoutType>;
            constexpr std::size_t num_variables = Model::Variables::size;
            const std::size_t first = lane * Pop::size;
            const float* biases = b.bias.data();
            const auto dynamics = b.dynamics;  // a local copy: its loads are then not inside the loop
            const auto readout_dynamics = readout_at_step(b.readout_dynamics, step);
            const auto variables = [&]<std::size_t... V>(std::index_sequence<V...>) {
                return std::tuple{(b.variables[V].data() + first)...};
            }(std::make_index_sequence<num_variables>{});
            float* readout = b.readout.data() + first;
            std::int32_t* readout_step = b.readout_step.data() + first;
            float* v_start = b.v_bar.data() + first;
            std::uint32_t* crossed = b.crossed.data() + first;
            constexpr auto each_variable = std::make_index_sequence<num_variables>{};
            SPIKEGRAPH_INDEPENDENT_ITERATIONS
            for (std::size_t i = 0; i < Pop::size; ++i) {
                NeuronState<Model> state;
                [&]<std::size_t... V>(std::index_sequence<V...>) { ((state[int(V)] = std::get<V>(variables)[i]), ...); }(each_variable);
                const float isyn = synaptic_input<P>(lane, i);
                v_start[i] = state[Model::V];
                crossed[i] = Neuron::integrate(neuron_dynamics(dynamics, biases, i), readout_dynamics, state, isyn, readout[i],
                                               readout_step[i], step);
                [&]<std::size_t... V>(std::index_sequence<V...>) { ((std::get<V>(variables)[i] = state[int(V)]), ...); }(each_variable);
            }
            if constexpr (is_spiking_model<Model>) {
                const float dt = this->options_.dt;
                // The ids that crossed, in ascending order as the backward pass needs.
                const std::uint32_t fired = compact_crossed(crossed, Pop::size);
                const std::size_t base = records.size();
                records.resize(base + fired);
                SpikeRecord* step_records = records.data() + base;
                if (!worth_a_vector(fired)) {
                    for (std::uint32_t f = 0; f < fired; ++f) {
                        const std::size_t i = crossed[f];
                        NeuronState<Model> state;
                        [&]<std::size_t... V>(std::index_sequence<V...>) { ((state[int(V)] = std::get<V>(variables)[i]), ...); }(each_variable);
                        SpikeRecord record;
                        Neuron::fire(neuron_dynamics(dynamics, biases, i), readout_dynamics, state, v_start[i], readout[i],
                                     readout_step[i], step, dt, record);
                        record.id = std::uint32_t(i);
                        step_records[f] = record;
                        ++counts[i];
                        [&]<std::size_t... V>(std::index_sequence<V...>) { ((std::get<V>(variables)[i] = state[int(V)]), ...); }(each_variable);
                    }
                    return;
                }
                // The crossing neurons' state is gathered into contiguous
                // scratch, fired there in a loop that vectorises (an
                // interpolation, a division and an exponential a spike, side
                // by side), and scattered back. GCC does not emit gathers and
                // scatters when tuning for AMD Zen, so a loop that reads and
                // writes by neuron id stays scalar.
                constexpr std::size_t padded_size = whole_vectors(Pop::size);
                float* gathered = b.fire_scratch.data() + lane * padded_size * fire_scratch_columns<Model>;
                const auto gathered_variables = [&]<std::size_t... V>(std::index_sequence<V...>) {
                    return std::tuple{(gathered + V * padded_size)...};
                }(each_variable);
                float* gathered_v_start = gathered + num_variables * padded_size;
                float* gathered_readout = gathered_v_start + padded_size;
                float* gathered_bias = biases != nullptr ? gathered_readout + padded_size : nullptr;
                std::int32_t* gathered_readout_step = b.fire_readout_step.data() + lane * padded_size;
                SpikeRecord* gathered_records = b.fire_records.data() + lane * padded_size;
                for (std::uint32_t f = 0; f < fired; ++f) {
                    const std::size_t i = crossed[f];
                    [&]<std::size_t... V>(std::index_sequence<V...>) { ((std::get<V>(gathered_variables)[f] = std::get<V>(variables)[i]), ...); }(each_variable);
                    gathered_v_start[f] = v_start[i];
                    gathered_readout[f] = readout[i];
                    gathered_readout_step[f] = readout_step[i];
                    if (gathered_bias != nullptr) gathered_bias[f] = biases[i];
                }
                const std::size_t padded = whole_vectors(fired);
                SPIKEGRAPH_INDEPENDENT_ITERATIONS
                for (std::size_t f = 0; f < padded; ++f) {
                    NeuronState<Model> state;
                    [&]<std::size_t... V>(std::index_sequence<V...>) { ((state[int(V)] = std::get<V>(gathered_variables)[f]), ...); }(each_variable);
                    SpikeRecord record;
                    Neuron::fire(neuron_dynamics(dynamics, gathered_bias, f), readout_dynamics, state, gathered_v_start[f],
                                 gathered_readout[f], gathered_readout_step[f], step, dt, record);
                    gathered_records[f] = record;
                    [&]<std::size_t... V>(std::index_sequence<V...>) { ((std::get<V>(gathered_variables)[f] = state[int(V)]), ...); }(each_variable);
                }
                for (std::uint32_t f = 0; f < fired; ++f) {
                    const std::size_t i = crossed[f];
                    ++counts[i];
                    step_records[f] = gathered_records[f];
                    step_records[f].id = std::uint32_t(i);
                    [&]<std::size_t... V>(std::index_sequence<V...>) { ((std::get<V>(variables)[i] = std::get<V>(gathered_variables)[f]), ...); }(each_variable);
                    readout[i] = gathered_readout[f];
                    readout_step[i] = gathered_readout_step[f];
                }
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
        cpu_backend::for_each_synapse<Conn::connectivity_type::kind>(std::get<C>(this->connections_).storage,
                                                                     Conn::post_type::size, id, f);
    }

    template <std::size_t C>
    void propagate(std::size_t lane, int step) {
        using Conn = typename Net::template connection_type<C>;
        constexpr std::size_t pre_index = std::size_t(Net::connection_pre[C]);
        constexpr std::size_t post_index = std::size_t(Net::connection_post[C]);
        constexpr std::size_t num_post = Conn::post_type::size;
        using PreModel = typename Conn::pre_type::neuron_type;
        const auto& pre = std::get<pre_index>(this->populations_);
        auto& post = std::get<post_index>(this->populations_);
        auto& b = std::get<C>(this->connections_);
        float* in_syn = b.in_syn.data() + lane * num_post;
        float* v = post.variables[0].data() + lane * num_post;
        const auto& records = pre.records[lane];
        const std::uint32_t first = pre.step_start[lane][std::size_t(step)];
        [[maybe_unused]] const ExponentialArrival::Factors* factors = nullptr;
        if constexpr (!is_input_model<PreModel>) factors = compute_step_factors<C>(lane, first, std::uint32_t(records.size()));
        std::uint64_t events = 0;
        constexpr auto kind = Conn::connectivity_type::kind;
        const float* weights = b.storage.weights.data();
        if constexpr (!is_input_model<PreModel> && kind == ConnectivityKind::dense && num_post <= 32) {
            // A short row (a readout's): its targets in registers for the step (cpu/register_row.hpp).
            RegisterRow<num_post> current(in_syn), voltage(v);
            for (std::size_t r = first; r < records.size(); ++r) {
                const float* row = weights + std::size_t(records[r].id) * num_post;
                const auto f = factors[r - first];
                current.add_scaled(row, f.current);
                voltage.add_scaled(row, f.voltage);
            }
            current.store(in_syn);
            voltage.store(v);
            events = (records.size() - first) * num_post;
        } else if constexpr (is_input_model<PreModel> && kind == ConnectivityKind::dense) {
            // Whole weights, no voltage (input spikes sit at the end of their step), 64 targets at a time in registers.
            const SpikeRecord* spikes = records.data() + first;
            const std::size_t count = records.size() - first;
            add_rows<num_post>(in_syn, count, [&](std::size_t r) { return weights + std::size_t(spikes[r].id) * num_post; });
            events = count * num_post;
        } else {
            for (std::size_t r = first; r < std::min(records.size(), first + row_prefetch_distance); ++r)
                prefetch_synapse_row<kind>(b.storage, num_post, records[r].id, weights);
            for (std::size_t r = first; r < records.size(); ++r) {
                if (r + row_prefetch_distance < records.size())
                    prefetch_synapse_row<kind>(b.storage, num_post, records[r + row_prefetch_distance].id, weights);
                const SpikeRecord& spike = records[r];
                if constexpr (is_input_model<PreModel>) {
                    // Input spikes sit at the end of their step: the whole weight, no voltage.
                    for_each_synapse<C>(spike.id, [&](std::size_t k, std::size_t, float w) { in_syn[k] += w; });
                } else {
                    const auto f = factors[r - first];
                    for_each_synapse<C>(spike.id, [&](std::size_t k, std::size_t, float w) {
                        in_syn[k] += w * f.current;
                        v[k] += w * f.voltage;
                    });
                }
                events += synapse_count<Conn::connectivity_type::kind>(b.storage, num_post, spike.id);
            }
        }
        b.events[lane] += events;
    }

    // The arrival factors of connection C's presynaptic spikes at records
    // [first, last) of the lane (one step's), into the lane's scratch. In a
    // loop of their own, so that the exponentials of the step's spikes run
    // side by side in vector registers (factors_with has no select on the
    // flag, so the loop vectorises). The forward and the backward pass each
    // compute them: as fast as keeping them per spike was, with no memory
    // per spike (peak memory at T = 1000 fell from 65 to 41 MiB).
    template <std::size_t C>
    const ExponentialArrival::Factors* compute_step_factors(std::size_t lane, std::uint32_t first, std::uint32_t last) {
        using Conn = typename Net::template connection_type<C>;
        constexpr std::size_t pre_index = std::size_t(Net::connection_pre[C]);
        auto& b = std::get<C>(this->connections_);
        const auto arrival = b.arrival;
        const SpikeRecord* spikes = std::get<pre_index>(this->populations_).records[lane].data() + first;
        constexpr std::size_t padded_size = whole_vectors(Conn::pre_type::size);
        ExponentialArrival::Factors* factors = b.step_factors.data() + lane * padded_size;
        float* offsets = b.step_offsets.data() + lane * padded_size;
        const std::size_t count = last - first;  // at most one spike a neuron in a step
        auto fill = [&]<bool EqualTaus>() {
            if (!worth_a_vector(count)) {
                for (std::size_t r = 0; r < count; ++r) factors[r] = arrival.template factors_with<EqualTaus>(spikes[r].offset);
                return;
            }
            for (std::size_t r = 0; r < count; ++r) offsets[r] = spikes[r].offset;
            const std::size_t padded = whole_vectors(count);
            SPIKEGRAPH_INDEPENDENT_ITERATIONS
            for (std::size_t r = 0; r < padded; ++r) factors[r] = arrival.template factors_with<EqualTaus>(offsets[r]);
        };
        if (arrival.equal_taus) fill.template operator()<true>();
        else fill.template operator()<false>();
        return factors;
    }

    // ---- backward -----------------------------------------------------------

    template <std::size_t Output>
    void backward_lane(std::size_t lane, std::size_t group, std::span<const float> output_gradient) {
        for_each_population([&]<std::size_t P>(auto& b) {
            using Pop = typename Net::template population_type<P>;
            if constexpr (!EventPropPopulationBuffers<Pop, P>::is_input)
                std::fill_n(b.lambda_v.begin() + std::ptrdiff_t(lane * Pop::size), Pop::size, 0.0f);
        });
        for_each_connection([&]<std::size_t C>(auto& b) {
            using Conn = typename Net::template connection_type<C>;
            std::fill_n(b.lambda_j.begin() + std::ptrdiff_t(lane * Conn::post_type::size), Conn::post_type::size, 0.0f);
        });
        for (int step = this->options_.example_timesteps - 1; step >= 0; --step) {
            for_each_population([&]<std::size_t P>(auto& b) {
                using Pop = typename Net::template population_type<P>;
                if constexpr (!EventPropPopulationBuffers<Pop, P>::is_input) {
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
        auto& pre = std::get<pre_index>(this->populations_);
        const auto& post = std::get<post_index>(this->populations_);
        auto& b = std::get<C>(this->connections_);
        const float* lambda_j = b.lambda_j.data() + lane * num_post;
        const float* lambda_v = post.lambda_v.data() + lane * num_post;
        float* gradient = b.gradient[group].data();
        const auto& records = pre.records[lane];
        const std::uint32_t first = pre.step_start[lane][std::size_t(step)];
        const std::uint32_t last = pre.step_start[lane][std::size_t(step) + 1];
        constexpr auto kind = Conn::connectivity_type::kind;
        auto prefetch = [&](std::uint32_t r) {
            prefetch_synapse_row<kind, true>(b.storage, num_post, records[r].id, gradient);
            if constexpr (!is_input_model<PreModel>) prefetch_synapse_row<kind>(b.storage, num_post, records[r].id, b.storage.weights.data());
        };
        [[maybe_unused]] const ExponentialArrival::Factors* factors = nullptr;
        if constexpr (!is_input_model<PreModel>) factors = compute_step_factors<C>(lane, first, last);
        [[maybe_unused]] float* u_bar = nullptr;  // dL/d(offset) of the step's spikes, by position
        if constexpr (!is_input_model<PreModel>) u_bar = pre.u_bar.data() + lane * Conn::pre_type::size;
        if constexpr (!is_input_model<PreModel> && kind == ConnectivityKind::dense && num_post >= 8 && num_post <= 32 &&
                      short_row_adjoint_available) {
            // A short row (a readout's): one vector pass per spike (cpu/short_row_adjoint.hpp), same floats.
            reverse_propagate_short_rows<num_post>(b.storage.weights.data(), gradient, lambda_j, lambda_v,
                                                   records.data() + first, last - first, factors, u_bar);
        } else {
            for (std::uint32_t r = first; r < std::min<std::uint32_t>(last, first + row_prefetch_distance); ++r) prefetch(r);
            for (std::uint32_t r = first; r < last; ++r) {
                if (r + row_prefetch_distance < last) prefetch(r + row_prefetch_distance);
                const SpikeRecord& spike = records[r];
                if constexpr (is_input_model<PreModel>) {
                    for_each_synapse<C>(spike.id, [&](std::size_t k, std::size_t e, float) { gradient[e] += lambda_j[k]; });
                } else {
                    const auto f = factors[r - first];
                    for_each_synapse<C>(spike.id, [&](std::size_t k, std::size_t e, float) {
                        gradient[e] += f.current * lambda_j[k] + f.voltage * lambda_v[k];
                    });
                    u_bar[r - first] += weighted_row_sum<kind, num_post>(b.storage, spike.id, [&](std::size_t k) {
                        return f.d_current_d_u * lambda_j[k] + f.d_voltage_d_u * lambda_v[k];
                    });
                }
            }
        }
    }

    // Adjoint of update_population() for one step of one lane.
    template <std::size_t P, std::size_t Output>
    void reverse_update(std::size_t lane, int step, std::span<const float> output_gradient) {
        using Pop = typename Net::template population_type<P>;
        using Model = typename Pop::neuron_type;
        auto& b = std::get<P>(this->populations_);
        const std::size_t base = lane * Pop::size;
        using Neuron = EventPropNeuron<Model, typename Pop::readout_type>;
        float* lambda_v = b.lambda_v.data() + base;
        float* v_bar = b.v_bar.data() + base;

        const auto& records = b.records[lane];
        const std::uint32_t first = b.step_start[lane][std::size_t(step)];
        const std::uint32_t last = b.step_start[lane][std::size_t(step) + 1];
        const int steps = this->options_.example_timesteps;
        const auto dynamics = b.dynamics;  // a local copy: its loads are then not inside the loops
        [[maybe_unused]] const auto readout_dynamics = readout_at_step(b.readout_dynamics, step);
        // The adjoint arriving at V after integration, and the output's dL/dy.
        auto incoming = [&](std::size_t i, float& g) {
            float v = lambda_v[i];
            if constexpr (P == Output) {
                g = output_gradient[i];
                v = Neuron::readout_term(readout_dynamics, lambda_v[i], g, b.readout_step[base + i], step, steps);
            }
            return v;
        };
        // Neuron::reverse for every neuron, in three parts so that the loop
        // over all of them has no branch and vectorises: first the neurons
        // that fired in this step (each at most once), from the adjoints on entry ...
        float* fired_v_bar = b.fired_v_bar.data() + base;
        float* fired_lambda_v = b.fired_lambda_v.data() + base;
        if constexpr (is_spiking_model<Model>) {
            // The spikes' reset slopes first, in a loop of their own that vectorises.
            float* reset_slope = b.reset_slope.data() + base;
            const SpikeRecord* spikes = records.data() + first;
            SPIKEGRAPH_INDEPENDENT_ITERATIONS
            for (std::uint32_t r = 0; r < last - first; ++r) reset_slope[r] = Neuron::reset_slope(dynamics, spikes[r].offset);
            for (std::uint32_t r = first; r < last; ++r) {
                const std::uint32_t i = records[r].id;
                float g = 0.0f;
                const float v = incoming(i, g);
                float lambda = lambda_v[i];
                const bool first_spike = P == Output && Neuron::is_first_spike_time && b.readout_step[base + i] == step;
                fired_v_bar[r - first] = Neuron::reverse_fired(dynamics, lambda, v, records[r], reset_slope[r - first],
                                                               b.u_bar[base + (r - first)], b.regularisation_drive[i],
                                                               first_spike, g);
                fired_lambda_v[r - first] = lambda;
            }
        }
        // ... then every neuron as if it had not fired ...
        SPIKEGRAPH_INDEPENDENT_ITERATIONS
        for (std::size_t i = 0; i < Pop::size; ++i) {
            float g = 0.0f;
            const float v = incoming(i, g);
            v_bar[i] = Neuron::reverse(dynamics, lambda_v[i], v, nullptr, 0.0f, 0.0f, false, g);
        }
        // ... and the ones that fired put right.
        for (std::uint32_t r = first; r < last; ++r) {
            v_bar[records[r].id] = fired_v_bar[r - first];
            lambda_v[records[r].id] = fired_lambda_v[r - first];
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

    // How many spikes ahead propagate() and reverse_propagate() ask for their rows.
    static constexpr std::size_t row_prefetch_distance = 2;
    SpikeRegularisation regularisation_{};
    std::vector<float> lane_readout_gradient_;  // run_and_backward(): dL/d(readout), [lane][neuron]
};

}  // namespace spikegraph::cpu_backend
