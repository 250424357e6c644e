#pragma once
// One connection's synapses on the device, as every CUDA simulator keeps
// them: the weights and, for sparse connectivity, the CSR rows and the row
// split of the sparse propagation (sparse_row_split.hpp).
#include <cstddef>
#include <cstdint>
#include <string>

#include <spikegraph/cuda/runtime.hpp>

#include <spikegraph/connection_storage.hpp>
#include <spikegraph/cuda/device_buffer.hpp>
#include <spikegraph/cuda/sparse_row_split.hpp>

namespace spikegraph::cuda_backend {

struct DeviceConnectivity {
    // Whether a kernel's view of a connection takes the row split. (A
    // class-scope trait: nvcc rejects some requires-expressions in function bodies.)
    template <class Description>
    static constexpr bool has_row_split = requires(Description& d) { d.unit_starts; };

    DeviceBuffer<float> weights;
    DeviceBuffer<std::uint32_t> row_start, columns;  // sparse only
    DeviceRowSplit split;                            // sparse only

    // New device copies of `storage`, each copy complete on return. A failure
    // throws a CudaError naming the buffer (`what`: " of connection 'x'")
    // before anything of the caller's changes. unit_width:
    // SimulationOptions::cuda_sparse_unit_width.
    static DeviceConnectivity upload(const detail::ConnectionStorage& storage, std::size_t num_pre, std::size_t num_post,
                                     std::size_t unit_width, const std::string& what, cudaStream_t stream) {
        DeviceConnectivity device;
        device.weights.allocate(storage.weights.size(), "the weights" + what);
        device.row_start.allocate(storage.row_start.size(), "the CSR row starts" + what);
        device.columns.allocate(storage.columns.size(), "the CSR columns" + what);
        device.weights.upload(storage.weights, "the weights" + what, stream);
        device.row_start.upload(storage.row_start, "the CSR row starts" + what, stream);
        device.columns.upload(storage.columns, "the CSR columns" + what, stream);
        device.split = DeviceRowSplit::upload(storage, num_pre, num_post, unit_width, what, stream);
        return device;
    }

    // Points a kernel's view of the connection (DeviceConnection and the
    // training simulators' own) at these buffers.
    template <class Description>
    void describe(Description& d) const {
        d.weights = weights.data();
        d.row_start = row_start.data();
        d.columns = columns.data();
        if constexpr (has_row_split<Description>) {
            d.unit_starts = split.starts.data();
            d.units = split.units;
        }
    }
};

}  // namespace spikegraph::cuda_backend
