// The CUDA backend's equality test (tests/cuda/cuda_backend_test.cu), compiled
// as plain C++ against the host emulation of the CUDA runtime
// (kernels/spikegraph/cuda/host_emulation.hpp): the same kernels, every GPU
// thread a fiber interleaved at barriers. It runs on every machine, so CI
// checks the kernels' indexing, addition order and barriers, and the
// simulator's host logic (graph capture and replay, recording, statistics),
// against the CPU backend spike for spike, although no GPU is there.
#define SPIKEGRAPH_CUDA_HOST_EMULATION
#include "cuda/cuda_backend_test.cu"
