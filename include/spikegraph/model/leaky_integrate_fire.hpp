#pragma once
#include <math.h>
#include <string_view>
#include <spikegraph/exp_polynomial.hpp>
#include <spikegraph/model/neuron.hpp>

namespace spikegraph {

// Leaky integrate-and-fire neuron, discretised exactly as mlGeNN's
// LeakyIntegrateFire (ml_genn/neurons/leaky_integrate_fire.py):
//   V <- alpha V + s I            alpha = exp(-dt/tau_mem), s = 1 or (1 - alpha) with scale_i
//   spike if V >= v_thresh (and RefracTime <= 0 when tau_refrac > 0)
//   reset V -= (v_thresh - v_reset) (relative_reset) or V = v_reset; RefracTime = tau_refrac.
// tau_refrac = 0 means no refractory period (mlGeNN's None).
struct LeakyIntegrateFire {
    static constexpr std::string_view type_name = "LeakyIntegrateFire";  // stable, for manifests and messages
    float v_thresh = 1.0f;
    float v_reset = 0.0f;
    float v = 0.0f;  // initial membrane voltage
    float tau_mem = 20.0f;
    float tau_refrac = 0.0f;
    bool relative_reset = true;
    bool integrate_during_refrac = true;
    bool scale_i = false;

    using Variables = VariableList<"V", "RefracTime">;
    static constexpr FixedString output_variable = "V";
    static constexpr NeuronKind kind = NeuronKind::spiking;
    enum : int { V, RefracTime };

    struct Dynamics {
        float alpha, input_scale, v_thresh, v_reset, tau_refrac, dt, tau_mem;
        bool relative_reset, integrate_during_refrac;

        // Both outcomes computed, then selected: no branch, so a loop over
        // neurons vectorises (a conditional float operation would stop it).
        SPIKEGRAPH_HOST_DEVICE void integrate(NeuronState<LeakyIntegrateFire>& s, float isyn) const {
            const float v = s[V], refrac = s[RefracTime];
            const bool refractory = refrac > 0.0f;
            const float integrated = alpha * v + input_scale * isyn;
            const float counted_down = refrac - dt;
            s[V] = (integrate_during_refrac | !refractory) ? integrated : v;
            s[RefracTime] = refractory ? counted_down : refrac;
        }
        SPIKEGRAPH_HOST_DEVICE bool threshold(const NeuronState<LeakyIntegrateFire>& s) const {
            return (s[V] >= v_thresh) & (s[RefracTime] <= 0.0f);
        }
        SPIKEGRAPH_HOST_DEVICE void reset(NeuronState<LeakyIntegrateFire>& s) const {
            if (relative_reset) s[V] -= v_thresh - v_reset;
            else s[V] = v_reset;
            s[RefracTime] = tau_refrac;
        }

        // e-prop's pseudo-derivative dz/dV (Bellec et al. 2020, gamma = 0.3, as mlGeNN),
        // of V after integration and before the reset; 0 while refractory.
        SPIKEGRAPH_HOST_DEVICE float pseudo_derivative(const NeuronState<LeakyIntegrateFire>& s) const {
            if (s[RefracTime] > 0.0f) return 0.0f;
            const float distance = fabsf(s[V] - v_thresh) / v_thresh;
            return distance < 1.0f ? (0.3f / v_thresh) * (1.0f - distance) : 0.0f;
        }

        // EventProp's reset for a spike at offset u of the step
        // (model/precise_timing.hpp): the relative reset happens at u and
        // decays with V for the rest of the step, so V is continuous in u.
        SPIKEGRAPH_HOST_DEVICE float precise_reset_decay(float offset) const { return detail::exp_polynomial(-(dt - offset) / tau_mem); }
        SPIKEGRAPH_HOST_DEVICE void precise_reset(NeuronState<LeakyIntegrateFire>& s, float offset) const {
            s[V] -= (v_thresh - v_reset) * precise_reset_decay(offset);
        }
        // d V_after_reset / d offset
        SPIKEGRAPH_HOST_DEVICE float d_precise_reset_d_offset(float offset) const {
            return -(v_thresh - v_reset) * precise_reset_decay(offset) / tau_mem;
        }
    };

    Dynamics dynamics(float dt) const {
        const float alpha = detail::decay_factor(dt, tau_mem);
        return {alpha,          scale_i ? 1.0f - alpha : 1.0f, v_thresh, v_reset, tau_refrac, dt, tau_mem,
                relative_reset, integrate_during_refrac};
    }
    NeuronState<LeakyIntegrateFire> initial_state() const { return {{v, 0.0f}}; }

    template <class F>
    void for_each_parameter(F&& f) const {
        f("v_thresh", v_thresh), f("v_reset", v_reset), f("v", v), f("tau_mem", tau_mem), f("tau_refrac", tau_refrac);
    }
    void validate(std::string_view population) const {
        for_each_parameter([&](std::string_view n, float x) { detail::require_finite(population, n, x); });
        detail::require_positive(population, "tau_mem", tau_mem);
        detail::require_non_negative(population, "tau_refrac", tau_refrac);
    }
};

}  // namespace spikegraph
