#pragma once
#include <string_view>
#include <cmath>

#include <spikegraph/model/neuron.hpp>

namespace spikegraph {

// Poisson spike source driven by one value per neuron per example, as mlGeNN's
// PoissonInput: the value is a rate in spikes per ms (1.0 = 1000 Hz) and the
// neuron fires in a step when value > 0 and u >= exp(-value dt), u ~ U(0, 1].
struct PoissonInput {
    static constexpr std::string_view type_name = "PoissonInput";  // stable, for manifests and messages
    using Variables = VariableList<>;
    static constexpr FixedString output_variable = "";
    static constexpr NeuronKind kind = NeuronKind::value_input;

    struct Dynamics {
        float dt;
        // Done once per example on the host, so every backend compares against
        // the same bits: the firing bound exp(-value dt), or 2 (never) if value <= 0.
        float prepare(float value) const {
            return value > 0.0f ? static_cast<float>(std::exp(-double(value) * double(dt))) : 2.0f;
        }
        // u: a uniform draw in (0, 1] from the counter-based RNG.
        SPIKEGRAPH_HOST_DEVICE bool fires(float prepared, float u) const { return u >= prepared; }
    };
    Dynamics dynamics(float dt) const { return {dt}; }
    NeuronState<PoissonInput> initial_state() const { return {}; }
    template <class F>
    void for_each_parameter(F&&) const {}
    void validate(std::string_view) const {}
    static constexpr bool needs_random = true;
};

}  // namespace spikegraph
