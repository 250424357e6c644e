#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <spikegraph/compile/backends.hpp>
#include <spikegraph/compile/compiled_network.hpp>
#include <spikegraph/compile/simulation_options.hpp>
#include <spikegraph/graph/network.hpp>

namespace spikegraph {

// Compiles a network for inference (mlGeNN's InferenceCompiler):
//   auto model = InferenceCompiler{.example_timesteps = 100, .batch_size = 32}.compile<cpu>(net);
//   Metrics m = model.evaluate(data);
struct InferenceCompiler {
    int example_timesteps = 0;  // required: steps per example
    std::size_t batch_size = 1;
    float dt = 1.0f;
    std::uint64_t seed = 0;
    unsigned num_threads = 0;  // CPU backend; 0 = all hardware threads
    std::size_t cuda_sparse_unit_width = 0;  // CUDA backend, for tuning: see SimulationOptions
    std::vector<std::string> metrics{"sparse_categorical_accuracy"};
    bool verbose = true;  // progress bar on a terminal when no callbacks are given

    template <class Backend = cpu, NetworkType Net>
    CompiledNetwork<Net, Backend> compile(const Net& net) const {
        SimulationOptions options{dt, example_timesteps, batch_size, seed, num_threads, cuda_sparse_unit_width};
        options.validate();
        return CompiledNetwork<Net, Backend>(net, options, metrics, verbose);
    }
};

}  // namespace spikegraph
