#pragma once
#include <cstddef>
#include <cstdint>

#include <spikegraph/connection_storage.hpp>
#include <spikegraph/interleaved_sum.hpp>
#include <spikegraph/model/connectivity.hpp>

namespace spikegraph::cpu_backend {

// Where presynaptic neuron id's synapses are in the connection's arrays: the
// index of its first and how many (num_post for a dense row, the CSR row's
// length, 1 for one-to-one).
struct SynapseRow {
    std::size_t first, count;
};
template <ConnectivityKind Kind>
SynapseRow synapse_row(const detail::ConnectionStorage& s, std::size_t num_post, std::uint32_t id) {
    if constexpr (Kind == ConnectivityKind::dense) return {std::size_t(id) * num_post, num_post};
    else if constexpr (Kind == ConnectivityKind::one_to_one) return {std::size_t(id), 1};
    else return {std::size_t(s.row_start[id]), std::size_t(s.row_start[id + 1] - s.row_start[id])};
}

// Calls f(post, synapse index, weight) for every synapse of presynaptic
// neuron id: its dense row, its CSR row (work in proportion to the synapses
// that exist) or its single one-to-one synapse.
template <ConnectivityKind Kind, class F>
void for_each_synapse(const detail::ConnectionStorage& s, std::size_t num_post, std::uint32_t id, F&& f) {
    if constexpr (Kind == ConnectivityKind::dense) {
        const std::size_t first = std::size_t(id) * num_post;
        const float* row = s.weights.data() + first;
        for (std::size_t k = 0; k < num_post; ++k) f(k, first + k, row[k]);
    } else if constexpr (Kind == ConnectivityKind::one_to_one) {
        f(std::size_t(id), std::size_t(id), s.weights[id]);
    } else {
        for (std::uint32_t e = s.row_start[id]; e < s.row_start[id + 1]; ++e) f(std::size_t(s.columns[e]), std::size_t(e), s.weights[e]);
    }
}

// Asks the cache for the row of presynaptic neuron id in `values` (the
// weights, or a gradient in their layout) before it is used, with write
// intent when it will be updated. The rows of successive spikes are scattered
// over the matrix, so the hardware prefetcher cannot guess them, and a row
// add that waits for its row from L2 or L3 is most of what it costs.
template <ConnectivityKind Kind, bool ForWrite = false>
void prefetch_synapse_row([[maybe_unused]] const detail::ConnectionStorage& s, [[maybe_unused]] std::size_t num_post,
                          [[maybe_unused]] std::uint32_t id, [[maybe_unused]] const float* values) {
#if defined(__GNUC__)
    if constexpr (Kind != ConnectivityKind::one_to_one) {  // one synapse: nothing to gain
        constexpr std::size_t floats_per_line = 64 / sizeof(float);
        const auto [first, count] = synapse_row<Kind>(s, num_post, id);
        for (std::size_t k = 0; k < count; k += floats_per_line) __builtin_prefetch(values + first + k, ForWrite ? 1 : 0, 3);
        if (count > 0) __builtin_prefetch(values + first + count - 1, ForWrite ? 1 : 0, 3);
    }
#endif
}

// The sum over the synapses of presynaptic neuron id of weight * g(post), in
// the order of detail::InterleavedSum (position p of the row into partial
// p % 8): blocks of eight positions are one vector multiply-add, and the
// result is the float the CUDA backend computes. NumPost is a template
// argument so that a dense row's length is a constant wherever the function
// ends up: short rows (a readout's 20) then compile to a few vector steps.
template <ConnectivityKind Kind, std::size_t NumPost, class G>
float weighted_row_sum(const detail::ConnectionStorage& s, std::uint32_t id, G&& g) {
    constexpr std::size_t width = detail::InterleavedSum::width;
    const auto [first, count] = synapse_row<Kind>(s, NumPost, id);
    const float* weights = s.weights.data() + first;
    auto post = [&](std::size_t p) {
        if constexpr (Kind == ConnectivityKind::dense) return p;
        else if constexpr (Kind == ConnectivityKind::one_to_one) return std::size_t(id);
        else return std::size_t(s.columns[first + p]);
    };
    detail::InterleavedSum sum;
    std::size_t p = 0;
    for (; p + width <= count; p += width)
        for (std::size_t j = 0; j < width; ++j) sum.partial[j] += weights[p + j] * g(post(p + j));
    for (std::size_t j = 0; p + j < count; ++j) sum.partial[j] += weights[p + j] * g(post(p + j));
    return sum.total();
}

// How many synapses presynaptic neuron id has (the events one of its spikes causes).
template <ConnectivityKind Kind>
std::size_t synapse_count(const detail::ConnectionStorage& s, std::size_t num_post, std::uint32_t id) {
    return synapse_row<Kind>(s, num_post, id).count;
}

}  // namespace spikegraph::cpu_backend
