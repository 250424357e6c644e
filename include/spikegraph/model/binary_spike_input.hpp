#pragma once
#include <string_view>
#include <spikegraph/model/neuron.hpp>

namespace spikegraph {

// Binary spike source, as mlGeNN's BinarySpikeInput: fires in every step of
// the example where the neuron's value is > 0.
struct BinarySpikeInput {
    static constexpr std::string_view type_name = "BinarySpikeInput";  // stable, for manifests and messages
    using Variables = VariableList<>;
    static constexpr FixedString output_variable = "";
    static constexpr NeuronKind kind = NeuronKind::value_input;

    struct Dynamics {
        float prepare(float value) const { return value > 0.0f ? 1.0f : 0.0f; }
        SPIKEGRAPH_HOST_DEVICE bool fires(float prepared, float) const { return prepared > 0.0f; }
    };
    Dynamics dynamics(float) const { return {}; }
    NeuronState<BinarySpikeInput> initial_state() const { return {}; }
    template <class F>
    void for_each_parameter(F&&) const {}
    void validate(std::string_view) const {}
    static constexpr bool needs_random = false;
};

}  // namespace spikegraph
