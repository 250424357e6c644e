#pragma once
#include <cstddef>
#include <concepts>
#include <string>
#include <string_view>

#include <spikegraph/host_device.hpp>
#include <spikegraph/model/neuron.hpp>

namespace spikegraph {

// A model whose Dynamics carry a `bias` (LeakyIntegrate) may have it per
// neuron instead of per population: mlGeNN's trained output "Bias". Every
// backend keeps such biases in an optional per-neuron array and gives each
// neuron its own copy of the Dynamics with neuron_dynamics(), so the model's
// one definition of integrate() still does the work.
template <class M>
inline constexpr bool has_neuron_bias = requires(typename M::Dynamics d) {
    { d.bias } -> std::convertible_to<float>;
};

// The Dynamics neuron `neuron` integrates with: the population's, or a copy
// with its own bias when `biases` (one per neuron) is not null.
template <class Dynamics>
SPIKEGRAPH_HOST_DEVICE SPIKEGRAPH_INLINE Dynamics neuron_dynamics(const Dynamics& dynamics, const float* biases,
                                                                  std::size_t neuron) {
    if constexpr (requires(Dynamics d) { d.bias = 0.0f; }) {
        if (biases != nullptr) {
            Dynamics own = dynamics;
            own.bias = biases[neuron];
            return own;
        }
    }
    return dynamics;
}

namespace detail {
// A population's per-neuron biases in checkpoints: "<population>-Bias", as
// mlGeNN's Checkpoint names the output's trained "Bias" variable.
inline std::string bias_array_name(std::string_view population) { return std::string(population) + "-Bias"; }
}  // namespace detail

}  // namespace spikegraph
