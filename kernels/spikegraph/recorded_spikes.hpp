#pragma once
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <vector>

#include <spikegraph/error.hpp>

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

// The recording interface of a training simulator: spikes (switched on
// before run(), filled by the simulator, read after); variable recording is
// not offered there.
template <std::size_t NumPopulations>
class TrainingRecordings {
public:
    void stop_recording() { spike_recording_.fill(false); }
    void record_spikes(std::size_t population, bool enabled) { spike_recording_.at(population) = enabled; }
    const RecordedSpikes& recorded_spikes(std::size_t population) const { return recorded_spikes_.at(population); }
    void record_variable(std::size_t, std::size_t, bool enabled) {
        if (enabled)
            detail::throw_invalid("variable recording is not available on a training simulator; "
                                  "record with an InferenceCompiler model that has the same weights");
    }
    const std::vector<float>& recorded_variable(std::size_t population, std::size_t variable) const {
        detail::throw_invalid("variable ", variable, " of population ", population, " is not being recorded");
    }

protected:
    std::array<bool, NumPopulations> spike_recording_{};
    std::array<RecordedSpikes, NumPopulations> recorded_spikes_{};
};

}  // namespace spikegraph
