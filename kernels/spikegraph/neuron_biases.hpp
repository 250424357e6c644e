#pragma once
#include <cmath>
#include <cstddef>
#include <span>
#include <string_view>
#include <tuple>
#include <vector>

#include <spikegraph/error.hpp>
#include <spikegraph/fixed_string.hpp>
#include <spikegraph/model/neuron_bias.hpp>

namespace spikegraph {

// The per-neuron biases of one population (model/neuron_bias.hpp), as every
// simulator holds them: empty until set, and then every neuron uses the
// population's own bias.
struct NeuronBiases {
    std::vector<float> values;

    bool per_neuron() const { return !values.empty(); }
    const float* data() const { return values.empty() ? nullptr : values.data(); }

    // One bias per neuron: the set values, or the population's bias repeated.
    std::vector<float> get(std::size_t neurons, float population_bias) const {
        return per_neuron() ? values : std::vector<float>(neurons, population_bias);
    }

    // The checked replacement for set(): one finite value per neuron.
    static std::vector<float> checked(std::span<const float> biases, std::size_t neurons, std::string_view population) {
        if (biases.size() != neurons)
            detail::throw_invalid("biases of population '", population, "': expected ", neurons, " values (one per neuron), got ",
                                  biases.size());
        for (std::size_t i = 0; i < biases.size(); ++i)
            if (!std::isfinite(biases[i]))
                detail::throw_invalid("biases of population '", population, "': neuron ", i, " has bias ", biases[i],
                                      ", expected a finite value");
        return {biases.begin(), biases.end()};
    }
    void set(std::span<const float> biases, std::size_t neurons, std::string_view population) {
        values = checked(biases, neurons, population);
    }
};

template <class Net, std::size_t P>
consteval void require_neuron_bias() {
    static_assert(has_neuron_bias<typename Net::template population_type<P>::neuron_type>,
                  "spikegraph: this population's model has no bias (per-neuron biases need a model like LeakyIntegrate)");
}

// What every simulator offers on per-neuron biases, for one whose population
// buffers (the tuple `populations_`, readable by this base: make it a friend)
// have `dynamics` and `bias` (a NeuronBiases). Setting them is the
// simulator's own set_biases<P>(span): the CUDA ones also upload.
template <class Net, class Simulator>
class NeuronBiasQueries {
public:
    // The per-neuron biases of population P: the set ones, or the model's bias for every neuron.
    template <std::size_t P>
    std::vector<float> biases() const {
        require_neuron_bias<Net, P>();
        using Pop = typename Net::template population_type<P>;
        const auto& b = std::get<P>(static_cast<const Simulator&>(*this).populations_);
        if constexpr (has_neuron_bias<typename Pop::neuron_type>) return b.bias.get(Pop::size, b.dynamics.bias);
        else return {};
    }
    template <std::size_t P>
    bool has_neuron_biases() const {
        return std::get<P>(static_cast<const Simulator&>(*this).populations_).bias.per_neuron();
    }
};

}  // namespace spikegraph
