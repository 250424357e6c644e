#pragma once
#include <algorithm>
#include <atomic>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
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
#include <spikegraph/cpu/thread_pool.hpp>
#include <spikegraph/graph/network.hpp>
#include <spikegraph/model/neuron_bias.hpp>
#include <spikegraph/model/neuron_update.hpp>
#include <spikegraph/neuron_biases.hpp>
#include <spikegraph/philox.hpp>
#include <spikegraph/recordings.hpp>

namespace spikegraph::cpu_backend {

// Neurons are updated in chunks of this many; each chunk of each lane writes its
// spikes to its own segment of the spike queue, so chunks run in parallel
// without atomics and the queue needs no compaction.
inline constexpr std::size_t neuron_chunk = 2048;

template <class P>
inline constexpr std::size_t chunks_of =
    P::neuron_type::kind == NeuronKind::spike_input ? 1 : (P::size + neuron_chunk - 1) / neuron_chunk;

// The CPU simulator of a network: state as [lane][neuron] arrays per variable,
// per-population spike queues, per-connection input buffers (in_syn), and
// event-driven propagation (work per step grows with the number of spikes).
//
// Parallelism: when there are at least as many active lanes as threads, each
// thread simulates whole lanes for the whole example with no synchronisation
// (lanes share only read-only weights). Otherwise every step is split into a
// neuron phase and a propagation phase, each parallel over lanes x chunks.
template <class Net>
class Simulator : public Recordings<Net::num_populations>, public NeuronBiasQueries<Net, Simulator<Net>> {
    friend class NeuronBiasQueries<Net, Simulator<Net>>;

public:
    static constexpr std::size_t num_populations = Net::num_populations;
    static constexpr std::size_t num_connections = Net::num_connections;

    Simulator(const Net& net, const SimulationOptions& options)
        : net_(net), options_(options), pool_(options.num_threads) {
        options_.validate();
        const std::size_t lanes = options_.batch_size;
        for_each_population([&]<std::size_t P>(auto& buffers) {
            using Pop = typename Net::template population_type<P>;
            const auto& pop = net_.template population<P>();
            pop.neuron.validate(name_view<Pop::name>);
            buffers.dynamics = pop.neuron.dynamics(options_.dt);
            buffers.readout_dynamics = pop.readout.dynamics(options_.dt, options_.example_timesteps);
            buffers.initial = pop.neuron.initial_state();
            for (auto& v : buffers.variables) v.assign(lanes * Pop::size, 0.0f);
            if constexpr (Pop::has_readout) buffers.readout.assign(lanes * Pop::size, 0.0f);
            buffers.spike_ids.assign(lanes * Pop::size, 0);
            buffers.spike_counts.assign(lanes * chunks_of<Pop>, 0);
            buffers.total_spikes.assign(lanes, 0);
            if constexpr (is_input_model<typename Pop::neuron_type>) buffers.input.allocate(pop.neuron, options_.dt, lanes);
        });
        for_each_connection([&]<std::size_t C>(auto& buffers) {
            using Conn = typename Net::template connection_type<C>;
            const auto& c = net_.template connection<C>();
            c.synapse.validate(name_view<Conn::name>);
            buffers.synapse = c.synapse.dynamics(options_.dt);
            buffers.storage = detail::build_connection(c.connectivity, Conn::pre_type::size, Conn::post_type::size,
                                                       options_.seed, C, Conn::name.str());
            buffers.in_syn.assign(lanes * Conn::post_type::size, 0.0f);
            buffers.events.assign(lanes, 0);
        });
    }

    const SimulationOptions& options() const { return options_; }
    const Net& network() const { return net_; }
    std::size_t active_lanes() const { return active_lanes_; }

    // Gives input population P its inputs for the next run(); the lane count of
    // the batch (<= batch_size) sets how many lanes run.
    template <std::size_t P>
    void set_input(const InputBatch& batch) {
        using Pop = typename Net::template population_type<P>;
        active_lanes_ = load_input_batch<Pop>(std::get<P>(populations_).input, batch, options_.batch_size);
    }

    // Resets every state variable, input buffer and readout, then simulates
    // example_timesteps steps for the active lanes.
    void run() {
        FlushDenormalsGuard flush;
        const std::size_t lanes = active_lanes_;
        const int steps = options_.example_timesteps;
        this->prepare_recordings(lanes, steps, Net::population_sizes);
        if (lanes >= pool_.size() || pool_.size() == 1) {
            pool_.parallel_for(lanes, [&](std::size_t lane) {
                reset_lane(lane);
                for (int step = 0; step < steps; ++step) step_lane(lane, step);
            });
            return;
        }
        pool_.parallel_for(lanes, [&](std::size_t lane) { reset_lane(lane); });
        for (int step = 0; step < steps; ++step) {
            pool_.parallel_for(lanes * total_neuron_chunks, [&](std::size_t task) {
                update_chunk_task(task / total_neuron_chunks, task % total_neuron_chunks, step);
            });
            pool_.parallel_for(lanes * total_propagation_chunks, [&](std::size_t task) {
                propagate_chunk_task(task / total_propagation_chunks, task % total_propagation_chunks);
            });
            record_step(step, lanes);
        }
    }

    // Readout of population P after run(): [lane][neuron] for the active lanes.
    template <std::size_t P>
    void readout(std::span<float> out) const {
        using Pop = typename Net::template population_type<P>;
        static_assert(Pop::has_readout, "spikegraph: this population has no readout");
        const auto& buffers = std::get<P>(populations_);
        for (std::size_t i = 0; i < active_lanes_ * Pop::size; ++i) out[i] = buffers.readout_dynamics.result(buffers.readout[i]);
    }

    // Current value of variable V of population P: [lane][neuron], all lanes.
    template <std::size_t P, std::size_t V>
    std::span<const float> variable() const {
        return std::get<P>(populations_).variables[V];
    }

    // Synapses of connection C (see detail::ConnectionStorage for the layout).
    template <std::size_t C>
    const detail::ConnectionStorage& connection_storage() const {
        return std::get<C>(connections_).storage;
    }
    // Replaces the weights of connection C (same count and layout).
    template <std::size_t C>
    void set_weights(std::span<const float> weights) {
        using Conn = typename Net::template connection_type<C>;
        detail::replace_weights(std::get<C>(connections_).storage, weights, name_view<Conn::name>);
    }
    // Replaces connection C's synapses, structure included
    // (a FixedProbability connection restored from a checkpoint has its own CSR
    // structure). The storage is validated first; on error nothing changes.
    template <std::size_t C>
    void set_connection_storage(detail::ConnectionStorage storage) {
        using Conn = typename Net::template connection_type<C>;
        detail::check_connection_storage(storage, Conn::connectivity_type::kind, Conn::pre_type::size,
                                         Conn::post_type::size, "connection '" + Conn::name.str() + "'");
        std::get<C>(connections_).storage = std::move(storage);
    }

    // Gives every neuron of population P its own bias (NeuronBiasQueries reads them).
    template <std::size_t P>
    void set_biases(std::span<const float> biases) {
        require_neuron_bias<Net, P>();
        std::get<P>(populations_).bias.set(biases, Net::population_sizes[P], name_view<Net::template population_type<P>::name>);
    }

    // Spikes emitted by population P in the last run, per lane.
    template <std::size_t P>
    std::span<const std::uint64_t> spike_totals() const {
        return std::span<const std::uint64_t>(std::get<P>(populations_).total_spikes).first(active_lanes_);
    }
    // Synaptic events (spike x synapse additions) in the last run, all connections and lanes.
    std::uint64_t synaptic_events() const {
        std::uint64_t total = 0;
        for_each_connection_const([&]<std::size_t C>(const auto& buffers) {
            for (std::size_t lane = 0; lane < active_lanes_; ++lane) total += buffers.events[lane];
        });
        return total;
    }

private:
    template <class Pop, std::size_t Index>
    struct PopulationBuffers {
        using Model = typename Pop::neuron_type;
        static constexpr std::size_t num_variables = Model::Variables::size;
        typename Model::Dynamics dynamics{};
        typename Pop::readout_type::Dynamics readout_dynamics{};
        NeuronState<Model> initial{};
        std::array<std::vector<float>, num_variables> variables;
        std::vector<float> readout;
        std::vector<std::uint32_t> spike_ids;     // [lane][neuron]: chunk k's spikes start at k * neuron_chunk
        std::vector<std::uint32_t> spike_counts;  // [lane][chunk]
        std::vector<std::uint64_t> total_spikes;  // [lane]
        std::conditional_t<is_input_model<Model>, InputSource<Pop, Index>, std::monostate> input;
        NeuronBiases bias;
    };

    template <class Conn>
    struct ConnectionBuffers {
        typename Conn::synapse_type::Dynamics synapse{};
        detail::ConnectionStorage storage;
        std::vector<float> in_syn;           // [lane][post]
        std::vector<std::uint64_t> events;   // [lane]
    };

    template <class F>
    void for_each_population(F&& f) {
        for_each_buffer(populations_, f);
    }
    template <class F>
    void for_each_connection(F&& f) {
        for_each_buffer(connections_, f);
    }
    template <class F>
    void for_each_connection_const(F&& f) const {
        for_each_buffer(connections_, f);
    }

    // Compile-time task tables: population P's chunks start at chunk_offset[P];
    // connection C's post-chunks start at propagation_offset[C].
    static constexpr std::array<std::size_t, num_populations + 1> chunk_offsets = [] {
        std::array<std::size_t, num_populations + 1> offsets{};
        [&]<std::size_t... P>(std::index_sequence<P...>) {
            std::size_t running = 0;
            ((offsets[P] = running, running += chunks_of<typename Net::template population_type<P>>), ...);
            offsets[num_populations] = running;
        }(std::make_index_sequence<num_populations>{});
        return offsets;
    }();
    static constexpr std::size_t total_neuron_chunks = chunk_offsets[num_populations];

    template <class Conn>
    static constexpr std::size_t post_chunks_of = (Conn::post_type::size + neuron_chunk - 1) / neuron_chunk;
    static constexpr std::array<std::size_t, num_connections + 1> propagation_offsets = [] {
        std::array<std::size_t, num_connections + 1> offsets{};
        [&]<std::size_t... C>(std::index_sequence<C...>) {
            std::size_t running = 0;
            ((offsets[C] = running, running += post_chunks_of<typename Net::template connection_type<C>>), ...);
            offsets[num_connections] = running;
        }(std::make_index_sequence<num_connections>{});
        return offsets;
    }();
    static constexpr std::size_t total_propagation_chunks = propagation_offsets[num_connections];

    void reset_lane(std::size_t lane) {
        for_each_population([&]<std::size_t P>(auto& b) {
            using Pop = typename Net::template population_type<P>;
            for (std::size_t v = 0; v < b.variables.size(); ++v)
                std::fill_n(b.variables[v].begin() + std::ptrdiff_t(lane * Pop::size), Pop::size, b.initial[int(v)]);
            if constexpr (Pop::has_readout)
                std::fill_n(b.readout.begin() + std::ptrdiff_t(lane * Pop::size), Pop::size, b.readout_dynamics.initial);
            std::fill_n(b.spike_counts.begin() + std::ptrdiff_t(lane * chunks_of<Pop>), chunks_of<Pop>, 0u);
            b.total_spikes[lane] = 0;
            if constexpr (is_input_model<typename Pop::neuron_type>) b.input.reset_lane(lane);
        });
        for_each_connection([&]<std::size_t C>(auto& b) {
            using Conn = typename Net::template connection_type<C>;
            std::fill_n(b.in_syn.begin() + std::ptrdiff_t(lane * Conn::post_type::size), Conn::post_type::size, 0.0f);
            b.events[lane] = 0;
        });
    }

    void step_lane(std::size_t lane, int step) {
        for_each_population([&]<std::size_t P>(auto&) {
            for (std::size_t chunk = 0; chunk < chunks_of<typename Net::template population_type<P>>; ++chunk)
                update_chunk<P>(lane, chunk, step);
        });
        for_each_connection([&]<std::size_t C>(auto&) {
            for (std::size_t chunk = 0; chunk < post_chunks_of<typename Net::template connection_type<C>>; ++chunk)
                propagate_chunk<C>(lane, chunk);
        });
        record_lane(lane, step);
    }

    // Runs f<I>(local) for the item I whose task range [offsets[I], offsets[I+1]) holds task.
    template <std::size_t Count, class F>
    static void dispatch_task(const std::array<std::size_t, Count + 1>& offsets, std::size_t task, F&& f) {
        [&]<std::size_t... I>(std::index_sequence<I...>) {
            (void)((task >= offsets[I] && task < offsets[I + 1] ? (f.template operator()<I>(task - offsets[I]), true)
                                                                 : false) ||
                   ...);
        }(std::make_index_sequence<Count>{});
    }
    void update_chunk_task(std::size_t lane, std::size_t task, int step) {
        dispatch_task<num_populations>(chunk_offsets, task,
                                       [&]<std::size_t P>(std::size_t chunk) { update_chunk<P>(lane, chunk, step); });
    }
    void propagate_chunk_task(std::size_t lane, std::size_t task) {
        dispatch_task<num_connections>(propagation_offsets, task,
                                       [&]<std::size_t C>(std::size_t chunk) { propagate_chunk<C>(lane, chunk); });
    }

    // Sum of the currents of every connection into population P for one neuron;
    // each synapse model also advances its own in_syn (decay or clear).
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

    template <std::size_t P>
    void update_chunk(std::size_t lane, std::size_t chunk, int step) {
        using Pop = typename Net::template population_type<P>;
        using Model = typename Pop::neuron_type;
        auto& b = std::get<P>(populations_);
        const std::size_t begin = chunk * neuron_chunk;
        const std::size_t end = std::min(Pop::size, begin + neuron_chunk);
        std::uint32_t* queue = b.spike_ids.data() + lane * Pop::size + begin;
        std::uint32_t count = 0;

        if constexpr (is_input_model<Model>) {
            b.input.emit(lane, step, options_.seed, begin, end, queue, count);
        } else {
            constexpr int readout_var = readout_variable_index<Model, typename Pop::readout_type>;
            float dummy_accumulator = 0.0f;
            const float* biases = b.bias.data();
            const auto readout_dynamics = readout_at_step(b.readout_dynamics, step);
            for (std::size_t i = begin; i < end; ++i) {
                const std::size_t index = lane * Pop::size + i;
                NeuronState<Model> state;
                for (std::size_t v = 0; v < b.variables.size(); ++v) state[int(v)] = b.variables[v][index];
                float& accumulator = Pop::has_readout ? b.readout[index] : dummy_accumulator;
                const float isyn = synaptic_input<P>(lane, i);
                if (update_neuron<readout_var>(neuron_dynamics(b.dynamics, biases, i), state, isyn, readout_dynamics,
                                               accumulator, step))
                    queue[count++] = std::uint32_t(i);
                for (std::size_t v = 0; v < b.variables.size(); ++v) b.variables[v][index] = state[int(v)];
            }
        }
        b.spike_counts[lane * chunks_of<Pop> + chunk] = count;
        // Chunks of one lane may run on different threads (the chunk-parallel mode).
        std::atomic_ref<std::uint64_t>(b.total_spikes[lane]).fetch_add(count, std::memory_order_relaxed);
    }

    template <std::size_t C>
    void propagate_chunk(std::size_t lane, std::size_t chunk) {
        using Conn = typename Net::template connection_type<C>;
        using Pre = typename Conn::pre_type;
        constexpr std::size_t num_post = Conn::post_type::size;
        constexpr std::size_t pre_index = std::size_t(Net::connection_pre[C]);
        const auto& pre = std::get<pre_index>(populations_);
        auto& b = std::get<C>(connections_);
        const std::size_t begin = chunk * neuron_chunk;
        const std::size_t end = std::min(num_post, begin + neuron_chunk);
        float* in_syn = b.in_syn.data() + lane * num_post;
        const std::uint32_t* lane_spikes = pre.spike_ids.data() + lane * Pre::size;
        std::uint64_t events = 0;
        for (std::size_t k = 0; k < chunks_of<Pre>; ++k) {
            const std::uint32_t* spikes = lane_spikes + k * neuron_chunk;
            const std::uint32_t count = pre.spike_counts[lane * chunks_of<Pre> + k];
            for (std::uint32_t s = 0; s < count; ++s) {
                const std::uint32_t id = spikes[s];
                if constexpr (Conn::connectivity_type::kind == ConnectivityKind::dense) {
                    const float* row = b.storage.weights.data() + std::size_t(id) * num_post;
                    for (std::size_t j = begin; j < end; ++j) in_syn[j] += row[j];
                    events += end - begin;
                } else if constexpr (Conn::connectivity_type::kind == ConnectivityKind::one_to_one) {
                    if (id >= begin && id < end) {
                        in_syn[id] += b.storage.weights[id];
                        ++events;
                    }
                } else {
                    const std::uint32_t* first = b.storage.columns.data() + b.storage.row_start[id];
                    const std::uint32_t* last = b.storage.columns.data() + b.storage.row_start[id + 1];
                    if (begin != 0) first = std::lower_bound(first, last, std::uint32_t(begin));
                    if (end != num_post) last = std::lower_bound(first, last, std::uint32_t(end));
                    const float* weights = b.storage.weights.data() + (first - b.storage.columns.data());
                    for (const std::uint32_t* c = first; c != last; ++c, ++weights) in_syn[*c] += *weights;
                    events += std::uint64_t(last - first);
                }
            }
        }
        std::atomic_ref<std::uint64_t>(b.events[lane]).fetch_add(events, std::memory_order_relaxed);  // as total_spikes
    }

    // Recording: each lane writes only its own part of buffers sized before
    // the run, so the lane-parallel mode records without synchronisation.
    void record_lane(std::size_t lane, int step) {
        for_each_population([&]<std::size_t P>(auto& b) {
            using Pop = typename Net::template population_type<P>;
            if (this->recording_spikes(P)) {
                auto& steps = this->spike_record(P).steps[lane];
                auto& ids = this->spike_record(P).ids[lane];
                for (std::size_t k = 0; k < chunks_of<Pop>; ++k) {
                    const std::uint32_t* spikes = b.spike_ids.data() + lane * Pop::size + k * neuron_chunk;
                    const std::uint32_t count = b.spike_counts[lane * chunks_of<Pop> + k];
                    ids.insert(ids.end(), spikes, spikes + count);
                    steps.insert(steps.end(), count, step);
                }
            }
        });
        for (std::size_t r = 0; r < this->variable_requests().size(); ++r) {
            const auto [p, v] = this->variable_requests()[r];
            const std::size_t n = Net::population_sizes[p];
            const float* source = variable_data(p, v) + lane * n;
            float* target = this->variable_record(r).data() + (lane * std::size_t(options_.example_timesteps) + std::size_t(step)) * n;
            std::copy_n(source, n, target);
        }
    }

    void record_step(int step, std::size_t lanes) {
        for (std::size_t lane = 0; lane < lanes; ++lane) record_lane(lane, step);
    }

    const float* variable_data(std::size_t population, std::size_t variable) {
        const float* found = nullptr;
        for_each_population([&]<std::size_t P>(auto& b) {
            if (P == population && variable < b.variables.size()) found = b.variables[variable].data();
        });
        return found;
    }

    Net net_;
    SimulationOptions options_;
    ThreadPool pool_;
    std::size_t active_lanes_ = 0;
    typename PopulationBuffersOf<Net, PopulationBuffers>::type populations_;
    typename ConnectionBuffersOf<Net, ConnectionBuffers>::type connections_;
};

}  // namespace spikegraph::cpu_backend
