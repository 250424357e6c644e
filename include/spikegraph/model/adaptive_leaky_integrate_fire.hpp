#pragma once
#include <math.h>
#include <string_view>
#include <spikegraph/model/neuron.hpp>

namespace spikegraph {

// Adaptive LIF (Bellec et al. 2020), as mlGeNN's AdaptiveLeakyIntegrateFire:
//   V <- alpha V + s I,   A <- rho A          rho = exp(-dt/tau_adapt)
//   spike if V >= v_thresh + beta A (and not refractory)
//   reset V -= (v_thresh - v_reset) or V = v_reset; A += 1; RefracTime = tau_refrac.
struct AdaptiveLeakyIntegrateFire {
    static constexpr std::string_view type_name = "AdaptiveLeakyIntegrateFire";  // stable, for manifests and messages
    float v_thresh = 1.0f;
    float v_reset = 0.0f;
    float v = 0.0f;
    float a = 0.0f;  // initial adaptation
    float beta = 0.0174f;
    float tau_mem = 20.0f;
    float tau_refrac = 0.0f;
    float tau_adapt = 2000.0f;
    bool relative_reset = true;
    bool integrate_during_refrac = true;
    bool scale_i = false;

    using Variables = VariableList<"V", "A", "RefracTime">;
    static constexpr FixedString output_variable = "V";
    static constexpr NeuronKind kind = NeuronKind::spiking;
    enum : int { V, A, RefracTime };

    struct Dynamics {
        float alpha, rho, input_scale, v_thresh, v_reset, beta, tau_refrac, dt;
        bool relative_reset, integrate_during_refrac;

        // Both outcomes computed, then selected: no branch, so a loop over
        // neurons vectorises (a conditional float operation would stop it).
        SPIKEGRAPH_HOST_DEVICE void integrate(NeuronState<AdaptiveLeakyIntegrateFire>& s, float isyn) const {
            const float v = s[V], refrac = s[RefracTime];
            const bool refractory = refrac > 0.0f;
            const float integrated = alpha * v + input_scale * isyn;
            const float counted_down = refrac - dt;
            s[V] = (integrate_during_refrac | !refractory) ? integrated : v;
            s[A] *= rho;
            s[RefracTime] = refractory ? counted_down : refrac;
        }
        SPIKEGRAPH_HOST_DEVICE bool threshold(const NeuronState<AdaptiveLeakyIntegrateFire>& s) const {
            return (s[V] >= v_thresh + beta * s[A]) & (s[RefracTime] <= 0.0f);
        }
        SPIKEGRAPH_HOST_DEVICE void reset(NeuronState<AdaptiveLeakyIntegrateFire>& s) const {
            if (relative_reset) s[V] -= v_thresh - v_reset;
            else s[V] = v_reset;
            s[A] += 1.0f;
            s[RefracTime] = tau_refrac;
        }
        // e-prop's pseudo-derivative dz/dV (Bellec et al. 2020, gamma = 0.3, as mlGeNN)
        // at the adaptive threshold, of V and A before the reset; 0 while refractory.
        SPIKEGRAPH_HOST_DEVICE float pseudo_derivative(const NeuronState<AdaptiveLeakyIntegrateFire>& s) const {
            if (s[RefracTime] > 0.0f) return 0.0f;
            const float distance = fabsf(s[V] - (v_thresh + beta * s[A])) / v_thresh;
            return distance < 1.0f ? (0.3f / v_thresh) * (1.0f - distance) : 0.0f;
        }
    };

    Dynamics dynamics(float dt) const {
        const float alpha = detail::decay_factor(dt, tau_mem);
        return {alpha,    detail::decay_factor(dt, tau_adapt), scale_i ? 1.0f - alpha : 1.0f, v_thresh, v_reset, beta,
                tau_refrac, dt, relative_reset, integrate_during_refrac};
    }
    NeuronState<AdaptiveLeakyIntegrateFire> initial_state() const { return {{v, a, 0.0f}}; }

    template <class F>
    void for_each_parameter(F&& f) const {
        f("v_thresh", v_thresh), f("v_reset", v_reset), f("v", v), f("a", a), f("beta", beta), f("tau_mem", tau_mem),
            f("tau_refrac", tau_refrac), f("tau_adapt", tau_adapt);
    }
    void validate(std::string_view population) const {
        for_each_parameter([&](std::string_view n, float x) { detail::require_finite(population, n, x); });
        detail::require_positive(population, "tau_mem", tau_mem);
        detail::require_positive(population, "tau_adapt", tau_adapt);
        detail::require_non_negative(population, "tau_refrac", tau_refrac);
    }
};

}  // namespace spikegraph
