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

template <class R>
inline constexpr bool is_differentiable_variable_readout =
    std::is_same_v<R, SumVar<R::variable>> || std::is_same_v<R, AvgVar<R::variable>> ||
    std::is_same_v<R, AvgVarExpWeight<R::variable>> || std::is_same_v<R, MaxVar<R::variable>> ||
    std::is_same_v<R, Var<R::variable>>;

template <class Net>
constexpr bool all_connections_exponential() {
    return []<std::size_t... C>(std::index_sequence<C...>) {
        return (std::is_same_v<typename Net::template connection_type<C>::synapse_type, Exponential> && ...);
    }(std::make_index_sequence<Net::num_connections>{});
}

template <class Readout>
constexpr bool readout_variable_is_v() {
    if constexpr (Readout::uses_variable) return Readout::variable.empty() || name_view<Readout::variable> == "V";
    else return true;
}

}  // namespace detail

// Compiles a network for EventProp training (mlGeNN's EventPropCompiler;
// Wunderlich & Pehle 2021, Nowotny, Turner & Knight 2024):
//   auto model = EventPropCompiler{.example_timesteps = 100, .loss = SparseCategoricalCrossentropy{},
//                                  .optimiser = Adam{.lr = 1e-3f}, .batch_size = 32}.compile<cpu>(net);
//   model.train(data, {.epochs = 20}, ProgressBar{});
// Hidden populations are LIF with Exponential synapses; the output is an LI
// population with a variable readout, or LIF with FirstSpikeTime. The forward
// pass places spikes inside their step (docs/event_prop.md), so gradients are
// exact for the simulated model.
struct EventPropCompiler {
    int example_timesteps = 0;  // required: steps per example
    Loss loss = SparseCategoricalCrossentropy{};
    Optimiser optimiser = Adam{};
    std::size_t batch_size = 1;
    float dt = 1.0f;
    std::uint64_t seed = 0;
    unsigned num_threads = 0;  // 0 = all hardware threads
    // Spike-count regularisation of hidden neurons (mlGeNN's names and defaults; 0 = off).
    float reg_lambda_upper = 0.0f;
    float reg_lambda_lower = 0.0f;
    float reg_nu_upper = 0.0f;
    // First-spike-time loss (FirstSpikeTime readout), mlGeNN's names and defaults.
    float softmax_temperature = 1.0f;
    float ttfs_alpha = 0.01f;
    std::vector<std::string> metrics{"sparse_categorical_accuracy"};
    bool verbose = true;  // progress bar while training (and on a terminal for evaluate/predict)

    template <class Backend = cpu, NetworkType Net>
    TrainableNetwork<Net, EventPropBackend<Backend>> compile(const Net& net) const {
        check_learning_rule<rules::EventProp>(net);
        static_assert(detail::all_connections_exponential<Net>(),
                      "spikegraph: EventProp trains connections with Exponential synapses only "
                      "(as mlGeNN's EventPropCompiler); write pre >> Dense{...} >> Exponential{5.0f} >> post");
        static_assert(Net::num_readouts == 1,
                      "spikegraph: EventProp needs exactly one population with a readout (the output)");
        constexpr std::size_t output = std::size_t(Net::first_readout() >= 0 ? Net::first_readout() : 0);
        using OutputPopulation = typename Net::template population_type<output>;
        using OutputModel = typename OutputPopulation::neuron_type;
        using OutputReadout = typename OutputPopulation::readout_type;
        static_assert((std::is_same_v<OutputModel, LeakyIntegrate> &&
                       detail::is_differentiable_variable_readout<OutputReadout>) ||
                          (std::is_same_v<OutputModel, LeakyIntegrateFire> &&
                           std::is_same_v<OutputReadout, FirstSpikeTime>),
                      "spikegraph: EventProp's output must be LeakyIntegrate with SumVar, AvgVar, AvgVarExpWeight, "
                      "MaxVar or Var, or LeakyIntegrateFire with FirstSpikeTime");
        static_assert(detail::readout_variable_is_v<OutputReadout>(),
                      "spikegraph: EventProp's output readout must read V");

        SimulationOptions options{dt, example_timesteps, batch_size, seed, num_threads};
        options.validate();
        OptimiserState::validate(optimiser);
        constexpr bool first_spike_time = std::is_same_v<OutputReadout, FirstSpikeTime>;
        if (first_spike_time && std::holds_alternative<MeanSquareError>(loss))
            detail::throw_invalid("EventPropCompiler: loss mean_square_error needs a variable readout on population '",
                                  name_view<OutputPopulation::name>, "', which has FirstSpikeTime");
        if (!(softmax_temperature > 0.0f))
            detail::throw_invalid("EventPropCompiler: softmax_temperature must be > 0, got ", softmax_temperature);
        if (!(ttfs_alpha >= 0.0f)) detail::throw_invalid("EventPropCompiler: ttfs_alpha must be >= 0, got ", ttfs_alpha);
        if (!(reg_lambda_upper >= 0.0f && reg_lambda_lower >= 0.0f && reg_nu_upper >= 0.0f))
            detail::throw_invalid("EventPropCompiler: reg_lambda_upper, reg_lambda_lower and reg_nu_upper must be >= 0");

        TrainingSettings settings;
        settings.loss = loss;
        settings.optimiser = optimiser;
        settings.loss_context = LossContext{first_spike_time, float(example_timesteps) * dt, softmax_temperature, ttfs_alpha};
        TrainableNetwork<Net, EventPropBackend<Backend>> model(net, options, metrics, verbose, settings);
        model.simulator().set_regularisation(
            SpikeRegularisation{reg_lambda_upper, reg_lambda_lower, reg_nu_upper});
        return model;
    }
};

}  // namespace spikegraph
