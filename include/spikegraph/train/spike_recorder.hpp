#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include <spikegraph/fixed_string.hpp>
#include <spikegraph/train/callback.hpp>

namespace spikegraph {

// Records the spikes of population Population during evaluate/predict, as
// mlGeNN's SpikeRecorder: for each recorded example, spike times (ms from the
// example's start) and neuron ids. Optionally only some neurons or examples
// (dataset indices); empty means all.
template <FixedString Population>
struct SpikeRecorder {
    static constexpr FixedString population = Population;

    std::vector<std::uint32_t> neurons{};
    std::vector<std::size_t> examples{};

    // Results, one entry per recorded example, in dataset order.
    std::vector<std::size_t> recorded_examples{};
    std::vector<std::vector<float>> spike_times{};
    std::vector<std::vector<std::uint32_t>> spike_ids{};

    void on_run_begin(const RunInfo& info) {
        recorded_examples.clear();
        spike_times.clear();
        spike_ids.clear();
        dt_ = info.dt;
        std::sort(neurons.begin(), neurons.end());
        std::sort(examples.begin(), examples.end());
    }

    template <class Simulator>
    void on_batch_begin(std::size_t, Simulator& sim) {
        sim.record_spikes(population_index<Simulator>(), true);
    }

    template <class Simulator>
    void on_batch_end(std::size_t, const BatchResult<Simulator>& result) {
        const auto& recorded = result.simulator.recorded_spikes(population_index<Simulator>());
        for (std::size_t lane = 0; lane < result.lanes; ++lane) {
            const std::size_t example = result.first_example + lane;
            if (!examples.empty() && !std::binary_search(examples.begin(), examples.end(), example)) continue;
            std::vector<float> times;
            std::vector<std::uint32_t> ids;
            for (std::size_t s = 0; s < recorded.ids[lane].size(); ++s) {
                const std::uint32_t id = recorded.ids[lane][s];
                if (!neurons.empty() && !std::binary_search(neurons.begin(), neurons.end(), id)) continue;
                times.push_back(float(recorded.steps[lane][s]) * dt_);
                ids.push_back(id);
            }
            recorded_examples.push_back(example);
            spike_times.push_back(std::move(times));
            spike_ids.push_back(std::move(ids));
        }
    }

private:
    template <class Simulator>
    static constexpr std::size_t population_index() {
        using Net = std::remove_cvref_t<decltype(std::declval<const Simulator&>().network())>;
        constexpr int index = Net::population_index(name_view<Population>);
        static_assert(index >= 0, "spikegraph: SpikeRecorder names a population that is not in the network");
        return index >= 0 ? std::size_t(index) : 0;  // 0: no follow-on errors
    }
    float dt_ = 1.0f;
};

}  // namespace spikegraph
