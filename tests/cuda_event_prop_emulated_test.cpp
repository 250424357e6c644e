// The CUDA EventProp equality test (tests/cuda/cuda_event_prop_test.cu)
// compiled as plain C++ against the host emulation of the CUDA runtime
// (kernels/spikegraph/cuda/host_emulation.hpp), so CI checks the EventProp
// kernels' indexing, order of operations and barriers, and the simulator's
// host logic, against the CPU simulator on machines without a GPU.
#define SPIKEGRAPH_CUDA_HOST_EMULATION
#include "cuda/cuda_event_prop_test.cu"
