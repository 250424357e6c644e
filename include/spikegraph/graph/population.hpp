#pragma once
#include <cstddef>
#include <type_traits>

#include <spikegraph/fixed_string.hpp>
#include <spikegraph/model/neuron.hpp>
#include <spikegraph/model/readout.hpp>

namespace spikegraph {

// A named population: its name, shape (Dims...) and model types are part of its
// type, so shapes and compatibility are checked by the compiler; the model's
// parameters are ordinary runtime values.
template <FixedString Name, NeuronModel Neuron, Readout ReadoutType, std::size_t... Dims>
struct Population {
    static constexpr FixedString name = Name;
    static constexpr std::size_t size = (Dims * ... * std::size_t{1});
    using neuron_type = Neuron;
    using readout_type = ReadoutType;
    static constexpr bool has_readout = !std::is_same_v<ReadoutType, NoReadout>;

    Neuron neuron{};
    ReadoutType readout{};
};

template <class T>
inline constexpr bool is_population = false;
template <FixedString Name, class Neuron, class R, std::size_t... Dims>
inline constexpr bool is_population<Population<Name, Neuron, R, Dims...>> = true;

template <class T>
concept PopulationType = is_population<std::remove_cvref_t<T>>;

// population<"hidden", 256>(LeakyIntegrateFire{...}) or, with a readout,
// population<"output", 10>(LeakyIntegrate{}, AvgVar{}).
template <FixedString Name, std::size_t... Dims, NeuronModel Neuron, Readout R = NoReadout>
constexpr auto population(Neuron neuron, R readout = {}) {
    static_assert(sizeof...(Dims) > 0, "spikegraph: a population needs a size, e.g. population<\"hidden\", 256>(...)");
    static_assert((Dims * ... * std::size_t{1}) > 0, "spikegraph: a population must have at least one neuron");
    static_assert(!Name.empty(), "spikegraph: a population needs a non-empty name");
    static_assert(std::is_same_v<R, NoReadout> || !is_input_model<Neuron>,
                  "spikegraph: input populations cannot have a readout");
    static_assert(is_input_model<Neuron> || !R::uses_variable || readout_variable_index<Neuron, R> >= 0,
                  "spikegraph: the readout names a variable that this neuron model does not have "
                  "(see the model's Variables)");
    static_assert(is_input_model<Neuron> || !R::needs_spikes || is_spiking_model<Neuron>,
                  "spikegraph: this readout counts spikes, but the neuron model never spikes");
    return Population<Name, Neuron, R, Dims...>{neuron, readout};
}

}  // namespace spikegraph
