#pragma once
#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include <spikegraph/compile/backends.hpp>
#include <spikegraph/compile/learning_rule.hpp>
#include <spikegraph/compile/simulation_options.hpp>
#include <spikegraph/compile/trainable_network.hpp>
#include <spikegraph/graph/network.hpp>
#include <spikegraph/model/readout.hpp>
#include <spikegraph/model/synapse.hpp>
#include <spikegraph/train/loss.hpp>
#include <spikegraph/train/regularisation.hpp>
#include <spikegraph/train/optimiser.hpp>

namespace spikegraph {

namespace detail {
template <class Net>
constexpr bool all_connections_delta() {
    return []<std::size_t... C>(std::index_sequence<C...>) {
        return (std::is_same_v<typename Net::template connection_type<C>::synapse_type, Delta> && ...);
    }(std::make_index_sequence<Net::num_connections>{});
}
template <class Net>
constexpr bool only_output_is_non_spiking() {
    constexpr int output = Net::first_readout();
    return [&]<std::size_t... P>(std::index_sequence<P...>) {
        return ((int(P) == output || Net::template population_type<P>::neuron_type::kind != NeuronKind::non_spiking) && ...);
    }(std::make_index_sequence<Net::num_populations>{});
}
}  // namespace detail

// Compiles a network for e-prop training (Bellec et al. 2020; mlGeNN's EPropCompiler):
//   auto model = EPropCompiler{.example_timesteps = 100, .optimiser = Adam{.lr = 1e-3f},
//                              .batch_size = 32}.compile<cpu>(net);
//   model.train(data, {.epochs = 20});
// Hidden populations: LIF or ALIF, feed-forward or recurrent, dense or sparse,
// Delta synapses. Output: one LeakyIntegrate population whose readout gives
// the metrics. The loss is per step: the cross-entropy of softmax(V(t)) (or
// the square error of V(t)) averaged over the steps, as mlGeNN's e-prop.
struct EPropCompiler {
    int example_timesteps = 0;  // required: steps per example
    Loss loss = SparseCategoricalCrossentropy{};
    Optimiser optimiser = Adam{};
    std::size_t batch_size = 1;
    float dt = 1.0f;
    std::uint64_t seed = 0;
    unsigned num_threads = 0;  // 0 = all hardware threads
    std::size_t cuda_sparse_unit_width = 0;  // CUDA backend, for tuning: see SimulationOptions
    // Firing-rate regularisation (mlGeNN's names and defaults).
    float tau_reg = 500.0f;
    float c_reg = 0.001f;
    float f_target = 10.0f;
    // The output's bias is a per-neuron parameter trained with the weights
    // (mlGeNN's default); model.biases<"output">() reads it.
    bool train_output_bias = true;
    std::vector<std::string> metrics{"sparse_categorical_accuracy"};
    bool verbose = true;

    template <class Backend = cpu, NetworkType Net>
    TrainableNetwork<Net, EPropBackend<Backend>> compile(const Net& net) const {
        check_learning_rule<rules::EProp>(net);
        static_assert(detail::all_connections_delta<Net>(),
                      "spikegraph: e-prop trains connections with Delta synapses only (as mlGeNN's EPropCompiler); "
                      "write pre >> Dense{...} >> Delta{} >> post");
        static_assert(Net::num_readouts == 1, "spikegraph: e-prop needs exactly one population with a readout (the output)");
        constexpr std::size_t output = std::size_t(Net::first_readout() >= 0 ? Net::first_readout() : 0);
        using OutputPopulation = typename Net::template population_type<output>;
        static_assert(std::is_same_v<typename OutputPopulation::neuron_type, LeakyIntegrate>,
                      "spikegraph: e-prop's output population must be LeakyIntegrate");
        static_assert(detail::only_output_is_non_spiking<Net>(),
                      "spikegraph: e-prop's hidden populations must be LIF or ALIF; only the output is LeakyIntegrate");

        SimulationOptions options{dt, example_timesteps, batch_size, seed, num_threads, cuda_sparse_unit_width};
        options.validate();
        OptimiserState::validate(optimiser);
        if (!(tau_reg > 0.0f)) detail::throw_invalid("EPropCompiler: tau_reg must be > 0 ms, got ", tau_reg);
        if (!(c_reg >= 0.0f)) detail::throw_invalid("EPropCompiler: c_reg must be >= 0, got ", c_reg);
        if (!(f_target >= 0.0f)) detail::throw_invalid("EPropCompiler: f_target must be >= 0 Hz, got ", f_target);

        TrainingSettings settings;
        settings.loss = loss;
        settings.optimiser = optimiser;
        settings.train_output_bias = train_output_bias;
        TrainableNetwork<Net, EPropBackend<Backend>> model(net, options, metrics, verbose, settings);
        model.simulator().set_regularisation(RateRegularisation{tau_reg, c_reg, f_target});
        return model;
    }
};

}  // namespace spikegraph
