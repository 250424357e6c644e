#pragma once
#include <cmath>
#include <concepts>
#include <string>
#include <string_view>

#include <spikegraph/error.hpp>
#include <spikegraph/parameter_checks.hpp>
#include <spikegraph/model/variables.hpp>

namespace spikegraph {

// What a population does with its input each timestep.
enum class NeuronKind {
    spiking,       // integrates synaptic input, may spike (LIF, ALIF, IF)
    non_spiking,   // integrates synaptic input, never spikes (LI)
    spike_input,   // replays per-example spike events (SpikeInput)
    value_input,   // spikes from a per-example value per neuron (Poisson, binary)
};

// A neuron model is an aggregate of runtime parameters with mlGeNN's defaults, plus
//   Variables        VariableList of its state variables;
//   output_variable  the variable readouts use by default (empty if none);
//   kind             NeuronKind;
//   Dynamics         trivially copyable constants derived for a given dt, with
//                    __host__ __device__ integrate/threshold/reset (see below);
//   dynamics(dt)     builds the Dynamics;
//   initial_state()  the state at the start of every example;
//   for_each_parameter(f)  f(name, value) for validation and serialisation.
// The update of one neuron in one timestep is always update_neuron() below, on every backend.
template <class M>
concept NeuronModel = requires(const M& m, float dt) {
    typename M::Variables;
    { M::kind } -> std::convertible_to<NeuronKind>;
    typename M::Dynamics;
    { m.dynamics(dt) } -> std::same_as<typename M::Dynamics>;
};

template <class M>
using NeuronState = StateVector<M::Variables::size>;

template <class M>
inline constexpr bool is_input_model = M::kind == NeuronKind::spike_input || M::kind == NeuronKind::value_input;

template <class M>
inline constexpr bool is_spiking_model = M::kind != NeuronKind::non_spiking;

namespace detail {

// exp(-dt/tau) computed in double then rounded, as mlGeNN does in NumPy.
inline float decay_factor(float dt, float tau) { return static_cast<float>(std::exp(-double(dt) / double(tau))); }

}  // namespace detail
}  // namespace spikegraph
