#pragma once
#include <cmath>
#include <cstdint>
#include <limits>

namespace spikegraph::detail {

// The simulator's step times are step * double(dt) with dt a float, and a
// SpikeInput fires in the first step whose time is >= the event's (float)
// time. Encoders and binning put events on that same grid, rounded DOWN to a
// float, so an event meant for step k is replayed in step k, never k + 1
// (rounding to nearest can land just above k * dt).

// Largest float <= x, for finite x >= 0.
inline float float_at_or_below(double x) {
    float f = static_cast<float>(x);
    if (static_cast<double>(f) > x) f = std::nextafter(f, -std::numeric_limits<float>::infinity());
    return f;
}

// The time of step k on the grid of step dt.
inline float grid_time(std::uint64_t k, float dt) {
    return float_at_or_below(static_cast<double>(k) * static_cast<double>(dt));
}

// Float times carry a relative rounding error below 2^-23 (one ulp, the
// round-down above); twice that counts as "on" a grid point, so a time
// produced by grid_time maps back to its own step.
inline constexpr double grid_tolerance = 0x1p-22;

// floor(t / dt), except that a t within float rounding below a grid point
// counts as on it. The caller checks that t / dt is below 2^52.
inline std::uint64_t grid_step_at_or_below(float t, float dt) {
    const double q = static_cast<double>(t) / static_cast<double>(dt);
    return static_cast<std::uint64_t>(std::floor(q * (1.0 + grid_tolerance)));
}

// Number of grid points k >= 0 with k dt < duration, counting a duration
// within float rounding of a grid point as exactly on it (30 ms / 0.01f ms is
// 3000 steps, not 3001).
inline std::uint64_t grid_steps_before(double duration, float dt) {
    const double q = duration / static_cast<double>(dt);
    const double nearest = std::round(q);
    if (std::fabs(q - nearest) <= q * grid_tolerance) return static_cast<std::uint64_t>(nearest);
    return static_cast<std::uint64_t>(std::ceil(q));
}

}  // namespace spikegraph::detail
