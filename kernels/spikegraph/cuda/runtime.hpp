#pragma once
// The CUDA runtime as the backend uses it: the real one under nvcc, or, with
// SPIKEGRAPH_CUDA_HOST_EMULATION defined, host_emulation.hpp, which runs the
// same kernels on the host thread by thread so that tests check their logic
// on machines without a GPU. Kernels are launched through launch_kernel, the
// one place that differs.
#if defined(SPIKEGRAPH_CUDA_HOST_EMULATION)
#include <spikegraph/cuda/host_emulation.hpp>
#else
#include <utility>

#include <cuda_runtime.h>

namespace spikegraph::cuda_backend {

template <class... Parameters, class... Arguments>
void launch_kernel(void (*kernel)(Parameters...), dim3 grid, dim3 block, cudaStream_t stream, Arguments&&... arguments) {
    kernel<<<grid, block, 0, stream>>>(std::forward<Arguments>(arguments)...);
}

}  // namespace spikegraph::cuda_backend
#endif
