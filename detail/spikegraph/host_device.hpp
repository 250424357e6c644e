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

// For the few small functions called inside vectorised CPU loops (the
// exponential): GCC's inliner, near its size limits in the simulators' large
// step functions, otherwise leaves some calls out of line, and a call there
// spills the vector registers around it (detail/spikegraph/exp_polynomial.hpp).
#if defined(__CUDACC__)
#define SPIKEGRAPH_ALWAYS_INLINE __forceinline__
#elif defined(__GNUC__)
#define SPIKEGRAPH_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define SPIKEGRAPH_ALWAYS_INLINE inline
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
