// The CUDA e-prop equality test (tests/cuda/cuda_eprop_test.cu) compiled as
// plain C++ against the host emulation of the CUDA runtime
// (kernels/spikegraph/cuda/host_emulation.hpp), so CI checks the e-prop
// kernels and the simulator's host logic against the CPU simulator on
// machines without a GPU.
#define SPIKEGRAPH_CUDA_HOST_EMULATION
#include "cuda/cuda_eprop_test.cu"
