#pragma once
// The cuda backend tag: InferenceCompiler{...}.compile<spikegraph::cuda>(net).
// Its kernels are instantiated from the network's type, so the translation
// unit that compiles a network for it must be compiled by nvcc (a .cu file).
// spikegraph.hpp includes this header by itself under nvcc.
//
// For results equal to the CPU backend's, bit for bit, compile with
//   --fmad=false -ftz=true
// (no a*b+c contraction into FMA, denormals flushed as the CPU backend does);
// CMake: link spikegraph::cuda, which adds both.
#if !defined(__CUDACC__) && !defined(SPIKEGRAPH_CUDA_HOST_EMULATION)
#error "spikegraph: the cuda backend's kernels must be compiled by nvcc: put this code in a .cu file"
#endif

#include <spikegraph/cuda/eprop_simulator.cuh>
#include <spikegraph/cuda/event_prop_simulator.cuh>
#include <spikegraph/cuda/simulator.cuh>

namespace spikegraph {

struct cuda {
    static constexpr const char* name = "cuda";
    static constexpr bool has_event_prop = true;
    static constexpr bool has_eprop = true;
    template <class Net>
    using Simulator = cuda_backend::Simulator<Net>;
    template <class Net>
    using EventPropSimulator = cuda_backend::EventPropSimulator<Net>;
    template <class Net>
    using EPropSimulator = cuda_backend::EPropSimulator<Net>;
};

}  // namespace spikegraph
