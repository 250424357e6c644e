#pragma once
// A float sum in a fixed order that does not wait on every add.
//
// Summing a row's terms one after the other makes each add wait for the one
// before: for EventProp's dL/d(offset) of a spike over a 20-synapse row that
// chain was most of the cost of the whole row (the compiler may not reorder
// float adds). Here the term at position p of the row goes to partial sum
// p % 8 and the eight partials are combined pairwise at the end, so a CPU adds
// eight terms at a time (one vector add) and the result is still one defined
// float: the CPU and CUDA backends both sum this way and agree bit for bit.
#include <cstddef>

#include <spikegraph/host_device.hpp>

namespace spikegraph::detail {

struct InterleavedSum {
    static constexpr std::size_t width = 8;
    float partial[width] = {};

    SPIKEGRAPH_HOST_DEVICE SPIKEGRAPH_INLINE void add(std::size_t position, float term) { partial[position % width] += term; }
    // The pairs a vector reduction takes: halves of eight, then of four, then of two.
    SPIKEGRAPH_HOST_DEVICE SPIKEGRAPH_INLINE float total() const {
        return ((partial[0] + partial[4]) + (partial[2] + partial[6])) + ((partial[1] + partial[5]) + (partial[3] + partial[7]));
    }
};

}  // namespace spikegraph::detail
