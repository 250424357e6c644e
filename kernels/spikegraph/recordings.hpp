#pragma once
#include <algorithm>
#include <array>
#include <cstddef>
#include <utility>
#include <vector>

#include <spikegraph/error.hpp>
#include <spikegraph/recorded_spikes.hpp>

namespace spikegraph {

// What an inference simulator has been asked to record, and what it recorded
// in its last run: the recording half of the backend contract
// (docs/architecture.md), shared by every backend. Requests are made before a
// run and results read after it; a backend fills the buffers that prepare()
// sized for the run.
template <std::size_t NumPopulations>
class Recordings {
public:
    // Turns every kind of recording off (the compiled network does this before each evaluate/predict).
    void stop_recording() {
        spike_recording_.fill(false);
        variable_keys_.clear();
        variable_values_.clear();
    }

    void record_spikes(std::size_t population, bool enabled) { spike_recording_.at(population) = enabled; }
    const RecordedSpikes& recorded_spikes(std::size_t population) const { return recorded_spikes_.at(population); }

    // Variable recording: [lane][step][neuron] of one variable of one population.
    void record_variable(std::size_t population, std::size_t variable, bool enabled) {
        const auto key = std::make_pair(population, variable);
        const auto it = std::find(variable_keys_.begin(), variable_keys_.end(), key);
        if (enabled && it == variable_keys_.end()) {
            variable_keys_.push_back(key);
            variable_values_.emplace_back();
        } else if (!enabled && it != variable_keys_.end()) {
            const auto index = std::size_t(it - variable_keys_.begin());
            variable_keys_.erase(it);
            variable_values_.erase(variable_values_.begin() + std::ptrdiff_t(index));
        }
    }
    const std::vector<float>& recorded_variable(std::size_t population, std::size_t variable) const {
        const auto it = std::find(variable_keys_.begin(), variable_keys_.end(), std::make_pair(population, variable));
        if (it == variable_keys_.end())
            detail::throw_invalid("variable ", variable, " of population ", population, " is not being recorded");
        return variable_values_[std::size_t(it - variable_keys_.begin())];
    }

protected:
    // Empties the spike records of recorded populations (one list per lane)
    // and sizes each recorded variable's buffer for `lanes` x `steps`.
    void prepare_recordings(std::size_t lanes, int steps, const std::array<std::size_t, NumPopulations>& sizes) {
        for (std::size_t p = 0; p < NumPopulations; ++p) {
            if (!spike_recording_[p]) continue;
            recorded_spikes_[p].steps.assign(lanes, {});
            recorded_spikes_[p].ids.assign(lanes, {});
        }
        for (std::size_t r = 0; r < variable_keys_.size(); ++r)
            variable_values_[r].assign(lanes * std::size_t(steps) * sizes[variable_keys_[r].first], 0.0f);
    }

    bool recording_spikes(std::size_t population) const { return spike_recording_[population]; }
    RecordedSpikes& spike_record(std::size_t population) { return recorded_spikes_[population]; }
    // The recorded variables, as (population, variable), and their buffers in the same order.
    const std::vector<std::pair<std::size_t, std::size_t>>& variable_requests() const { return variable_keys_; }
    std::vector<float>& variable_record(std::size_t request) { return variable_values_[request]; }

private:
    std::array<bool, NumPopulations> spike_recording_{};
    std::array<RecordedSpikes, NumPopulations> recorded_spikes_{};
    std::vector<std::pair<std::size_t, std::size_t>> variable_keys_;
    std::vector<std::vector<float>> variable_values_;
};

}  // namespace spikegraph
