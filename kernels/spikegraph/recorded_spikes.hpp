#pragma once
#include <cstdint>
#include <vector>

namespace spikegraph {

// Spikes recorded for one population by any backend: for each lane, the step
// and neuron of every spike, steps ascending (within a step, in the order the
// backend's spike queue held them).
struct RecordedSpikes {
    std::vector<std::vector<std::int32_t>> steps;
    std::vector<std::vector<std::uint32_t>> ids;
};

}  // namespace spikegraph
