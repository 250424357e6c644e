#pragma once
// What the CUDA kernels see of a network: per population and per connection,
// its Dynamics (the model's one definition) and device pointers, gathered into
// one trivially copyable struct passed by value to every kernel. Block ranges
// per population and connection are fixed at compile time from the graph.
#include <array>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>

#include <spikegraph/cuda/sparse_row_split.hpp>
#include <spikegraph/graph/network.hpp>
#include <spikegraph/model/neuron.hpp>
#include <spikegraph/model/readout.hpp>

namespace spikegraph::cuda_backend {

// Threads per block of every kernel; also the width of a spike-queue segment
// and of a post-synaptic chunk.
inline constexpr unsigned block_size = 256;

// A population's spike queue has one segment per update block (block b writes
// its spikes, in ascending id order, from b * block_size), so no atomics and no
// second compaction pass are needed. A SpikeInput population has one segment
// holding the whole step's replayed spikes.
template <class Pop>
inline constexpr unsigned segments_of =
    Pop::neuron_type::kind == NeuronKind::spike_input ? 1u : unsigned((Pop::size + block_size - 1) / block_size);

template <class Pop>
inline constexpr unsigned record_words_of = unsigned((Pop::size + 31) / 32);

template <class Pop>
struct DevicePopulation {
    using Model = typename Pop::neuron_type;
    static constexpr std::size_t num_variables = Model::Variables::size;

    typename Model::Dynamics dynamics;
    typename Pop::readout_type::Dynamics readout;
    NeuronState<Model> initial;
    const float* bias;                                        // null, or per neuron (model/neuron_bias.hpp)
    float* variables[num_variables > 0 ? num_variables : 1];  // [lane][neuron] each
    float* readout_accumulator;                               // [lane][neuron]
    std::uint32_t* spike_ids;                                 // [lane][neuron]
    std::uint32_t* spike_counts;                              // [lane][segment]
    unsigned long long* total_spikes;                         // [lane]
    const float* prepared;                                    // value inputs: [lane][neuron]
    const std::uint64_t* example_index;                       // value inputs: [lane]
    const std::uint32_t* schedule_offsets;                    // SpikeInput: [lane][step + 1]
    const std::uint32_t* schedule_ids;                        // SpikeInput
    std::uint32_t* spike_record;                              // null, or bits [step][lane][word]
    float* variable_record[num_variables > 0 ? num_variables : 1];  // null, or [lane][step][neuron]
};

template <class Conn>
struct DeviceConnection {
    typename Conn::synapse_type::Dynamics synapse;
    float* in_syn;                    // [lane][post]
    const float* weights;             // the host layout (detail::ConnectionStorage)
    const std::uint32_t* row_start;   // sparse only
    const std::uint32_t* columns;     // sparse only
    const std::uint32_t* unit_starts; // sparse only: [pre][units + 1] (sparse_row_split.hpp)
    unsigned units;                   // sparse only: warp units per lane
    unsigned long long* events;       // [lane]
};

// A minimal tuple usable in device code and as a kernel parameter.
template <std::size_t I, class T>
struct DeviceTupleLeaf {
    T value;
};
template <class Indices, class... Ts>
struct DeviceTupleBase;
template <std::size_t... I, class... Ts>
struct DeviceTupleBase<std::index_sequence<I...>, Ts...> : DeviceTupleLeaf<I, Ts>... {};
template <class... Ts>
struct DeviceTuple : DeviceTupleBase<std::index_sequence_for<Ts...>, Ts...> {};

template <std::size_t I, class T>
SPIKEGRAPH_HOST_DEVICE SPIKEGRAPH_INLINE T& get(DeviceTupleLeaf<I, T>& leaf) {
    return leaf.value;
}
template <std::size_t I, class T>
SPIKEGRAPH_HOST_DEVICE SPIKEGRAPH_INLINE const T& get(const DeviceTupleLeaf<I, T>& leaf) {
    return leaf.value;
}

// A kernel's view of every population and connection of a network, one
// PopulationView<Pop> and one ConnectionView<Conn> each.
template <class Net, template <class> class PopulationView, template <class> class ConnectionView>
struct DeviceTuplesOf;
template <class... Pops, class... Conns, template <class> class PopulationView, template <class> class ConnectionView>
struct DeviceTuplesOf<Network<boost::hana::tuple<Pops...>, boost::hana::tuple<Conns...>>, PopulationView, ConnectionView> {
    using populations = DeviceTuple<PopulationView<Pops>...>;
    using connections = DeviceTuple<ConnectionView<Conns>...>;
};
template <class Net>
using DeviceTuples = DeviceTuplesOf<Net, DevicePopulation, DeviceConnection>;

// Points the inference kernels' view of a population at a simulator's
// buffers for it (members of these names; recordings are left to the caller).
template <class Pop, class Buffers>
void describe_population(DevicePopulation<Pop>& d, Buffers& b) {
    d.dynamics = b.dynamics;
    d.readout = b.readout_dynamics;
    d.initial = b.initial;
    d.bias = b.bias.device_data();
    for (std::size_t v = 0; v < b.variables.size(); ++v) d.variables[v] = b.variables[v].data();
    d.readout_accumulator = b.readout.data();
    d.spike_ids = b.spike_ids.data();
    d.spike_counts = b.spike_counts.data();
    d.total_spikes = b.total_spikes.data();
    d.prepared = b.input.prepared.data();
    d.example_index = b.input.example_index.data();
    d.schedule_offsets = b.input.schedule_offsets.data();
    d.schedule_ids = b.input.schedule_ids.data();
}

// Kernel parameters are passed by value: a description must be trivially
// copyable and fit, with the step argument, in the 4 KiB a parameter list may hold.
template <class Description>
consteval bool check_kernel_parameter() {
    static_assert(std::is_trivially_copyable_v<Description>,
                  "spikegraph: a model's Dynamics must be trivially copyable to reach CUDA kernels");
    static_assert(sizeof(Description) + sizeof(int) <= 4096,
                  "spikegraph: this network's description exceeds the 4 KiB a CUDA kernel parameter may hold; "
                  "use fewer populations or connections per network on the cuda backend");
    return true;
}
template <class Description>
inline constexpr bool fits_kernel_parameter = check_kernel_parameter<Description>();

template <class Net>
struct DeviceNetwork {
    typename DeviceTuples<Net>::populations populations;
    typename DeviceTuples<Net>::connections connections;
    std::uint64_t seed;
    int timesteps;
    unsigned lanes;   // active lanes: the grid's y extent, and the lanes recordings are laid out for
    int* step_base;   // device: the step of the first step of the current graph launch
    // Connection C propagates in blocks [propagate_offsets[C], propagate_offsets[C + 1])
    // of the propagate kernel (plan_propagation).
    unsigned propagate_offsets[Net::num_connections + 1];
};

// Propagate-kernel blocks per lane of a connection. Dense: one a chunk of
// block_size targets, a thread a target (post-parallel). One-to-one: one a
// presynaptic queue segment, a thread a spike (pre-parallel; each target is
// hit at most once). Sparse: block_size / 32 warp units each, the units'
// width chosen from the connection's sizes (sparse_row_split.hpp).
template <class Conn>
unsigned propagate_blocks_of(const DeviceConnection<Conn>& connection) {
    constexpr ConnectivityKind kind = Conn::connectivity_type::kind;
    if constexpr (kind == ConnectivityKind::one_to_one) return segments_of<typename Conn::pre_type>;
    else if constexpr (kind == ConnectivityKind::dense) return unsigned((Conn::post_type::size + block_size - 1) / block_size);
    else {
        constexpr unsigned units_per_block = block_size / threads_per_warp;
        return (connection.units + units_per_block - 1) / units_per_block;
    }
}

// Fills description.propagate_offsets from its connections (after their units are set).
template <class Net>
void plan_propagation(DeviceNetwork<Net>& description) {
    unsigned running = 0;
    [&]<std::size_t... C>(std::index_sequence<C...>) {
        ((description.propagate_offsets[C] = running,
          running += propagate_blocks_of<typename Net::template connection_type<C>>(get<C>(description.connections))),
         ...);
    }(std::make_index_sequence<Net::num_connections>{});
    description.propagate_offsets[Net::num_connections] = running;
}

// Compile-time block ranges: population P updates in blocks
// [update_begin<P>, update_begin<P + 1>) of the update kernel. (The
// propagate kernel's blocks are planned at run time: plan_propagation.)
template <class Net>
struct KernelLayout {
    static constexpr std::array<unsigned, Net::num_populations + 1> update_offsets = [] {
        std::array<unsigned, Net::num_populations + 1> offsets{};
        [&]<std::size_t... P>(std::index_sequence<P...>) {
            unsigned running = 0;
            ((offsets[P] = running, running += segments_of<typename Net::template population_type<P>>), ...);
            offsets[Net::num_populations] = running;
        }(std::make_index_sequence<Net::num_populations>{});
        return offsets;
    }();
    static constexpr unsigned update_blocks = update_offsets[Net::num_populations];

    template <std::size_t P>
    static constexpr unsigned update_begin = update_offsets[P];
    template <std::size_t P>
    static constexpr unsigned update_end = update_offsets[P + 1];
};

}  // namespace spikegraph::cuda_backend
