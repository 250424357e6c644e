#pragma once
// How the CUDA backend shares out a sparse (CSR) connection's propagation.
//
// The unit of work is a warp that owns a range of `unit_width` consecutive
// targets of one lane. It walks the lane's spikes in queue order and spreads
// each spike's synapses that fall in its range over its 32 threads. The ranges
// are disjoint and one warp adds into each in_syn in queue order, so the
// result is the CPU backend's, bit for bit, with no atomics.
//
// The width is the choice between pre- and post-parallel propagation. A unit
// as wide as the population walks whole rows: pre-parallel, one warp a lane,
// no search at all. A unit of 32 targets gives each thread about one target,
// as post-parallel propagation does, with the most parallelism but a lookup
// per spike for every unit. The width is chosen once, when the connection is
// built, from its compile-time sizes and its actual row lengths: the widest
// power of two whose share of an average row is at most 32 synapses, so that
// a spike costs each unit about one pass of the warp.
//
// `starts` replaces a binary search per spike and unit: for row `pre`,
// starts[pre * (units + 1) + u] is its first synapse with column >= u * width,
// and the last entry is the row's end. It is small next to the synapses:
// units + 1 entries a row, and a unit narrower than the population averages
// more than 16 synapses of a row.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <spikegraph/connection_storage.hpp>
#include <spikegraph/cuda/device_buffer.hpp>

namespace spikegraph::cuda_backend {

inline constexpr unsigned threads_per_warp = 32;

// Targets per warp unit for a sparse connection with `synapses` synapses.
inline std::size_t sparse_unit_width(std::size_t num_pre, std::size_t num_post, std::size_t synapses) {
    std::size_t whole = threads_per_warp;  // the smallest power of two >= num_post (and >= 32)
    while (whole < num_post) whole *= 2;
    if (num_pre == 0 || synapses == 0) return whole;
    // A unit of width w holds synapses * w / (num_pre * num_post) of an average row.
    const double share_per_target = double(synapses) / (double(num_pre) * double(num_post));
    std::size_t width = threads_per_warp;
    while (width < whole && share_per_target * double(2 * width) <= double(threads_per_warp)) width *= 2;
    return width;
}

struct SparseRowSplit {
    std::uint32_t unit_width = 0;
    std::uint32_t units = 0;             // ceil(num_post / unit_width)
    std::vector<std::uint32_t> starts;   // [pre][units + 1]
};

// `width`: 0 for sparse_unit_width's choice, or a power of two >= 32
// (SimulationOptions::cuda_sparse_unit_width), at most the population's.
inline SparseRowSplit split_sparse_rows(const detail::ConnectionStorage& storage, std::size_t num_pre,
                                        std::size_t num_post, std::size_t width = 0) {
    SparseRowSplit split;
    const std::size_t chosen = sparse_unit_width(num_pre, num_post, storage.columns.size());
    const std::size_t whole = sparse_unit_width(num_pre, num_post, 0);
    split.unit_width = std::uint32_t(width == 0 ? chosen : std::min(width, whole));
    split.units = std::uint32_t((num_post + split.unit_width - 1) / split.unit_width);
    const std::size_t stride = std::size_t(split.units) + 1;
    split.starts.resize(num_pre * stride);
    for (std::size_t pre = 0; pre < num_pre; ++pre) {
        std::uint32_t e = storage.row_start[pre];
        const std::uint32_t end = storage.row_start[pre + 1];
        for (std::size_t u = 0; u < split.units; ++u) {
            const std::uint64_t begin_column = std::uint64_t(u) * split.unit_width;
            while (e < end && storage.columns[e] < begin_column) ++e;  // columns sorted: one pass per row
            split.starts[pre * stride + u] = e;
        }
        split.starts[pre * stride + split.units] = end;
    }
    return split;
}

// A sparse connection's split on the device (empty, with units 0, for other connectivities).
struct DeviceRowSplit {
    DeviceBuffer<std::uint32_t> starts;
    std::uint32_t units = 0;

    static DeviceRowSplit upload(const detail::ConnectionStorage& storage, std::size_t num_pre, std::size_t num_post,
                                 std::size_t width, const std::string& what, cudaStream_t stream) {
        DeviceRowSplit device;
        if (storage.row_start.empty()) return device;
        const SparseRowSplit split = split_sparse_rows(storage, num_pre, num_post, width);
        device.starts.allocate(split.starts.size(), "the row split" + what);
        device.starts.upload(std::span<const std::uint32_t>(split.starts), "the row split" + what, stream);
        device.units = split.units;
        return device;
    }
};

}  // namespace spikegraph::cuda_backend
