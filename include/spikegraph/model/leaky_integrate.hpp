#pragma once
#include <string_view>
#include <spikegraph/model/neuron.hpp>

namespace spikegraph {

// Non-spiking leaky integrator, the usual readout population, as mlGeNN's LeakyIntegrate:
//   V <- alpha V + s I + bias        s = 1 or (1 - alpha) with scale_i
struct LeakyIntegrate {
    static constexpr std::string_view type_name = "LeakyIntegrate";  // stable, for manifests and messages
    float v = 0.0f;
    float bias = 0.0f;
    float tau_mem = 20.0f;
    bool scale_i = false;

    using Variables = VariableList<"V">;
    static constexpr FixedString output_variable = "V";
    static constexpr NeuronKind kind = NeuronKind::non_spiking;
    enum : int { V };

    struct Dynamics {
        float alpha, input_scale, bias;
        SPIKEGRAPH_HOST_DEVICE void integrate(NeuronState<LeakyIntegrate>& s, float isyn) const {
            s[V] = alpha * s[V] + input_scale * isyn + bias;
        }
        SPIKEGRAPH_HOST_DEVICE bool threshold(const NeuronState<LeakyIntegrate>&) const { return false; }
        SPIKEGRAPH_HOST_DEVICE void reset(NeuronState<LeakyIntegrate>&) const {}
    };

    Dynamics dynamics(float dt) const {
        const float alpha = detail::decay_factor(dt, tau_mem);
        return {alpha, scale_i ? 1.0f - alpha : 1.0f, bias};
    }
    NeuronState<LeakyIntegrate> initial_state() const { return {{v}}; }

    template <class F>
    void for_each_parameter(F&& f) const {
        f("v", v), f("bias", bias), f("tau_mem", tau_mem);
    }
    void validate(std::string_view population) const {
        for_each_parameter([&](std::string_view n, float x) { detail::require_finite(population, n, x); });
        detail::require_positive(population, "tau_mem", tau_mem);
    }
};

}  // namespace spikegraph
