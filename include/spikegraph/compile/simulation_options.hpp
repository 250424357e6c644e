#pragma once
#include <cmath>
#include <cstddef>
#include <cstdint>

#include <spikegraph/error.hpp>

namespace spikegraph {

// What every backend's simulator is built with; the compilers fill it in.
struct SimulationOptions {
    float dt = 1.0f;                 // ms
    int example_timesteps = 0;       // steps simulated per example
    std::size_t batch_size = 1;      // examples simulated at once (lanes)
    std::uint64_t seed = 0;          // weights, sparse connectivity and Poisson inputs
    unsigned num_threads = 0;        // CPU backend: 0 = all hardware threads

    void validate() const {
        if (!(std::isfinite(dt) && dt > 0.0f)) detail::throw_invalid("dt must be finite and > 0 ms, got ", dt);
        if (example_timesteps <= 0)
            detail::throw_invalid("example_timesteps must be > 0, got ", example_timesteps);
        if (batch_size == 0) detail::throw_invalid("batch_size must be > 0, got 0");
    }
};

}  // namespace spikegraph
