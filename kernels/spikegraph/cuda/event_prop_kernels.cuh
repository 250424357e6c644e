#pragma once
// The CUDA backend's EventProp kernels (Wunderlich & Pehle 2021). The forward
// pass is two launches a step: one updates every population and compacts its
// spikes into per-block queue segments (as the inference kernels), one adds
// them to their targets (blocks per target chunk, every connection into the
// target in connection order, so in_syn and V see the CPU backend's order of
// additions) and appends each population's spikes to its records. The
// backward pass is two launches a step, in reverse: one per presynaptic spike
// adds dL/dw of its synapses and gathers dL/d(offset), one per neuron runs the
// adjoint of its step. Every per-neuron formula is EventPropNeuron's
// (event_prop_neuron.hpp), the one the CPU simulator calls.
#include <array>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>

#include <spikegraph/interleaved_sum.hpp>
#include <spikegraph/cuda/runtime.hpp>
#if !defined(SPIKEGRAPH_CUDA_HOST_EMULATION)
#include <cub/block/block_scan.cuh>
#endif

#include <spikegraph/cuda/device_network.cuh>
#include <spikegraph/cuda/kernels.cuh>
#include <spikegraph/event_prop_neuron.hpp>
#include <spikegraph/model/precise_timing.hpp>
#include <spikegraph/model/synapse.hpp>

namespace spikegraph::cuda_backend {

template <class Pop>
struct EventPropDevicePopulation {
    using Model = typename Pop::neuron_type;
    static constexpr std::size_t num_variables = Model::Variables::size;

    typename Model::Dynamics dynamics;
    typename Pop::readout_type::Dynamics readout;
    NeuronState<Model> initial;
    const float* bias;                                        // null, or per neuron (model/neuron_bias.hpp)
    float* variables[num_variables > 0 ? num_variables : 1];  // [lane][neuron] each
    float* readout_value;                                     // [lane][neuron]
    std::int32_t* readout_step;                               // [lane][neuron]: MaxVar's step, FirstSpikeTime's step
    std::uint32_t* neuron_spikes;                             // [lane][neuron]: spikes in the run
    EventPropSpikeRecord* queue;                              // [lane][neuron]: the step's spikes, a segment per block
    std::uint32_t* queue_counts;                              // [lane][segment]
    EventPropSpikeRecord* records;                            // [lane][capacity]: the run's spikes in step order
    std::uint32_t* step_start;                                // [lane][step + 1]; SpikeInput: the schedule's offsets
    std::uint32_t capacity;                                   // records per lane
    const float* prepared;                                    // value inputs: [lane][neuron]
    const std::uint64_t* example_index;                       // value inputs: [lane]
    const std::uint32_t* schedule_ids;                        // SpikeInput
    float* lambda_v;                                          // [lane][neuron]: adjoint of V
    const float* output_gradient;                             // the output: dL/dy, [lane][neuron]
    const float* drive;                                       // [neuron]: the regulariser's dL/dV per spike
};

template <class Conn>
struct EventPropDeviceConnection {
    typename Exponential::Dynamics synapse;
    ExponentialArrival arrival;
    float* in_syn;                   // [lane][post]
    float* lambda_j;                 // [lane][post]: adjoint of in_syn
    const float* weights;            // the host layout (detail::ConnectionStorage)
    const std::uint32_t* row_start;  // sparse only
    const std::uint32_t* columns;    // sparse only
    float* gradient;                 // dL/dw summed over lanes, the layout of the weights
    float* u_bar;                    // [lane][pre]: dL/d(offset) of the step's presynaptic spikes, by position
    unsigned long long* events;      // [lane]
};

template <class Net>
struct EventPropDeviceNetwork {
    using Tuples = DeviceTuplesOf<Net, EventPropDevicePopulation, EventPropDeviceConnection>;
    typename Tuples::populations populations;
    typename Tuples::connections connections;
    std::uint64_t seed;
    float dt;
    int timesteps;
    unsigned lanes;
    int* step_base;  // device: the first step of the current graph launch (forward), or its last (backward)
};

// Running sums of count(integral_constant<I>) over I < N: block ranges.
template <std::size_t N, class Count>
constexpr std::array<unsigned, N + 1> block_offsets(Count count) {
    std::array<unsigned, N + 1> result{};
    [&]<std::size_t... I>(std::index_sequence<I...>) {
        unsigned running = 0;
        ((result[I] = running, running += count(std::integral_constant<std::size_t, I>{})), ...);
        result[N] = running;
    }(std::make_index_sequence<N>{});
    return result;
}

// Block ranges of the EventProp kernels, fixed at compile time from the graph.
template <class Net>
struct EventPropLayout {
    template <std::size_t P>
    using population = typename Net::template population_type<P>;
    template <std::size_t C>
    using connection = typename Net::template connection_type<C>;

    template <std::size_t P>
    static constexpr bool is_spike_input = population<P>::neuron_type::kind == NeuronKind::spike_input;
    template <std::size_t P>
    static constexpr bool is_input = is_input_model<typename population<P>::neuron_type>;
    template <std::size_t P>
    static constexpr bool receives = [] {
        for (int post : Net::connection_post)
            if (post == int(P)) return true;
        return false;
    }();

    // Per population: update blocks (its queue segments), receive blocks (its
    // target chunks, when some connection ends in it), one commit block (its
    // records, unless a SpikeInput, whose records are its schedule), reverse
    // blocks (neurons only). Per connection: blocks sharing its spikes backwards.
    template <std::size_t P>
    static constexpr unsigned receive_blocks_of = receives<P> ? unsigned((population<P>::size + block_size - 1) / block_size) : 0u;
    template <std::size_t P>
    static constexpr unsigned commit_blocks_of = is_spike_input<P> ? 0u : 1u;
    template <std::size_t P>
    static constexpr unsigned reverse_update_blocks_of = is_input<P> ? 0u : segments_of<population<P>>;
    template <std::size_t C>
    static constexpr unsigned reverse_propagate_blocks_of =
        connection<C>::pre_type::size < 32 ? unsigned(connection<C>::pre_type::size) : 32u;

    static constexpr auto receive_offsets =
        block_offsets<Net::num_populations>([]<std::size_t P>(std::integral_constant<std::size_t, P>) { return receive_blocks_of<P>; });
    static constexpr auto commit_offsets =
        block_offsets<Net::num_populations>([]<std::size_t P>(std::integral_constant<std::size_t, P>) { return commit_blocks_of<P>; });
    static constexpr auto reverse_update_offsets = block_offsets<Net::num_populations>(
        []<std::size_t P>(std::integral_constant<std::size_t, P>) { return reverse_update_blocks_of<P>; });
    static constexpr auto reverse_propagate_offsets = block_offsets<Net::num_connections>(
        []<std::size_t C>(std::integral_constant<std::size_t, C>) { return reverse_propagate_blocks_of<C>; });

    static constexpr unsigned update_blocks = KernelLayout<Net>::update_blocks;
    static constexpr unsigned receive_blocks = receive_offsets[Net::num_populations];
    static constexpr unsigned propagate_blocks = receive_blocks + commit_offsets[Net::num_populations];
    static constexpr unsigned reverse_update_blocks = reverse_update_offsets[Net::num_populations];
    static constexpr unsigned reverse_propagate_blocks = reverse_propagate_offsets[Net::num_connections];
};

// First position in [first, last) whose column is >= value (columns sorted).
__device__ SPIKEGRAPH_INLINE std::uint32_t lower_bound_column(const std::uint32_t* columns, std::uint32_t first,
                                                               std::uint32_t last, std::uint32_t value) {
    while (first < last) {
        const std::uint32_t middle = first + (last - first) / 2;
        if (columns[middle] < value) first = middle + 1;
        else last = middle;
    }
    return first;
}

// A tile of up to block_size presynaptic spikes in shared memory.
struct SpikeTile {
    std::uint32_t id[block_size];
    float offset[block_size];
    float current[block_size], voltage[block_size];  // a connection's arrival factors of each spike
    unsigned count;
};

// Where population P's spikes of a step lie: positions [first, last) of its
// records (or, for a SpikeInput, of its schedule), for the backward pass.
template <class Net, std::size_t P>
struct StepRecords {
    const std::uint32_t* ids = nullptr;          // SpikeInput
    const EventPropSpikeRecord* records = nullptr;
    std::uint32_t first = 0, last = 0;

    __device__ SPIKEGRAPH_INLINE StepRecords(const EventPropDeviceNetwork<Net>& net, unsigned lane, int step) {
        const auto& pop = get<P>(net.populations);
        const std::uint32_t* start = pop.step_start + std::size_t(lane) * std::size_t(net.timesteps + 1);
        first = start[step];
        last = start[step + 1];
        if constexpr (EventPropLayout<Net>::template is_spike_input<P>) ids = pop.schedule_ids;
        else records = pop.records + std::size_t(lane) * pop.capacity;
    }
    __device__ SPIKEGRAPH_INLINE std::uint32_t id(std::uint32_t r) const { return ids != nullptr ? ids[r] : records[r].id; }
};

// Calls tile_work() with the step's spikes of population Pre loaded into
// `tile`, in queue order, tile by tile; every thread of the block must call it.
template <class Net, std::size_t Pre, class TileWork>
__device__ SPIKEGRAPH_INLINE void for_each_spike_tile(const EventPropDeviceNetwork<Net>& net, SpikeTile& tile, unsigned lane,
                                                      int step, TileWork&& tile_work) {
    using Pop = typename Net::template population_type<Pre>;
    const auto& pop = get<Pre>(net.populations);
    if constexpr (EventPropLayout<Net>::template is_spike_input<Pre>) {
        const StepRecords<Net, Pre> spikes(net, lane, step);
        for (std::uint32_t begin = spikes.first; begin < spikes.last; begin += block_size) {
            const std::uint32_t count = spikes.last - begin < block_size ? spikes.last - begin : block_size;
            __syncthreads();
            if (threadIdx.x < count) {
                tile.id[threadIdx.x] = spikes.ids[begin + threadIdx.x];
                tile.offset[threadIdx.x] = net.dt;
            }
            if (threadIdx.x == 0) tile.count = count;
            __syncthreads();
            tile_work();
        }
    } else {
        for (unsigned k = 0; k < segments_of<Pop>; ++k) {
            const std::uint32_t count = pop.queue_counts[std::size_t(lane) * segments_of<Pop> + k];
            if (count == 0) continue;
            __syncthreads();
            if (threadIdx.x < count) {
                const EventPropSpikeRecord& spike = pop.queue[std::size_t(lane) * Pop::size + k * block_size + threadIdx.x];
                tile.id[threadIdx.x] = spike.id;
                tile.offset[threadIdx.x] = spike.offset;
            }
            if (threadIdx.x == 0) tile.count = count;
            __syncthreads();
            tile_work();
        }
    }
}

// ---- forward ---------------------------------------------------------------

template <class Net, std::size_t P>
__device__ SPIKEGRAPH_INLINE float event_prop_synaptic_input(const EventPropDeviceNetwork<Net>& net, unsigned lane, unsigned neuron) {
    float isyn = 0.0f;
    [&]<std::size_t... C>(std::index_sequence<C...>) {
        (
            [&] {
                if constexpr (Net::connection_post[C] == int(P)) {
                    constexpr std::size_t post = Net::template connection_type<C>::post_type::size;
                    const auto& connection = get<C>(net.connections);
                    isyn += connection.synapse.inject(connection.in_syn[std::size_t(lane) * post + neuron]);
                }
            }(),
            ...);
    }(std::make_index_sequence<Net::num_connections>{});
    return isyn;
}

template <class Net, std::size_t P>
__device__ void event_prop_update_population(const EventPropDeviceNetwork<Net>& net, SpikeScan::TempStorage& scan,
                                             unsigned segment, unsigned lane, int step) {
    using Pop = typename Net::template population_type<P>;
    using Model = typename Pop::neuron_type;
    if constexpr (Model::kind != NeuronKind::spike_input) {  // SpikeInput spikes come from the schedule
        const auto& pop = get<P>(net.populations);
        const unsigned neuron = segment * block_size + threadIdx.x;
        const std::size_t index = std::size_t(lane) * Pop::size + neuron;
        bool fired = false;
        EventPropSpikeRecord record{neuron, net.dt, 0.0f, 0.0f};  // input spikes sit at the end of their step
        if (neuron < Pop::size) {
            if constexpr (Model::kind == NeuronKind::value_input) {
                fired = value_input_fires<P, Pop>(pop.dynamics, pop.prepared, pop.example_index, net.seed, lane, neuron, step);
            } else {
                NeuronState<Model> state;
                for (std::size_t v = 0; v < Model::Variables::size; ++v) state[int(v)] = pop.variables[v][index];
                const float isyn = event_prop_synaptic_input<Net, P>(net, lane, neuron);
                fired = EventPropNeuron<Model, typename Pop::readout_type>::forward(
                    neuron_dynamics(pop.dynamics, pop.bias, neuron), pop.readout, state, isyn, pop.readout_value[index], pop.readout_step[index], step, net.dt,
                    record);
                record.id = neuron;
                for (std::size_t v = 0; v < Model::Variables::size; ++v) pop.variables[v][index] = state[int(v)];
            }
            if (fired) ++pop.neuron_spikes[index];
        }
        // This block's spikes to its queue segment, in ascending id order.
        unsigned position = 0, total = 0;
        SpikeScan(scan).ExclusiveSum(fired ? 1u : 0u, position, total);
        if (fired) pop.queue[std::size_t(lane) * Pop::size + segment * block_size + position] = record;
        if (threadIdx.x == 0) pop.queue_counts[std::size_t(lane) * segments_of<Pop> + segment] = total;
    }
}

// The spikes of connection C's source in this step into the targets of chunk
// [begin, end): the current w exp(-(dt-u)/tau_syn) into in_syn and the
// voltage integrated since the spike into V (model/precise_timing.hpp).
template <class Net, std::size_t C>
__device__ void event_prop_receive(const EventPropDeviceNetwork<Net>& net, SpikeTile& tile, unsigned chunk, unsigned lane, int step) {
    using Conn = typename Net::template connection_type<C>;
    using Post = typename Conn::post_type;
    constexpr std::size_t pre_index = std::size_t(Net::connection_pre[C]);
    constexpr std::size_t post_index = std::size_t(Net::connection_post[C]);
    constexpr std::size_t num_post = Post::size;
    constexpr bool from_input = is_input_model<typename Conn::pre_type::neuron_type>;
    constexpr ConnectivityKind kind = Conn::connectivity_type::kind;
    const auto& connection = get<C>(net.connections);
    float* in_syn = connection.in_syn + std::size_t(lane) * num_post;
    float* v = get<post_index>(net.populations).variables[Post::neuron_type::V] + std::size_t(lane) * num_post;
    const std::uint32_t begin = chunk * block_size;
    const std::uint32_t end = std::uint32_t(begin + block_size < num_post ? begin + block_size : num_post);
    std::uint64_t events = 0;
    for_each_spike_tile<Net, pre_index>(net, tile, lane, step, [&] {
        if constexpr (!from_input) {
            // Each spike's factors once, not once per synapse.
            if (threadIdx.x < tile.count) {
                const auto f = connection.arrival.factors(tile.offset[threadIdx.x]);
                tile.current[threadIdx.x] = f.current;
                tile.voltage[threadIdx.x] = f.voltage;
            }
            __syncthreads();
        }
        if constexpr (kind == ConnectivityKind::dense) {
            const std::uint32_t post = begin + threadIdx.x;
            if (post < end) {
                float current = in_syn[post], voltage = v[post];
                for (unsigned s = 0; s < tile.count; ++s) {
                    const float w = connection.weights[std::size_t(tile.id[s]) * num_post + post];
                    if constexpr (from_input) {
                        current += w;
                    } else {
                        current += w * tile.current[s];
                        voltage += w * tile.voltage[s];
                    }
                }
                in_syn[post] = current;
                if constexpr (!from_input) v[post] = voltage;
            }
            events += std::uint64_t(tile.count) * (end - begin);
        } else if constexpr (kind == ConnectivityKind::one_to_one) {
            // Each target has one source, which fires at most once a step.
            if (threadIdx.x < tile.count) {
                const std::uint32_t id = tile.id[threadIdx.x];
                if (id >= begin && id < end) {
                    const float w = connection.weights[id];
                    if constexpr (from_input) {
                        in_syn[id] += w;
                    } else {
                        in_syn[id] += w * tile.current[threadIdx.x];
                        v[id] += w * tile.voltage[threadIdx.x];
                    }
                }
            }
            for (unsigned s = 0; s < tile.count; ++s) events += tile.id[s] >= begin && tile.id[s] < end ? 1u : 0u;
        } else {
            // Sparse (CSR): spike by spike in queue order, the block spreads the
            // row's part in this chunk over its threads (columns in a row are distinct).
            for (unsigned s = 0; s < tile.count; ++s) {
                const std::uint32_t id = tile.id[s];
                std::uint32_t first = connection.row_start[id];
                std::uint32_t last = connection.row_start[id + 1];
                if (begin != 0) first = lower_bound_column(connection.columns, first, last, begin);
                if (end != num_post) last = lower_bound_column(connection.columns, first, last, end);
                for (std::uint32_t e = first + threadIdx.x; e < last; e += block_size) {
                    const std::uint32_t post = connection.columns[e];
                    const float w = connection.weights[e];
                    if constexpr (from_input) {
                        in_syn[post] += w;
                    } else {
                        in_syn[post] += w * tile.current[s];
                        v[post] += w * tile.voltage[s];
                    }
                }
                events += last - first;
                __syncthreads();
            }
        }
    });
    if (threadIdx.x == 0 && events != 0) atomicAdd(connection.events + lane, static_cast<unsigned long long>(events));
}

// Every connection into population P, in connection order, for one target chunk.
template <class Net, std::size_t P>
__device__ SPIKEGRAPH_INLINE void event_prop_receive_population(const EventPropDeviceNetwork<Net>& net, SpikeTile& tile,
                                                                unsigned chunk, unsigned lane, int step) {
    [&]<std::size_t... C>(std::index_sequence<C...>) {
        (
            [&] {
                if constexpr (Net::connection_post[C] == int(P)) event_prop_receive<Net, C>(net, tile, chunk, lane, step);
            }(),
            ...);
    }(std::make_index_sequence<Net::num_connections>{});
}

// Appends population P's spikes of the step to its records (segments in
// order, so a step's records are in ascending id order). Records past the
// capacity are counted but not written; the host then grows the buffer and
// runs the batch again.
template <class Net, std::size_t P>
__device__ void event_prop_commit(const EventPropDeviceNetwork<Net>& net, unsigned lane, int step) {
    using Pop = typename Net::template population_type<P>;
    const auto& pop = get<P>(net.populations);
    std::uint32_t* start = pop.step_start + std::size_t(lane) * std::size_t(net.timesteps + 1);
    EventPropSpikeRecord* records = pop.records + std::size_t(lane) * pop.capacity;
    std::uint32_t cursor = start[step];
    for (unsigned k = 0; k < segments_of<Pop>; ++k) {
        const std::uint32_t count = pop.queue_counts[std::size_t(lane) * segments_of<Pop> + k];
        const EventPropSpikeRecord* segment = pop.queue + std::size_t(lane) * Pop::size + k * block_size;
        for (std::uint32_t s = threadIdx.x; s < count; s += block_size)
            if (cursor + s < pop.capacity) records[cursor + s] = segment[s];
        cursor += count;
    }
    if (threadIdx.x == 0) start[step + 1] = cursor;
}

template <class Net>
__global__ void __launch_bounds__(block_size)
    event_prop_update_kernel(const __grid_constant__ EventPropDeviceNetwork<Net> net, int step_in_launch) {
    __shared__ SpikeScan::TempStorage scan;
    const int step = *net.step_base + step_in_launch;
    if (step >= net.timesteps) return;
    using Layout = KernelLayout<Net>;
    const unsigned block = blockIdx.x;
    [&]<std::size_t... P>(std::index_sequence<P...>) {
        (void)((block < Layout::template update_end<P>
                    ? (event_prop_update_population<Net, P>(net, scan, block - Layout::template update_begin<P>, blockIdx.y, step), true)
                    : false) ||
               ...);
    }(std::make_index_sequence<Net::num_populations>{});
}

template <class Net>
__global__ void __launch_bounds__(block_size)
    event_prop_propagate_kernel(const __grid_constant__ EventPropDeviceNetwork<Net> net, int step_in_launch) {
    __shared__ SpikeTile tile;
    const int step = *net.step_base + step_in_launch;
    if (step >= net.timesteps) return;
    using Layout = EventPropLayout<Net>;
    // Signed comparisons: a range may end at 0 (nvcc warns of unsigned < 0).
    const unsigned block = blockIdx.x;
    [&]<std::size_t... P>(std::index_sequence<P...>) {
        if (int(block) < int(Layout::receive_blocks)) {
            (void)((int(block) < int(Layout::receive_offsets[P + 1])
                        ? (event_prop_receive_population<Net, P>(net, tile, block - Layout::receive_offsets[P], blockIdx.y, step), true)
                        : false) ||
                   ...);
        } else {
            const unsigned commit = block - Layout::receive_blocks;
            (void)((int(commit) < int(Layout::commit_offsets[P + 1]) ? (event_prop_commit<Net, P>(net, blockIdx.y, step), true) : false) ||
                   ...);
        }
    }(std::make_index_sequence<Net::num_populations>{});
}

// ---- backward --------------------------------------------------------------

// Adjoint of the propagation of connection C's spikes in `step`: with the
// targets' adjoints at the end of the step, each spike adds dL/dw to its
// synapses (summed over lanes with atomics) and, from a neuron, gathers
// dL/d(offset) over its synapses in the CPU backend's order
// (detail::InterleavedSum over the row's positions, summed by thread 0).
template <class Net, std::size_t C>
__device__ void event_prop_reverse_propagate(const EventPropDeviceNetwork<Net>& net, float* terms, unsigned part,
                                             unsigned lane, int step) {
    using Conn = typename Net::template connection_type<C>;
    constexpr std::size_t pre_index = std::size_t(Net::connection_pre[C]);
    constexpr std::size_t post_index = std::size_t(Net::connection_post[C]);
    constexpr std::size_t num_post = Conn::post_type::size;
    constexpr bool from_input = is_input_model<typename Conn::pre_type::neuron_type>;
    constexpr ConnectivityKind kind = Conn::connectivity_type::kind;
    constexpr unsigned parts = EventPropLayout<Net>::template reverse_propagate_blocks_of<C>;
    const auto& connection = get<C>(net.connections);
    const float* lambda_j = connection.lambda_j + std::size_t(lane) * num_post;
    const float* lambda_v = get<post_index>(net.populations).lambda_v + std::size_t(lane) * num_post;
    const StepRecords<Net, pre_index> spikes(net, lane, step);
    for (std::uint32_t r = spikes.first + part; r < spikes.last; r += parts) {
        const std::uint32_t id = spikes.id(r);
        [[maybe_unused]] ExponentialArrival::Factors f{};
        if constexpr (!from_input) f = connection.arrival.factors(spikes.records[r].offset);
        std::size_t first = 0, last = 0;
        if constexpr (kind == ConnectivityKind::dense) {
            first = std::size_t(id) * num_post;
            last = first + num_post;
        } else if constexpr (kind == ConnectivityKind::one_to_one) {
            first = id;
            last = id + 1;
        } else {
            first = connection.row_start[id];
            last = connection.row_start[id + 1];
        }
        [[maybe_unused]] detail::InterleavedSum u_bar;  // thread 0's
        for (std::size_t tile = first; tile < last; tile += block_size) {
            const std::size_t e = tile + threadIdx.x;
            if (e < last) {
                std::size_t post = 0;
                if constexpr (kind == ConnectivityKind::dense) post = e - first;
                else if constexpr (kind == ConnectivityKind::one_to_one) post = id;
                else post = connection.columns[e];
                if constexpr (from_input) {
                    atomicAdd(connection.gradient + e, lambda_j[post]);
                } else {
                    atomicAdd(connection.gradient + e, f.current * lambda_j[post] + f.voltage * lambda_v[post]);
                    terms[threadIdx.x] =
                        connection.weights[e] * (f.d_current_d_u * lambda_j[post] + f.d_voltage_d_u * lambda_v[post]);
                }
            }
            if constexpr (!from_input) {
                __syncthreads();
                if (threadIdx.x == 0) {
                    const std::size_t count = last - tile < block_size ? last - tile : block_size;
                    for (std::size_t t = 0; t < count; ++t) u_bar.add(tile - first + t, terms[t]);
                }
                __syncthreads();
            }
        }
        if constexpr (!from_input)
            if (threadIdx.x == 0)
                connection.u_bar[std::size_t(lane) * Conn::pre_type::size + (r - spikes.first)] = u_bar.total();
    }
}

// First position in [first, last) of records whose id is >= id (a step's
// records are in ascending id order).
__device__ SPIKEGRAPH_INLINE std::uint32_t lower_bound_record(const EventPropSpikeRecord* records, std::uint32_t first,
                                                               std::uint32_t last, std::uint32_t id) {
    while (first < last) {
        const std::uint32_t middle = first + (last - first) / 2;
        if (records[middle].id < id) first = middle + 1;
        else last = middle;
    }
    return first;
}

// Adjoint of population P's step for one neuron: EventPropNeuron::reverse with
// its readout's term (the output), its spike of the step if any, and then
// the adjoints of the synapses into it.
template <class Net, std::size_t P, std::size_t Output>
__device__ void event_prop_reverse_update(const EventPropDeviceNetwork<Net>& net, unsigned segment, unsigned lane, int step) {
    using Pop = typename Net::template population_type<P>;
    using Model = typename Pop::neuron_type;
    if constexpr (!is_input_model<Model>) {
        using Neuron = EventPropNeuron<Model, typename Pop::readout_type>;
        const auto& pop = get<P>(net.populations);
        const unsigned neuron = segment * block_size + threadIdx.x;
        if (neuron >= Pop::size) return;
        const std::size_t index = std::size_t(lane) * Pop::size + neuron;
        float v = pop.lambda_v[index];
        float g = 0.0f;
        if constexpr (P == Output) {
            g = pop.output_gradient[index];
            v = Neuron::readout_term(pop.readout, v, g, pop.readout_step[index], step, net.timesteps);
        }
        const EventPropSpikeRecord* spike = nullptr;
        float u_bar = 0.0f, drive = 0.0f;
        if constexpr (is_spiking_model<Model>) {
            const StepRecords<Net, P> spikes(net, lane, step);
            const std::uint32_t r = lower_bound_record(spikes.records, spikes.first, spikes.last, neuron);
            if (r < spikes.last && spikes.records[r].id == neuron) {
                spike = spikes.records + r;
                drive = pop.drive[neuron];
                [&]<std::size_t... C>(std::index_sequence<C...>) {
                    (
                        [&] {
                            if constexpr (Net::connection_pre[C] == int(P))
                                u_bar += get<C>(net.connections).u_bar[std::size_t(lane) * Pop::size + (r - spikes.first)];
                        }(),
                        ...);
                }(std::make_index_sequence<Net::num_connections>{});
            }
        }
        const bool first_spike = P == Output && Neuron::is_first_spike_time && pop.readout_step[index] == step;
        const float v_bar = Neuron::reverse(pop.dynamics, pop.lambda_v[index], v, spike, u_bar, drive, first_spike, g);
        // in_syn(n+1) = beta in_syn(n) + spikes; V after integration has k in_syn(n).
        [&]<std::size_t... C>(std::index_sequence<C...>) {
            (
                [&] {
                    if constexpr (Net::connection_post[C] == int(P)) {
                        const auto& connection = get<C>(net.connections);
                        float& lambda_j = connection.lambda_j[index];
                        lambda_j = connection.synapse.decay * lambda_j + connection.arrival.k * v_bar;
                    }
                }(),
                ...);
        }(std::make_index_sequence<Net::num_connections>{});
    }
}

template <class Net>
__global__ void __launch_bounds__(block_size)
    event_prop_reverse_propagate_kernel(const __grid_constant__ EventPropDeviceNetwork<Net> net, int step_in_launch) {
    __shared__ float terms[block_size];
    const int step = *net.step_base - step_in_launch;
    if (step < 0) return;
    using Layout = EventPropLayout<Net>;
    const unsigned block = blockIdx.x;
    [&]<std::size_t... C>(std::index_sequence<C...>) {
        (void)((int(block) < int(Layout::reverse_propagate_offsets[C + 1])
                    ? (event_prop_reverse_propagate<Net, C>(net, terms, block - Layout::reverse_propagate_offsets[C],
                                                            blockIdx.y, step),
                       true)
                    : false) ||
               ...);
    }(std::make_index_sequence<Net::num_connections>{});
}

template <class Net, std::size_t Output>
__global__ void __launch_bounds__(block_size)
    event_prop_reverse_update_kernel(const __grid_constant__ EventPropDeviceNetwork<Net> net, int step_in_launch) {
    const int step = *net.step_base - step_in_launch;
    if (step < 0) return;
    using Layout = EventPropLayout<Net>;
    const unsigned block = blockIdx.x;
    [&]<std::size_t... P>(std::index_sequence<P...>) {
        (void)((int(block) < int(Layout::reverse_update_offsets[P + 1])
                    ? (event_prop_reverse_update<Net, P, Output>(net, block - Layout::reverse_update_offsets[P], blockIdx.y, step), true)
                    : false) ||
               ...);
    }(std::make_index_sequence<Net::num_populations>{});
}

// The start of a forward run: variables and readouts to their initial
// values, in_syn, statistics and record cursors to zero, step base 0; or,
// with backward set, the start of a backward pass: every adjoint to zero and
// the step base at the last step.
template <class Net>
__global__ void __launch_bounds__(block_size)
    event_prop_reset_kernel(const __grid_constant__ EventPropDeviceNetwork<Net> net, bool backward) {
    const std::size_t stride = std::size_t(gridDim.x) * block_size;
    const std::size_t first = std::size_t(blockIdx.x) * block_size + threadIdx.x;
    const std::size_t lanes = net.lanes;
    if (first == 0) *net.step_base = backward ? net.timesteps - 1 : 0;
    [&]<std::size_t... P>(std::index_sequence<P...>) {
        (
            [&] {
                using Pop = typename Net::template population_type<P>;
                using Model = typename Pop::neuron_type;
                const auto& pop = get<P>(net.populations);
                if constexpr (!is_input_model<Model>) {
                    for (std::size_t i = first; i < lanes * Pop::size; i += stride) {
                        if (backward) {
                            pop.lambda_v[i] = 0.0f;
                            continue;
                        }
                        for (std::size_t v = 0; v < Model::Variables::size; ++v) pop.variables[v][i] = pop.initial[int(v)];
                        pop.readout_value[i] = pop.readout.initial;
                        pop.readout_step[i] = -1;
                    }
                }
                if constexpr (!EventPropLayout<Net>::template is_spike_input<P>) {
                    if (!backward) {
                        for (std::size_t i = first; i < lanes * Pop::size; i += stride) pop.neuron_spikes[i] = 0;
                        for (std::size_t i = first; i < lanes; i += stride)
                            pop.step_start[i * std::size_t(net.timesteps + 1)] = 0;
                    }
                }
            }(),
            ...);
    }(std::make_index_sequence<Net::num_populations>{});
    [&]<std::size_t... C>(std::index_sequence<C...>) {
        (
            [&] {
                constexpr std::size_t num_post = Net::template connection_type<C>::post_type::size;
                const auto& connection = get<C>(net.connections);
                for (std::size_t i = first; i < lanes * num_post; i += stride) {
                    if (backward) connection.lambda_j[i] = 0.0f;
                    else connection.in_syn[i] = 0.0f;
                }
                if (!backward)
                    for (std::size_t i = first; i < lanes; i += stride) connection.events[i] = 0;
            }(),
            ...);
    }(std::make_index_sequence<Net::num_connections>{});
}

}  // namespace spikegraph::cuda_backend
