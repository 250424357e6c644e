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

// Warp w takes w + 1 ballots of "thread % (w + 2) == 0": warps wait for
// their own threads only, as with __shfl_sync.
void ballot_kernel(unsigned* words) {
    const unsigned warp = threadIdx.x / 32;
    unsigned word = 0;
    for (unsigned round = 0; round <= warp; ++round) word = __ballot_sync(0xffffffffu, threadIdx.x % (warp + 2) == 0);
    if (threadIdx.x % 32 == 0) words[warp] = word;
}

// After a barrier, thread 0 sets a flag that every thread reads, with no
// barrier between: on a GPU what each reads is undefined.
void racy_kernel(unsigned* seen, unsigned* flag) {
    __syncthreads();
    if (threadIdx.x == 0) *flag = 1;
    seen[threadIdx.x] = *flag;
}

// Each block takes the next number.
void block_order_kernel(unsigned* order, unsigned* counter) {
    if (threadIdx.x == 0) order[blockIdx.x] = (*counter)++;
}

void empty_kernel(unsigned*) {}

}  // namespace

TEST_CASE("cuda host emulation: __ballot_sync works per warp", "[cuda][emulation]") {
    std::vector<unsigned> words(3, 0u);
    sg::cuda_backend::launch_kernel(ballot_kernel, dim3(1), dim3(80), nullptr, words.data());
    for (unsigned warp = 0; warp < 3; ++warp) {
        unsigned expected = 0;
        for (unsigned t = warp * 32; t < std::min(80u, warp * 32 + 32); ++t)
            if (t % (warp + 2) == 0) expected |= 1u << (t - warp * 32);
        INFO("warp " << warp);
        CHECK(words[warp] == expected);
    }
}

// Code that depends on an order a GPU does not promise must not pass the
// emulation by luck of its order: thread 0 runs first in the round before a
// barrier and last in the round after it, and blocks run from the last in
// every other launch.
TEST_CASE("cuda host emulation: the order of threads and blocks varies", "[cuda][emulation]") {
    std::vector<unsigned> seen(64, 7u);
    unsigned flag = 0;
    sg::cuda_backend::launch_kernel(racy_kernel, dim3(1), dim3(64), nullptr, seen.data(), &flag);
    CHECK(seen[0] == 1u);
    CHECK(std::count(seen.begin(), seen.end(), 0u) == 63);  // the others read before thread 0 wrote

    std::vector<unsigned> first(5), second(5);
    unsigned counter = 0;
    sg::cuda_backend::launch_kernel(block_order_kernel, dim3(5), dim3(32), nullptr, first.data(), &counter);
    counter = 0;
    sg::cuda_backend::launch_kernel(block_order_kernel, dim3(5), dim3(32), nullptr, second.data(), &counter);
    for (unsigned b = 0; b < 5; ++b) CHECK(first[b] + second[b] == 4u);  // opposite orders
}

// As on a GPU: an invalid launch does not run and leaves its error for
// cudaGetLastError; allocation, copies and synchronisation fail during a
// capture; check() clears the error it throws for.
TEST_CASE("cuda host emulation: launch configurations and the last error", "[cuda][emulation]") {
    REQUIRE(cudaGetLastError() == cudaSuccess);
    std::vector<unsigned> values(1, 0u);
    for (const auto& [grid, block] : {std::pair{dim3(0), dim3(32)}, std::pair{dim3(1), dim3(1025)},
                                      std::pair{dim3(1, 65536), dim3(32)}, std::pair{dim3(1), dim3(0)}}) {
        INFO("grid " << grid.x << " x " << grid.y << ", block " << block.x);
        sg::cuda_backend::launch_kernel(empty_kernel, grid, block, nullptr, values.data());
        CHECK(cudaGetLastError() == cudaErrorInvalidConfiguration);
        CHECK(cudaGetLastError() == cudaSuccess);
    }
    CHECK_THROWS_WITH(sg::cuda_backend::launch_kernel(empty_kernel, dim3(1), dim3(32, 2), nullptr, values.data()),
                      Catch::Contains("2-D or 3-D blocks are not emulated"));

    cudaStream_t stream = nullptr;
    REQUIRE(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking) == cudaSuccess);
    REQUIRE(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal) == cudaSuccess);
    void* memory = nullptr;
    CHECK(cudaMalloc(&memory, 64) == cudaErrorStreamCaptureUnsupported);
    CHECK(cudaMemcpyAsync(values.data(), values.data(), 4, cudaMemcpyHostToDevice, stream) == cudaErrorStreamCaptureUnsupported);
    CHECK(cudaStreamSynchronize(stream) == cudaErrorStreamCaptureUnsupported);
    cudaGraph_t graph = nullptr;
    REQUIRE(cudaStreamEndCapture(stream, &graph) == cudaSuccess);
    cudaGraphDestroy(graph);
    CHECK(cudaMalloc(&memory, 64) == cudaSuccess);
    cudaFree(memory);
    cudaStreamDestroy(stream);
    (void)cudaGetLastError();

    CHECK_THROWS_WITH(sg::cuda_backend::check(cudaSetDevice(1), "cudaSetDevice(1)"), Catch::Contains("cudaSetDevice(1) failed"));
    CHECK(cudaGetLastError() == cudaSuccess);
}

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
