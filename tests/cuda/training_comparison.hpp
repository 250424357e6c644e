#pragma once
// What the CUDA training tests compare between backends: a batch's spikes,
// statistics and gradients, gathered the same way from either simulator.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <spikegraph/spikegraph.hpp>

namespace training_comparison {

struct Observed {
    std::vector<std::vector<std::int32_t>> steps;  // per population and lane
    std::vector<std::vector<std::uint32_t>> ids;
    std::vector<std::uint64_t> totals;
    std::uint64_t events = 0;
    std::vector<std::vector<float>> gradients;  // per connection, after the last batch

    // The recorded spikes and statistics of the batch just run.
    template <class Net, class Sim>
    void add_batch(const Sim& sim, std::size_t lanes) {
        for (std::size_t p = 0; p < Net::num_populations; ++p) {
            const auto& recorded = sim.recorded_spikes(p);
            for (std::size_t lane = 0; lane < lanes; ++lane) {
                steps.push_back(recorded.steps[lane]);
                ids.push_back(recorded.ids[lane]);
            }
        }
        [&]<std::size_t... P>(std::index_sequence<P...>) {
            (([&] {
                 const auto lane_totals = sim.template spike_totals<P>();
                 totals.insert(totals.end(), lane_totals.begin(), lane_totals.end());
             }()),
             ...);
        }(std::make_index_sequence<Net::num_populations>{});
        events += sim.synaptic_events();
    }
    template <class Net, class Sim>
    void take_gradients(const Sim& sim) {
        [&]<std::size_t... C>(std::index_sequence<C...>) {
            (gradients.emplace_back(sim.template gradient<C>().begin(), sim.template gradient<C>().end()), ...);
        }(std::make_index_sequence<Net::num_connections>{});
    }
    std::size_t spikes() const {
        std::size_t total = 0;
        for (const auto& lane : ids) total += lane.size();
        return total;
    }
};

// |cuda - cpu| <= relative x the largest finite |cpu| value, everywhere.
inline void require_close(const std::vector<float>& cuda, const std::vector<float>& cpu, float relative, const std::string& what) {
    INFO(what);
    REQUIRE(cuda.size() == cpu.size());
    float scale = 0.0f;
    for (float v : cpu)
        if (std::isfinite(v)) scale = std::max(scale, std::fabs(v));
    std::size_t worst = 0;
    float worst_error = 0.0f;
    for (std::size_t i = 0; i < cpu.size(); ++i) {
        const float error = std::fabs(cuda[i] - cpu[i]);
        if (error > worst_error || (std::isnan(error) && !(std::isnan(cuda[i]) && std::isnan(cpu[i])))) {
            worst_error = std::isnan(error) ? INFINITY : error;
            worst = i;
        }
    }
    INFO("largest difference " << worst_error << " at " << worst << " (cuda " << cuda[worst] << ", cpu " << cpu[worst]
                               << "), scale " << scale);
    CHECK(scale > 0.0f);
    CHECK(worst_error <= relative * scale);
}

// Spikes for spikes, statistics exactly, gradients to `relative` (or exactly).
inline void require_equal(const Observed& cuda, const Observed& cpu, bool gradients_exact, float relative) {
    REQUIRE(cuda.steps == cpu.steps);
    REQUIRE(cuda.ids == cpu.ids);
    CHECK(cuda.totals == cpu.totals);
    CHECK(cuda.events == cpu.events);
    CHECK(cpu.spikes() > 0);
    REQUIRE(cuda.gradients.size() == cpu.gradients.size());
    for (std::size_t c = 0; c < cpu.gradients.size(); ++c) {
        if (gradients_exact) CHECK(cuda.gradients[c] == cpu.gradients[c]);
        else require_close(cuda.gradients[c], cpu.gradients[c], relative, "gradient of connection " + std::to_string(c));
    }
}

// Random Poisson rates (spikes/ms, up to max_rate) for `inputs` neurons, labels cycling over `classes`.
inline spikegraph::ValueDataset poisson_rates(std::size_t count, std::size_t inputs, float max_rate, int classes) {
    spikegraph::ValueDataset data;
    data.num_inputs = inputs;
    std::mt19937 random(3);
    std::uniform_real_distribution<float> rate(0.0f, max_rate);
    data.values.resize(count * inputs);
    for (auto& v : data.values) v = rate(random);
    for (std::size_t i = 0; i < count; ++i) data.labels.push_back(std::int32_t(i % std::size_t(classes)));
    return data;
}

}  // namespace training_comparison
