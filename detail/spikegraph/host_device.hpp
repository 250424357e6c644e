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
