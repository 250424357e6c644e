#pragma once
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include <spikegraph/data/dataset.hpp>
#include <spikegraph/error.hpp>
#include <spikegraph/philox.hpp>
#include <spikegraph/time_grid.hpp>

namespace spikegraph {

// Rate encoding of static values into spike trains on a time grid of step dt:
// a value v fires at rate  v / max_value * max_rate_hz, drawn as one Bernoulli
// trial per step with p = rate * dt (the expected count is rate * duration
// exactly). Use it to precompute PoissonInput-like spikes as a SpikeDataset
// (to inspect, bin, plot or store them); PoissonInput draws on the fly instead.
struct PoissonEncoding {
    double max_rate_hz = 0.0;  // required, > 0: the rate of a value equal to max_value
    double duration_ms = 0.0;  // required, > 0: steps k = 0, 1, ... with k dt < duration_ms
    float dt = 1.0f;           // ms; use the simulation's dt
    std::uint64_t seed = 0;
    double max_value = 1.0;  // the largest allowed value (255 for uint8 images)
    // Random numbers are keyed by (seed, first_example + example index, input,
    // step), so an example's spikes do not depend on the other examples: a
    // dataset encoded in chunks, each with first_example = its offset, gets
    // exactly the spikes of the whole dataset encoded at once.
    std::uint64_t first_example = 0;
};

namespace detail {
// Fourth counter word of poisson_encode's draws; differs from the words the
// simulator's PoissonInput uses, so the same seed gives unrelated streams.
inline constexpr std::uint32_t poisson_encode_tag = 0xE5C0DE00u;
}  // namespace detail

// Spikes at times k * dt (on the simulator's grid, see time_grid.hpp), at most
// one per input per step, sorted by time then input. Values must be finite and
// in [0, max_value]; labels carry over.
inline SpikeDataset poisson_encode(const ValueDataset& data, const PoissonEncoding& encoding) {
    constexpr std::string_view name = "poisson_encode";
    if (!(std::isfinite(encoding.max_rate_hz) && encoding.max_rate_hz > 0.0))
        detail::throw_invalid(name, ": max_rate_hz must be finite and > 0, got ", encoding.max_rate_hz);
    if (!(std::isfinite(encoding.duration_ms) && encoding.duration_ms > 0.0))
        detail::throw_invalid(name, ": duration_ms must be finite and > 0, got ", encoding.duration_ms);
    if (!(std::isfinite(encoding.dt) && encoding.dt > 0.0f))
        detail::throw_invalid(name, ": dt must be finite and > 0 ms, got ", encoding.dt);
    if (!(std::isfinite(encoding.max_value) && encoding.max_value > 0.0))
        detail::throw_invalid(name, ": max_value must be finite and > 0, got ", encoding.max_value);
    const double dt = encoding.dt;
    const double p_max = encoding.max_rate_hz * dt / 1000.0;
    if (p_max > 1.0)
        detail::throw_invalid(name, ": max_rate_hz * dt = ", encoding.max_rate_hz, " Hz * ", dt, " ms = ", p_max,
                              " spikes per step; at most 1 is possible, so lower max_rate_hz or dt");
    const std::uint64_t steps = detail::grid_steps_before(encoding.duration_ms, encoding.dt);
    if (steps > (std::uint64_t(1) << 32))
        detail::throw_invalid(name, ": duration_ms / dt = ", steps, " steps; at most 2^32 are supported");
    detail::check_dataset_shape(data, name, /*require_inputs=*/true);
    if (data.num_inputs > (std::size_t(1) << 32))
        detail::throw_invalid(name, ": ", data.num_inputs, " inputs; at most 2^32 are supported");

    SpikeDataset out;
    out.num_inputs = data.num_inputs;
    out.labels = data.labels;
    out.num_classes = data.num_classes;
    out.examples.reserve(data.size());

    std::vector<double> probability(data.num_inputs);
    std::vector<std::uint32_t> firing[4];  // inputs firing in each step of a 4-step block
    const auto key0 = static_cast<std::uint32_t>(encoding.seed);
    const auto key1 = static_cast<std::uint32_t>(encoding.seed >> 32);
    for (std::size_t e = 0; e < data.size(); ++e) {
        const float* row = data.example(e);
        for (std::size_t i = 0; i < data.num_inputs; ++i) {
            const double value = row[i];
            if (!(std::isfinite(value) && value >= 0.0 && value <= encoding.max_value))
                detail::throw_invalid(name, ": example ", e, ", feature ", i, " is ", row[i],
                                      "; expected a finite value in [0, max_value = ", encoding.max_value, "]");
            probability[i] = value / encoding.max_value * p_max;
        }
        const std::uint64_t key = encoding.first_example + e;
        const auto key_low = static_cast<std::uint32_t>(key);
        const auto key_high = static_cast<std::uint32_t>(key >> 32);
        SpikeEvents events;
        // One Philox block gives 4 uniforms: steps 4b .. 4b + 3 of one input.
        for (std::uint64_t block = 0; block * 4 < steps; ++block) {
            for (auto& f : firing) f.clear();
            for (std::size_t i = 0; i < data.num_inputs; ++i) {
                if (probability[i] <= 0.0) continue;
                const detail::Philox4x32 bits = detail::philox4x32(
                    detail::Philox4x32{{std::uint32_t(block), std::uint32_t(i), key_low,
                                        detail::poisson_encode_tag ^ key_high}},
                    key0, key1);
                for (int j = 0; j < 4; ++j)
                    if (double(detail::uniform_from_bits(bits.v[j])) <= probability[i])
                        firing[j].push_back(std::uint32_t(i));
            }
            for (std::uint64_t j = 0; j < 4 && block * 4 + j < steps; ++j) {
                const float t = detail::grid_time(block * 4 + j, encoding.dt);
                events.times.insert(events.times.end(), firing[j].size(), t);
                events.ids.insert(events.ids.end(), firing[j].begin(), firing[j].end());
            }
        }
        out.examples.push_back(std::move(events));
    }
    return out;
}

}  // namespace spikegraph
