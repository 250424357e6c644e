#pragma once
#include <cmath>
#include <math.h>
#include <concepts>
#include <limits>
#include <string_view>

#include <spikegraph/model/neuron.hpp>

namespace spikegraph {

// A readout turns a population's activity during an example into one number
// per neuron, as mlGeNN's readouts do. Each keeps one float accumulator per
// neuron; its Dynamics say how the accumulator starts, what happens after the
// neuron integrates (mlGeNN appends this to sim_code, so it sees V before the
// reset) and what happens when the neuron spikes (appended to reset_code).
//
// Readouts that use a variable take its name as a template argument; the empty
// default means the model's output variable (V for all built-in models).
template <class R>
concept Readout = requires { requires R::is_readout; };

namespace detail {

// What a readout reads: a state variable ("" = the model's output variable), or spikes.
template <FixedString Variable>
struct ReadsVariable {
    static constexpr bool is_readout = true;
    static constexpr bool uses_variable = true;
    static constexpr bool needs_spikes = false;
    static constexpr FixedString variable = Variable;
};
struct ReadsSpikes {
    static constexpr bool is_readout = true;
    static constexpr bool uses_variable = false;
    static constexpr bool needs_spikes = true;
    static constexpr FixedString variable = "";
};

// Default hooks of a readout's Dynamics: nothing on a step, nothing on a spike, result = accumulator.
struct ReadoutHooks {
    float initial = 0.0f;
    SPIKEGRAPH_HOST_DEVICE void accumulate(float&, float, int) const {}
    SPIKEGRAPH_HOST_DEVICE void spike(float&, int) const {}
    float result(float acc) const { return acc; }
};

}  // namespace detail

struct NoReadout {
    static constexpr bool is_readout = true;
    static constexpr bool uses_variable = false;
    static constexpr bool needs_spikes = false;
    static constexpr FixedString variable = "";
    using Dynamics = detail::ReadoutHooks;
    Dynamics dynamics(float, int) const { return {}; }
};

// The variable's value at the end of the example.
template <FixedString Variable = "">
struct Var : detail::ReadsVariable<Variable> {
    struct Dynamics : detail::ReadoutHooks {
        SPIKEGRAPH_HOST_DEVICE void accumulate(float& acc, float value, int) const { acc = value; }
    };
    Dynamics dynamics(float, int) const { return {}; }
};

// Sum of the variable over the example's timesteps.
template <FixedString Variable = "">
struct SumVar : detail::ReadsVariable<Variable> {
    struct Dynamics : detail::ReadoutHooks {
        SPIKEGRAPH_HOST_DEVICE void accumulate(float& acc, float value, int) const { acc += value; }
        // d result / d value of the step (gradient training)
        SPIKEGRAPH_HOST_DEVICE float value_weight(int) const { return 1.0f; }
    };
    Dynamics dynamics(float, int) const { return {}; }
};

// Mean of the variable over the example's timesteps.
template <FixedString Variable = "">
struct AvgVar : detail::ReadsVariable<Variable> {
    struct Dynamics : detail::ReadoutHooks {
        float inverse_timesteps = 1.0f;
        SPIKEGRAPH_HOST_DEVICE void accumulate(float& acc, float value, int) const { acc += value; }
        float result(float acc) const { return acc * inverse_timesteps; }
        SPIKEGRAPH_HOST_DEVICE float value_weight(int) const { return inverse_timesteps; }
    };
    Dynamics dynamics(float, int example_timesteps) const {
        Dynamics d;
        d.inverse_timesteps = 1.0f / float(example_timesteps);
        return d;
    }
};

// Exponentially weighted mean (Nowotny, Turner & Knight 2024), as mlGeNN's AvgVarExpWeight:
//   acc += exp(-t / (dt T)) (1/T) V,   t = step * dt the time at the step's start.
template <FixedString Variable = "">
struct AvgVarExpWeight : detail::ReadsVariable<Variable> {
    struct Dynamics : detail::ReadoutHooks {
        float inverse_timesteps = 1.0f;  // 1/T; t/(dt T) = step/T
        int weighted_step = -1;          // the step whose weight at_step() computed
        float step_weight = 0.0f;
        SPIKEGRAPH_HOST_DEVICE void accumulate(float& acc, float value, int step) const {
            acc += value_weight(step) * value;
        }
        SPIKEGRAPH_HOST_DEVICE float value_weight(int step) const {
            return step == weighted_step ? step_weight : expf(-float(step) * inverse_timesteps) * inverse_timesteps;
        }
        // These dynamics with step's weight computed once, for a loop over
        // a population's neurons in that step (an exponential per neuron
        // and step was a tenth of the CPU EventProp forward pass).
        SPIKEGRAPH_HOST_DEVICE Dynamics at_step(int step) const {
            Dynamics d = *this;
            d.step_weight = value_weight(step);
            d.weighted_step = step;
            return d;
        }
    };
    Dynamics dynamics(float, int example_timesteps) const {
        Dynamics d;
        d.inverse_timesteps = 1.0f / float(example_timesteps);
        return d;
    }
};

// Maximum of the variable over the example (starting from 0, as mlGeNN's MaxVar).
template <FixedString Variable = "">
struct MaxVar : detail::ReadsVariable<Variable> {
    struct Dynamics : detail::ReadoutHooks {
        SPIKEGRAPH_HOST_DEVICE void accumulate(float& acc, float value, int) const {
            acc = value > acc ? value : acc;
        }
    };
    Dynamics dynamics(float, int) const { return {}; }
};

// Number of spikes in the example.
struct SpikeCount : detail::ReadsSpikes {
    struct Dynamics : detail::ReadoutHooks {
        SPIKEGRAPH_HOST_DEVICE void spike(float& acc, int) const { acc += 1.0f; }
    };
    Dynamics dynamics(float, int) const { return {}; }
};

// Time of the first spike, negated so that the largest output is the earliest
// neuron and argmax/cross-entropy apply unchanged (mlGeNN's FirstSpikeTime);
// the lowest float when the neuron never fired.
struct FirstSpikeTime : detail::ReadsSpikes {
    struct Dynamics : detail::ReadoutHooks {
        float dt = 1.0f;
        SPIKEGRAPH_HOST_DEVICE void spike(float& acc, int step) const {
            const float negative_time = -float(step) * dt;
            if (negative_time > acc) acc = negative_time;
        }
    };
    Dynamics dynamics(float dt, int) const {
        Dynamics d;
        d.initial = std::numeric_limits<float>::lowest();
        d.dt = dt;
        return d;
    }
};

// The variable a readout reads on model M ("" resolves to M's output variable).
template <class M, class R>
inline constexpr std::string_view readout_variable = name_view<(R::variable.empty() ? M::output_variable : R::variable)>;

// Index of that variable in M's state, or -1.
template <class M, class R>
inline constexpr int readout_variable_index = R::uses_variable ? M::Variables::index_of(readout_variable<M, R>) : -1;

// A readout's dynamics for the neurons of one step: with what depends on the
// step alone computed once (Dynamics::at_step), or unchanged where nothing does.
template <class Dynamics>
SPIKEGRAPH_HOST_DEVICE Dynamics readout_at_step(const Dynamics& dynamics, int step) {
    if constexpr (requires(const Dynamics& d) { d.at_step(0); }) return dynamics.at_step(step);
    else return dynamics;
}

}  // namespace spikegraph
