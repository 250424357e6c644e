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
    // CUDA backend: targets per warp in a sparse connection's propagation,
    // a power of two >= 32; 0 = chosen from each connection's sizes
    // (kernels/spikegraph/cuda/sparse_row_split.hpp). For tuning on a GPU.
    std::size_t cuda_sparse_unit_width = 0;

    void validate() const {
        if (!(std::isfinite(dt) && dt > 0.0f)) detail::throw_invalid("dt must be finite and > 0 ms, got ", dt);
        if (example_timesteps <= 0)
            detail::throw_invalid("example_timesteps must be > 0, got ", example_timesteps);
        if (batch_size == 0) detail::throw_invalid("batch_size must be > 0, got 0");
        const std::size_t w = cuda_sparse_unit_width;
        if (w != 0 && (w < 32 || (w & (w - 1)) != 0))
            detail::throw_invalid("cuda_sparse_unit_width must be 0 (chosen per connection) or a power of two >= 32, got ", w);
    }
};

}  // namespace spikegraph
