#pragma once
#include <concepts>
#include <string_view>

#include <spikegraph/model/neuron.hpp>

namespace spikegraph {

// A synapse (postsynaptic) model turns the per-connection input buffer in_syn,
// into which spikes add their weights, into current for the target neurons.
// Each step, before the neurons integrate, inject(in_syn) returns the current
// and leaves in_syn as it must be for the next step (GeNN's postsynaptic sim_code).
template <class S>
concept SynapseModel = requires(const S& s, float dt) {
    typename S::Dynamics;
    { s.dynamics(dt) } -> std::same_as<typename S::Dynamics>;
    requires S::is_synapse_model;
};

// Delta synapse, as mlGeNN's Delta: the whole input reaches the neuron in the
// next step and in_syn is cleared.
struct Delta {
    static constexpr std::string_view type_name = "Delta";  // stable, for manifests and messages
    static constexpr bool is_synapse_model = true;
    struct Dynamics {
        SPIKEGRAPH_HOST_DEVICE float inject(float& in_syn) const {
            const float current = in_syn;
            in_syn = 0.0f;
            return current;
        }
    };
    Dynamics dynamics(float) const { return {}; }
    void validate(std::string_view) const {}
};

// Exponential current synapse, as mlGeNN's Exponential:
//   I = in_syn * s, then in_syn *= exp(-dt/tau);  s = 1, or (tau/dt)(1 - exp(-dt/tau)) with scale_i.
struct Exponential {
    static constexpr std::string_view type_name = "Exponential";  // stable, for manifests and messages
    float tau = 5.0f;
    bool scale_i = false;

    static constexpr bool is_synapse_model = true;
    struct Dynamics {
        float decay, scale;
        SPIKEGRAPH_HOST_DEVICE float inject(float& in_syn) const {
            const float current = in_syn * scale;
            in_syn *= decay;
            return current;
        }
    };
    Dynamics dynamics(float dt) const {
        const float decay = detail::decay_factor(dt, tau);
        const float scale = scale_i ? static_cast<float>((double(tau) / dt) * (1.0 - std::exp(-double(dt) / tau))) : 1.0f;
        return {decay, scale};
    }
    void validate(std::string_view connection) const {
        if (!(std::isfinite(tau) && tau > 0.0f))
            detail::throw_invalid("connection '", connection, "': Exponential tau must be finite and > 0, got ", tau);
    }
};

}  // namespace spikegraph
