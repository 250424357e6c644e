#pragma once
#include <string_view>
#include <spikegraph/model/neuron.hpp>

namespace spikegraph {

// Non-leaky integrate-and-fire (used by ANN-to-SNN conversion), as mlGeNN's IntegrateFire:
//   V <- V + I;  spike if V >= v_thresh;  reset V = v_reset.
struct IntegrateFire {
    static constexpr std::string_view type_name = "IntegrateFire";  // stable, for manifests and messages
    float v_thresh = 1.0f;
    float v_reset = 0.0f;
    float v = 0.0f;

    using Variables = VariableList<"V">;
    static constexpr FixedString output_variable = "V";
    static constexpr NeuronKind kind = NeuronKind::spiking;
    enum : int { V };

    struct Dynamics {
        float v_thresh, v_reset;
        SPIKEGRAPH_HOST_DEVICE void integrate(NeuronState<IntegrateFire>& s, float isyn) const { s[V] += isyn; }
        SPIKEGRAPH_HOST_DEVICE bool threshold(const NeuronState<IntegrateFire>& s) const { return s[V] >= v_thresh; }
        SPIKEGRAPH_HOST_DEVICE void reset(NeuronState<IntegrateFire>& s) const { s[V] = v_reset; }
    };

    Dynamics dynamics(float) const { return {v_thresh, v_reset}; }
    NeuronState<IntegrateFire> initial_state() const { return {{v}}; }

    template <class F>
    void for_each_parameter(F&& f) const {
        f("v_thresh", v_thresh), f("v_reset", v_reset), f("v", v);
    }
    void validate(std::string_view population) const {
        for_each_parameter([&](std::string_view n, float x) { detail::require_finite(population, n, x); });
    }
};

}  // namespace spikegraph
