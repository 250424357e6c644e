#pragma once
#include <string_view>
#include <spikegraph/model/neuron.hpp>

namespace spikegraph {

// Replays each example's spike events (times in ms from the example's start),
// as GeNN's SpikeSourceArray under mlGeNN's SpikeInput: in the step starting at
// t a neuron fires if its next pending event has time <= t; it fires at most
// once a step, so a second event in the same step is emitted one step later.
struct SpikeInput {
    static constexpr std::string_view type_name = "SpikeInput";  // stable, for manifests and messages
    using Variables = VariableList<>;
    static constexpr FixedString output_variable = "";
    static constexpr NeuronKind kind = NeuronKind::spike_input;

    struct Dynamics {};
    Dynamics dynamics(float) const { return {}; }
    NeuronState<SpikeInput> initial_state() const { return {}; }
    template <class F>
    void for_each_parameter(F&&) const {}
    void validate(std::string_view) const {}
};

}  // namespace spikegraph
