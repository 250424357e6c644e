#pragma once
// What the CUDA training simulators (EventProp, e-prop) share: device and
// stream, inputs, weights on host and device with their gradients, spike
// recording and statistics. The optimisers run on the host: they change
// mutable_weights() in place, and the device copy follows at the next run().
//
// PopulationBuffers<Pop, I> must have `input` (a DeviceInput), `host_totals`
// (spikes per lane of the last run); ConnectionBuffers<Conn> must have
// `synapses` (DeviceSynapses) and `host_events`.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <spikegraph/cuda/runtime.hpp>

#include <spikegraph/compile/input_batch.hpp>
#include <spikegraph/compile/simulation_options.hpp>
#include <spikegraph/connection_storage.hpp>
#include <spikegraph/connection_storage_check.hpp>
#include <spikegraph/cpu/buffer_tuples.hpp>
#include <spikegraph/cuda/cuda_error.hpp>
#include <spikegraph/cuda/device_buffer.hpp>
#include <spikegraph/cuda/device_connectivity.hpp>
#include <spikegraph/cuda/device_input.hpp>
#include <spikegraph/cuda/device_neuron_biases.hpp>
#include <spikegraph/cuda/device_network.cuh>
#include <spikegraph/cuda/sparse_row_split.hpp>
#include <spikegraph/graph/network.hpp>
#include <spikegraph/recorded_spikes.hpp>

namespace spikegraph::cuda_backend {

template <class T>
__global__ void __launch_bounds__(block_size) fill_kernel(T* values, std::size_t count, T value) {
    const std::size_t stride = std::size_t(gridDim.x) * block_size;
    for (std::size_t i = std::size_t(blockIdx.x) * block_size + threadIdx.x; i < count; i += stride) values[i] = value;
}

// Sets count values on the device to `value`, queued on `stream`.
template <class T>
void fill(T* values, std::size_t count, T value, cudaStream_t stream) {
    if (count == 0) return;
    const unsigned blocks = unsigned(std::min<std::size_t>((count + block_size - 1) / block_size, 4096));
    launch_kernel(fill_kernel<T>, dim3(blocks), dim3(block_size), stream, values, count, value);
    check(cudaGetLastError(), "launching fill_kernel");
}

// One connection's synapses on host and device, and dL/dw summed on the
// device. (The row split is for the inference propagation, e-prop's forward
// pass; EventProp's kernels walk whole rows.)
struct DeviceSynapses : DeviceConnectivity {
    detail::ConnectionStorage storage;  // the host copy, which optimisers change
    bool weights_changed = false;
    DeviceBuffer<float> gradient;
    std::vector<float> host_gradient;

    // Uploads a whole connection; the old one stays if anything fails.
    // unit_width: SimulationOptions::cuda_sparse_unit_width.
    template <class Conn>
    void upload(detail::ConnectionStorage replacement, std::size_t unit_width, cudaStream_t stream) {
        const std::string what = " of connection '" + Conn::name.str() + "'";
        DeviceConnectivity uploaded =
            DeviceConnectivity::upload(replacement, Conn::pre_type::size, Conn::post_type::size, unit_width, what, stream);
        DeviceBuffer<float> new_gradient(replacement.weights.size(), "the gradient" + what);
        fill(new_gradient.data(), new_gradient.size(), 0.0f, stream);
        check(cudaStreamSynchronize(stream), "zeroing the gradient" + what);
        static_cast<DeviceConnectivity&>(*this) = std::move(uploaded);
        gradient = std::move(new_gradient);
        host_gradient.assign(replacement.weights.size(), 0.0f);
        storage = std::move(replacement);
        weights_changed = false;
    }
};

template <class Net, template <class, std::size_t> class PopulationBuffers, template <class> class ConnectionBuffers>
class TrainingSimulatorBase : public TrainingRecordings<Net::num_populations>,
                              public NeuronBiasQueries<Net, TrainingSimulatorBase<Net, PopulationBuffers, ConnectionBuffers>> {
    friend class NeuronBiasQueries<Net, TrainingSimulatorBase>;

public:
    static constexpr std::size_t num_populations = Net::num_populations;
    static constexpr std::size_t num_connections = Net::num_connections;

    TrainingSimulatorBase(const Net& net, const SimulationOptions& options) : net_(net), options_(options) {
        options_.validate();
        // Lanes are the grid's y dimension.
        if (options_.batch_size > 65535)
            detail::throw_invalid("batch_size must be <= 65535 on the cuda backend (the CUDA grid's y limit), got ",
                                  options_.batch_size);
        device_ = require_device();
        check(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreateWithFlags");
    }
    TrainingSimulatorBase(const TrainingSimulatorBase&) = delete;
    TrainingSimulatorBase& operator=(const TrainingSimulatorBase&) = delete;
    ~TrainingSimulatorBase() {
        int current = device_;
        if (cudaGetDevice(&current) == cudaSuccess && current != device_) cudaSetDevice(device_);
        if (stream_) cudaStreamDestroy(stream_);
        if (current != device_) cudaSetDevice(current);
    }

    const SimulationOptions& options() const { return options_; }
    const Net& network() const { return net_; }
    std::size_t active_lanes() const { return active_lanes_; }
    int device() const { return device_; }

    template <std::size_t P>
    void set_input(const InputBatch& batch) {
        DeviceGuard guard(device_);
        active_lanes_ = std::get<P>(populations_).input.load(net_.template population<P>().neuron, batch, options_, stream_);
        ran_ = false;
    }

    // dL/dw of connection C summed since zero_gradients(), in the layout of its weights.
    template <std::size_t C>
    std::span<const float> gradient() const {
        return std::get<C>(connections_).synapses.host_gradient;
    }
    void zero_gradients() {
        DeviceGuard guard(device_);
        for_each_connection([&]<std::size_t C>(auto& b) {
            fill(b.synapses.gradient.data(), b.synapses.gradient.size(), 0.0f, stream_);
            std::fill(b.synapses.host_gradient.begin(), b.synapses.host_gradient.end(), 0.0f);
        });
        check(cudaStreamSynchronize(stream_), "zeroing the gradients");
    }

    template <std::size_t C>
    const detail::ConnectionStorage& connection_storage() const {
        return std::get<C>(connections_).synapses.storage;
    }
    // The host copy of connection C's weights, for an optimiser to change in
    // place; the device copy follows at the next run().
    template <std::size_t C>
    std::span<float> mutable_weights() {
        auto& synapses = std::get<C>(connections_).synapses;
        synapses.weights_changed = true;
        return synapses.storage.weights;
    }
    template <std::size_t C>
    void set_weights(std::span<const float> weights) {
        DeviceGuard guard(device_);
        using Conn = typename Net::template connection_type<C>;
        auto& synapses = std::get<C>(connections_).synapses;
        // Validated on a copy and uploaded before the host copy changes.
        detail::ConnectionStorage updated = synapses.storage;
        detail::replace_weights(updated, weights, name_view<Conn::name>);
        synapses.weights.upload(updated.weights, "the weights of connection '" + Conn::name.str() + "'", stream_);
        synapses.storage.weights = std::move(updated.weights);
    }
    // Replaces connection C's synapses, structure included; validated first, on error nothing changes.
    template <std::size_t C>
    void set_connection_storage(detail::ConnectionStorage storage) {
        DeviceGuard guard(device_);
        using Conn = typename Net::template connection_type<C>;
        detail::check_connection_storage(storage, Conn::connectivity_type::kind, Conn::pre_type::size,
                                         Conn::post_type::size, "connection '" + Conn::name.str() + "'");
        std::get<C>(connections_).synapses.template upload<Conn>(std::move(storage), options_.cuda_sparse_unit_width,
                                                                 stream_);
    }

    // Gives every neuron of population P its own bias, on host and device (NeuronBiasQueries reads them).
    template <std::size_t P>
    void set_biases(std::span<const float> biases) {
        DeviceGuard guard(this->device_);
        set_device_biases<Net, P>(populations_, biases, this->stream_);
    }

    // Spikes of population P in the last run, per lane.
    template <std::size_t P>
    std::span<const std::uint64_t> spike_totals() const {
        return std::span<const std::uint64_t>(std::get<P>(populations_).host_totals).first(active_lanes_);
    }
    // Forward synaptic events (spike x synapse additions) in the last run.
    std::uint64_t synaptic_events() const {
        std::uint64_t total = 0;
        for_each_connection([&]<std::size_t C>(const auto& b) {
            for (std::size_t lane = 0; lane < active_lanes_; ++lane) total += b.host_events[lane];
        });
        return total;
    }

protected:
    template <class F>
    void for_each_population(F&& f) {
        cpu_backend::for_each_buffer(populations_, f);
    }
    template <class F>
    void for_each_population(F&& f) const {
        cpu_backend::for_each_buffer(populations_, f);
    }
    template <class F>
    void for_each_connection(F&& f) {
        cpu_backend::for_each_buffer(connections_, f);
    }
    template <class F>
    void for_each_connection(F&& f) const {
        cpu_backend::for_each_buffer(connections_, f);
    }

    // Builds and uploads every connection's synapses as the CPU backend builds them.
    void build_connections() {
        for_each_connection([&]<std::size_t C>(auto& b) {
            using Conn = typename Net::template connection_type<C>;
            const auto& c = net_.template connection<C>();
            b.synapses.template upload<Conn>(detail::build_connection(c.connectivity, Conn::pre_type::size,
                                                                      Conn::post_type::size, options_.seed, C,
                                                                      Conn::name.str()),
                                             options_.cuda_sparse_unit_width, stream_);
        });
    }
    void upload_changed_weights() {
        for_each_connection([&]<std::size_t C>(auto& b) {
            using Conn = typename Net::template connection_type<C>;
            if (!b.synapses.weights_changed) return;
            b.synapses.weights.upload(b.synapses.storage.weights, "the weights of connection '" + Conn::name.str() + "'", stream_);
            b.synapses.weights_changed = false;
        });
    }
    void download_gradients() {
        for_each_connection([&]<std::size_t C>(auto& b) {
            using Conn = typename Net::template connection_type<C>;
            b.synapses.gradient.download(b.synapses.host_gradient, "the gradient of connection '" + Conn::name.str() + "'", stream_);
        });
    }
    void download_events(unsigned lanes) {
        std::vector<unsigned long long> events(lanes);
        for_each_connection([&]<std::size_t C>(auto& b) {
            using Conn = typename Net::template connection_type<C>;
            b.events.download(events, "the event counts of connection '" + Conn::name.str() + "'", stream_);
            std::copy(events.begin(), events.end(), b.host_events.begin());
        });
    }
    // Launches `graph` for every block of steps of an example, then waits.
    void run_graph(cudaGraphExec_t graph, int launches, const std::string& what) {
        for (int launch = 0; launch < launches; ++launch) check(cudaGraphLaunch(graph, stream_), "cudaGraphLaunch of " + what);
        check(cudaStreamSynchronize(stream_), what);
    }
    // Blocks for a kernel that visits every neuron of every lane.
    unsigned neuron_blocks(unsigned lanes) const {
        std::size_t largest = 1;
        for (std::size_t size : Net::population_sizes) largest = std::max(largest, size);
        return unsigned(std::min<std::size_t>((std::size_t(lanes) * largest + block_size - 1) / block_size, 4096));
    }

    Net net_;
    SimulationOptions options_;
    int device_ = 0;
    cudaStream_t stream_ = nullptr;
    std::size_t active_lanes_ = 0;
    bool ran_ = false;
    typename cpu_backend::PopulationBuffersOf<Net, PopulationBuffers>::type populations_;
    typename cpu_backend::ConnectionBuffersOf<Net, ConnectionBuffers>::type connections_;
    DeviceBuffer<int> step_base_;
    using TrainingRecordings<Net::num_populations>::spike_recording_, TrainingRecordings<Net::num_populations>::recorded_spikes_;
};

}  // namespace spikegraph::cuda_backend
