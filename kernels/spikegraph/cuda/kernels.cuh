#pragma once
// The CUDA backend's kernels. Per timestep there are two launches: one
// updates every population (blocks assigned to populations at compile time),
// one propagates every connection. Both are instantiated from the network's
// type, and both call the same model functions as the CPU backend
// (update_neuron, inject, the input models' fires), so no dynamics are
// written twice. The order of every float addition matches the CPU backend's,
// so the two give the same spikes (see docs/architecture.md, "CUDA backend").
#include <cstddef>
#include <cstdint>
#include <utility>

#include <spikegraph/cuda/runtime.hpp>
#if !defined(SPIKEGRAPH_CUDA_HOST_EMULATION)
#include <cub/block/block_scan.cuh>
#endif

#include <spikegraph/cuda/device_network.cuh>
#include <spikegraph/cuda/sparse_row_split.hpp>
#include <spikegraph/model/neuron_update.hpp>
#include <spikegraph/philox.hpp>

namespace spikegraph::cuda_backend {

using SpikeScan = cub::BlockScan<unsigned, block_size>;

// Sum of the currents of every connection into population P for one neuron, in
// connection order (as the CPU backend); each synapse model advances its in_syn.
template <class Net, std::size_t P, std::size_t... C>
__device__ SPIKEGRAPH_INLINE float synaptic_input(const DeviceNetwork<Net>& net, unsigned lane, unsigned neuron,
                                                  std::index_sequence<C...>) {
    float isyn = 0.0f;
    (
        [&] {
            if constexpr (Net::connection_post[C] == int(P)) {
                constexpr std::size_t post = Net::template connection_type<C>::post_type::size;
                const auto& connection = get<C>(net.connections);
                isyn += connection.synapse.inject(connection.in_syn[std::size_t(lane) * post + neuron]);
            }
        }(),
        ...);
    return isyn;
}

// Whether neuron `neuron` of value-input population P fires in `step`: the
// random number is the one the CPU backend's InputSource draws.
template <std::size_t P, class Pop, class Model = typename Pop::neuron_type>
__device__ SPIKEGRAPH_INLINE bool value_input_fires(const typename Model::Dynamics& dynamics, const float* prepared,
                                                    const std::uint64_t* example_index, std::uint64_t seed,
                                                    unsigned lane, unsigned neuron, int step) {
    float u = 0.0f;
    if constexpr (Model::needs_random) {
        const std::uint64_t example = example_index[lane];
        u = detail::uniform(seed, std::uint32_t(step), neuron, static_cast<std::uint32_t>(example),
                            (std::uint32_t(P) << 24) ^ static_cast<std::uint32_t>(example >> 32));
    }
    return dynamics.fires(prepared[std::size_t(lane) * Pop::size + neuron], u);
}

// Writes this block's spikes to its queue segment in ascending id order (a
// block-wide exclusive scan of the spike flags), its count, the lane's total,
// and, when recording, one bit per neuron.
template <class Net, class Pop>
__device__ SPIKEGRAPH_INLINE void enqueue_spikes(const DeviceNetwork<Net>& net, const DevicePopulation<Pop>& pop,
                                                 SpikeScan::TempStorage& scan, bool fired, unsigned neuron,
                                                 unsigned segment, unsigned lane, int step) {
    unsigned position = 0, total = 0;
    SpikeScan(scan).ExclusiveSum(fired ? 1u : 0u, position, total);
    if (fired) pop.spike_ids[std::size_t(lane) * Pop::size + segment * block_size + position] = neuron;
    if (threadIdx.x == 0) {
        pop.spike_counts[std::size_t(lane) * segments_of<Pop> + segment] = total;
        if (total != 0) atomicAdd(pop.total_spikes + lane, static_cast<unsigned long long>(total));
    }
    const unsigned word = __ballot_sync(0xffffffffu, fired);
    if (pop.spike_record != nullptr && (threadIdx.x & 31u) == 0 && neuron < Pop::size)
        pop.spike_record[(std::size_t(step) * net.lanes + lane) * record_words_of<Pop> + neuron / 32] = word;
}

template <class Net, std::size_t P>
__device__ void update_population(const DeviceNetwork<Net>& net, SpikeScan::TempStorage& scan, unsigned segment,
                                  unsigned lane, int step) {
    using Pop = typename Net::template population_type<P>;
    using Model = typename Pop::neuron_type;
    const auto& pop = get<P>(net.populations);
    const unsigned neuron = segment * block_size + threadIdx.x;
    const bool active = neuron < Pop::size;
    [[maybe_unused]] const std::size_t index = std::size_t(lane) * Pop::size + neuron;

    if constexpr (Model::kind == NeuronKind::spike_input) {
        // Replay the step's spikes from the schedule built on the host (queue order kept).
        const std::uint32_t* offsets = pop.schedule_offsets + std::size_t(lane) * std::size_t(net.timesteps + 1);
        const std::uint32_t begin = offsets[step];
        const std::uint32_t count = offsets[step + 1] - begin;
        for (std::uint32_t s = threadIdx.x; s < count; s += block_size)
            pop.spike_ids[std::size_t(lane) * Pop::size + s] = pop.schedule_ids[begin + s];
        if (threadIdx.x == 0) {
            pop.spike_counts[lane] = count;
            if (count != 0) atomicAdd(pop.total_spikes + lane, static_cast<unsigned long long>(count));
        }
    } else if constexpr (Model::kind == NeuronKind::value_input) {
        const bool fired =
            active && value_input_fires<P, Pop>(pop.dynamics, pop.prepared, pop.example_index, net.seed, lane, neuron, step);
        enqueue_spikes(net, pop, scan, fired, neuron, segment, lane, step);
    } else {
        constexpr int readout_variable = readout_variable_index<Model, typename Pop::readout_type>;
        constexpr std::size_t num_variables = Model::Variables::size;
        bool fired = false;
        if (active) {
            NeuronState<Model> state;
            for (std::size_t v = 0; v < num_variables; ++v) state[int(v)] = pop.variables[v][index];
            float accumulator = 0.0f;
            if constexpr (Pop::has_readout) accumulator = pop.readout_accumulator[index];
            const float isyn = synaptic_input<Net, P>(net, lane, neuron, std::make_index_sequence<Net::num_connections>{});
            fired = update_neuron<readout_variable>(neuron_dynamics(pop.dynamics, pop.bias, neuron), state, isyn, pop.readout,
                                                    accumulator, step);
            for (std::size_t v = 0; v < num_variables; ++v) {
                pop.variables[v][index] = state[int(v)];
                if (pop.variable_record[v] != nullptr)
                    pop.variable_record[v][(std::size_t(lane) * std::size_t(net.timesteps) + std::size_t(step)) * Pop::size +
                                           neuron] = state[int(v)];
            }
            if constexpr (Pop::has_readout) pop.readout_accumulator[index] = accumulator;
        }
        enqueue_spikes(net, pop, scan, fired, neuron, segment, lane, step);
    }
}

template <class Net, std::size_t C>
__device__ void propagate_connection(const DeviceNetwork<Net>& net, unsigned chunk, unsigned lane) {
    using Conn = typename Net::template connection_type<C>;
    using Pre = typename Conn::pre_type;
    constexpr std::size_t num_post = Conn::post_type::size;
    constexpr std::size_t pre_index = std::size_t(Net::connection_pre[C]);
    const auto& pre = get<pre_index>(net.populations);
    const auto& connection = get<C>(net.connections);
    const std::uint32_t* spike_ids = pre.spike_ids + std::size_t(lane) * Pre::size;
    const std::uint32_t* spike_counts = pre.spike_counts + std::size_t(lane) * segments_of<Pre>;
    float* in_syn = connection.in_syn + std::size_t(lane) * num_post;

    if constexpr (Conn::connectivity_type::kind == ConnectivityKind::one_to_one) {
        // One thread a spike of this presynaptic segment: each target is hit at most once.
        const std::uint32_t count = spike_counts[chunk];
        const std::uint32_t* ids = spike_ids + chunk * block_size;
        for (std::uint32_t s = threadIdx.x; s < count; s += block_size) {
            const std::uint32_t id = ids[s];
            in_syn[id] += connection.weights[id];
        }
        if (threadIdx.x == 0 && count != 0) atomicAdd(connection.events + lane, static_cast<unsigned long long>(count));
    } else if constexpr (Conn::connectivity_type::kind == ConnectivityKind::dense) {
        // One thread a post neuron; it adds the spiking rows' weights in queue
        // order, so each in_syn sees the CPU backend's sequence of additions.
        const unsigned begin = chunk * block_size;
        const unsigned post = begin + threadIdx.x;
        std::uint64_t spikes = 0;
        if (post < num_post) {
            float sum = in_syn[post];
            for (unsigned k = 0; k < segments_of<Pre>; ++k) {
                const std::uint32_t count = spike_counts[k];
                const std::uint32_t* ids = spike_ids + k * block_size;
                for (std::uint32_t s = 0; s < count; ++s) sum += connection.weights[std::size_t(ids[s]) * num_post + post];
                spikes += count;
            }
            in_syn[post] = sum;
        }
        if (threadIdx.x == 0 && spikes != 0) {
            const unsigned width = unsigned(num_post - begin < block_size ? num_post - begin : block_size);
            atomicAdd(connection.events + lane, static_cast<unsigned long long>(spikes * width));
        }
    } else {
        // Sparse (CSR), shared out in warp units (sparse_row_split.hpp): warp
        // `unit` owns targets [unit * width, (unit + 1) * width) of this lane and
        // walks the lane's spikes in queue order, spreading each spike's
        // synapses in its range over its threads (a row's columns are
        // distinct). __syncwarp between spikes keeps each in_syn's additions in
        // queue order. Thread t looks up spike base + t's range, so the lookups
        // of 32 spikes are in flight at once; the warp then takes them in turn.
        const unsigned unit = chunk * (block_size / threads_per_warp) + threadIdx.x / threads_per_warp;
        if (unit >= connection.units) return;  // the whole warp
        const unsigned thread = threadIdx.x % threads_per_warp;
        const std::size_t stride = std::size_t(connection.units) + 1;
        const std::uint32_t* starts = connection.unit_starts + unit;
        constexpr unsigned all_threads = 0xffffffffu;
        std::uint64_t events = 0;
        for (unsigned k = 0; k < segments_of<Pre>; ++k) {
            const std::uint32_t count = spike_counts[k];
            const std::uint32_t* ids = spike_ids + k * block_size;
            for (std::uint32_t base = 0; base < count; base += threads_per_warp) {
                std::uint32_t own_first = 0, own_last = 0;
                if (base + thread < count) {
                    const std::uint32_t* range = starts + std::size_t(ids[base + thread]) * stride;
                    own_first = range[0];
                    own_last = range[1];
                }
                const std::uint32_t batch = count - base < threads_per_warp ? count - base : threads_per_warp;
                for (std::uint32_t j = 0; j < batch; ++j) {
                    const std::uint32_t first = __shfl_sync(all_threads, own_first, int(j));
                    const std::uint32_t last = __shfl_sync(all_threads, own_last, int(j));
                    for (std::uint32_t e = first + thread; e < last; e += threads_per_warp)
                        in_syn[connection.columns[e]] += connection.weights[e];
                    events += last - first;
                    __syncwarp(all_threads);
                }
            }
        }
        if (thread == 0 && events != 0) atomicAdd(connection.events + lane, static_cast<unsigned long long>(events));
    }
}

template <class Net, std::size_t... P>
__device__ SPIKEGRAPH_INLINE void dispatch_update(const DeviceNetwork<Net>& net, SpikeScan::TempStorage& scan,
                                                  unsigned block, unsigned lane, int step, std::index_sequence<P...>) {
    using Layout = KernelLayout<Net>;
    (void)((block < Layout::template update_end<P>
                ? (update_population<Net, P>(net, scan, block - Layout::template update_begin<P>, lane, step), true)
                : false) ||
           ...);
}

template <class Net, std::size_t... C>
__device__ SPIKEGRAPH_INLINE void dispatch_propagate(const DeviceNetwork<Net>& net, unsigned block, unsigned lane,
                                                     std::index_sequence<C...>) {
    (void)((block < net.propagate_offsets[C + 1]
                ? (propagate_connection<Net, C>(net, block - net.propagate_offsets[C], lane), true)
                : false) ||
           ...);
}

// Step *step_base + step_in_launch: blockIdx.x picks the population and its
// segment, blockIdx.y the lane. Steps past the example's end do nothing (the
// last launch of the captured step block may overrun).
template <class Net>
__global__ void __launch_bounds__(block_size)
    update_kernel(const __grid_constant__ DeviceNetwork<Net> net, int step_in_launch) {
    __shared__ SpikeScan::TempStorage scan;
    const int step = *net.step_base + step_in_launch;
    if (step >= net.timesteps) return;
    dispatch_update(net, scan, blockIdx.x, blockIdx.y, step, std::make_index_sequence<Net::num_populations>{});
}

template <class Net>
__global__ void __launch_bounds__(block_size)
    propagate_kernel(const __grid_constant__ DeviceNetwork<Net> net, int step_in_launch) {
    const int step = *net.step_base + step_in_launch;
    if (step >= net.timesteps) return;
    dispatch_propagate(net, blockIdx.x, blockIdx.y, std::make_index_sequence<Net::num_connections>{});
}

// Moves the step base on by the steps of one captured launch (a template, so
// that every translation unit may define it).
template <class Net>
__global__ void advance_step_kernel(int* step_base, int steps) {
    *step_base += steps;
}

// The start of an example: every variable to its initial value, readouts to
// their initial value, in_syn and statistics to zero, step base to 0.
template <class Net>
__global__ void __launch_bounds__(block_size) reset_kernel(const __grid_constant__ DeviceNetwork<Net> net) {
    const std::size_t stride = std::size_t(gridDim.x) * block_size;
    const std::size_t first = std::size_t(blockIdx.x) * block_size + threadIdx.x;
    const std::size_t lanes = net.lanes;
    if (first == 0) *net.step_base = 0;
    [&]<std::size_t... P>(std::index_sequence<P...>) {
        (
            [&] {
                using Pop = typename Net::template population_type<P>;
                using Model = typename Pop::neuron_type;
                const auto& pop = get<P>(net.populations);
                for (std::size_t i = first; i < lanes * Pop::size; i += stride) {
                    if constexpr (Model::Variables::size > 0)
                        for (std::size_t v = 0; v < Model::Variables::size; ++v) pop.variables[v][i] = pop.initial[int(v)];
                    if constexpr (Pop::has_readout) pop.readout_accumulator[i] = pop.readout.initial;
                }
                for (std::size_t i = first; i < lanes * segments_of<Pop>; i += stride) pop.spike_counts[i] = 0;
                for (std::size_t i = first; i < lanes; i += stride) pop.total_spikes[i] = 0;
            }(),
            ...);
    }(std::make_index_sequence<Net::num_populations>{});
    [&]<std::size_t... C>(std::index_sequence<C...>) {
        (
            [&] {
                constexpr std::size_t num_post = Net::template connection_type<C>::post_type::size;
                const auto& connection = get<C>(net.connections);
                for (std::size_t i = first; i < lanes * num_post; i += stride) connection.in_syn[i] = 0.0f;
                for (std::size_t i = first; i < lanes; i += stride) connection.events[i] = 0;
            }(),
            ...);
    }(std::make_index_sequence<Net::num_connections>{});
}

}  // namespace spikegraph::cuda_backend
