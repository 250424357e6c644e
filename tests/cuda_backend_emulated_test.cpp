// The CUDA backend's equality test (tests/cuda/cuda_backend_test.cu), compiled
// as plain C++ against the host emulation of the CUDA runtime
// (kernels/spikegraph/cuda/host_emulation.hpp): the same kernels, every GPU
// thread a fiber interleaved at barriers. It runs on every machine, so CI
// checks the kernels' indexing, addition order and barriers, and the
// simulator's host logic (graph capture and replay, recording, statistics),
// against the CPU backend spike for spike, although no GPU is there.
#define SPIKEGRAPH_CUDA_HOST_EMULATION
#include "cuda/cuda_backend_test.cu"

// The emulation's warp built-ins, which the sparse propagation relies on.
namespace {

// Warp w passes w + 1 barriers, shuffling each time: warps wait for their own
// threads only. Thread t ends with the value thread (t + rounds) % 32 of its warp posted first.
void rotate_kernel(unsigned* values) {
    const unsigned thread = threadIdx.x % 32, warp = threadIdx.x / 32;
    unsigned value = values[threadIdx.x];
    for (unsigned round = 0; round <= warp; ++round) value = __shfl_sync(0xffffffffu, value, int((thread + 1) % 32));
    __syncwarp();
    values[threadIdx.x] = value;
}

// Threads 0-15 of warp 0 wait at __syncwarp while 16-31 return.
void partial_warp_kernel(unsigned* values) {
    if (threadIdx.x < 16) {
        values[threadIdx.x] = 1;
        __syncwarp();
    }
}

}  // namespace

TEST_CASE("cuda host emulation: __shfl_sync and __syncwarp work per warp", "[cuda][emulation]") {
    std::vector<unsigned> values(96);
    for (unsigned t = 0; t < 96; ++t) values[t] = t;
    sg::cuda_backend::launch_kernel(rotate_kernel, dim3(1), dim3(96), nullptr, values.data());
    for (unsigned t = 0; t < 96; ++t) {
        const unsigned warp = t / 32, rounds = warp + 1;
        INFO("thread " << t);
        CHECK(values[t] == warp * 32 + (t % 32 + rounds) % 32);
    }
    CHECK_THROWS_WITH(sg::cuda_backend::launch_kernel(partial_warp_kernel, dim3(1), dim3(64), nullptr, values.data()),
                      Catch::Contains("__syncwarp reached by 16 of the 32 threads of warp 0"));
}
