#pragma once
#include <bit>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace spikegraph {

// Spikes recorded for one population by any backend: for each lane, the step
// and neuron of every spike, steps ascending (within a step, in the order the
// backend's spike queue held them).
struct RecordedSpikes {
    std::vector<std::vector<std::int32_t>> steps;
    std::vector<std::vector<std::uint32_t>> ids;

    // Appends spikes kept as one bit per neuron, bits[(step * lanes + lane) * words + word].
    void append_bits(const std::uint32_t* bits, int num_steps, std::size_t lanes, std::size_t words) {
        for (int step = 0; step < num_steps; ++step)
            for (std::size_t lane = 0; lane < lanes; ++lane)
                for (std::size_t w = 0; w < words; ++w)
                    for (std::uint32_t word = bits[(std::size_t(step) * lanes + lane) * words + w]; word != 0; word &= word - 1) {
                        steps[lane].push_back(step);
                        ids[lane].push_back(std::uint32_t(w * 32 + std::size_t(std::countr_zero(word))));
                    }
    }
};

}  // namespace spikegraph
