#pragma once
// Marks functions that every backend (CPU loops, CUDA kernels) calls, so a
// model's dynamics are written once and compiled for host and device alike.
#if defined(__CUDACC__)
#define SPIKEGRAPH_HOST_DEVICE __host__ __device__
#define SPIKEGRAPH_INLINE __forceinline__
#else
#define SPIKEGRAPH_HOST_DEVICE
#define SPIKEGRAPH_INLINE inline
#endif

// Before a CPU loop over neurons whose iterations touch disjoint elements:
// lets the compiler vectorise it without run-time alias checks.
#if defined(__clang__)
#define SPIKEGRAPH_INDEPENDENT_ITERATIONS _Pragma("clang loop vectorize(assume_safety)")
#elif defined(__GNUC__) && !defined(__CUDACC__)
#define SPIKEGRAPH_INDEPENDENT_ITERATIONS _Pragma("GCC ivdep")
#else
#define SPIKEGRAPH_INDEPENDENT_ITERATIONS
#endif
