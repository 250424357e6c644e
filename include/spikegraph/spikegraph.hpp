#pragma once
// spikegraph: spiking neural networks as compile-time C++ graphs.
// One include for everything a user needs.

#include <spikegraph/model/adaptive_leaky_integrate_fire.hpp>
#include <spikegraph/model/binary_spike_input.hpp>
#include <spikegraph/model/connectivity.hpp>
#include <spikegraph/model/initialiser.hpp>
#include <spikegraph/model/integrate_fire.hpp>
#include <spikegraph/model/leaky_integrate.hpp>
#include <spikegraph/model/leaky_integrate_fire.hpp>
#include <spikegraph/model/neuron_update.hpp>
#include <spikegraph/model/poisson_input.hpp>
#include <spikegraph/model/readout.hpp>
#include <spikegraph/model/spike_input.hpp>
#include <spikegraph/model/synapse.hpp>

#include <spikegraph/graph/connection.hpp>
#include <spikegraph/graph/network.hpp>
#include <spikegraph/graph/population.hpp>
#include <spikegraph/graph/sequential.hpp>

#include <spikegraph/compile/backends.hpp>
#if defined(__CUDACC__) || defined(SPIKEGRAPH_CUDA_HOST_EMULATION)
#include <spikegraph/compile/cuda_backend.hpp>  // spikegraph::cuda, under nvcc only (or its host emulation, for tests)
#endif
#include <spikegraph/compile/compiled_network.hpp>
#include <spikegraph/compile/eprop_compiler.hpp>
#include <spikegraph/compile/event_prop_compiler.hpp>
#include <spikegraph/compile/inference_compiler.hpp>
#include <spikegraph/compile/learning_rule.hpp>
#include <spikegraph/compile/trainable_network.hpp>

#include <spikegraph/train/callback.hpp>
#include <spikegraph/train/loss.hpp>
#include <spikegraph/train/metrics.hpp>
#include <spikegraph/train/optimiser.hpp>
#include <spikegraph/train/regularisation.hpp>
#include <spikegraph/train/progress_bar.hpp>
#include <spikegraph/train/spike_recorder.hpp>
#include <spikegraph/train/var_recorder.hpp>

#include <spikegraph/data/dataset.hpp>
#include <spikegraph/data/event_arrays.hpp>
#include <spikegraph/data/latency_encoding.hpp>
#include <spikegraph/data/nmnist.hpp>
#include <spikegraph/data/preprocessing.hpp>
#include <spikegraph/data/yin_yang.hpp>

#include <spikegraph/io/npy.hpp>
#include <spikegraph/io/svg.hpp>

// Opt-in, because they need a library (link the CMake target named):
//   <spikegraph/data/idx.hpp>        IDX / MNIST, gzip'd or plain   spikegraph::zlib
//   <spikegraph/io/npz.hpp>          .npz archives                  spikegraph::zlib
//   <spikegraph/io/checkpoint.hpp>   weights, checkpoints            spikegraph::zlib
//   <spikegraph/data/shd.hpp>        Spiking Heidelberg Digits       spikegraph::hdf5
