#pragma once
#include <math.h>

#include <spikegraph/exp_polynomial.hpp>
#include <spikegraph/host_device.hpp>

namespace spikegraph {

// Spike timing inside a step, for EventProp (docs/event_prop.md).
//
// The grid dynamics are those of docs/dynamics.md. EventProp also needs spike
// times that move smoothly with the weights, so a spiking neuron's crossing
// is placed inside the step by linear interpolation of V between the start of
// the step (v_start) and the value that crossed (v_end), as in the
// interpolating grid simulators of Hanuschkin et al. 2010 (Front. Neuroinf.
// 4:113). Offset dt means "at the end of the step", which is exactly the
// inference model's spike.
struct SpikeCrossing {
    float offset = 0.0f;     // in (0, dt]; 0 when the step already started above threshold
    float d_v_start = 0.0f;  // d offset / d v_start
    float d_v_end = 0.0f;    // d offset / d v_end
};

SPIKEGRAPH_HOST_DEVICE inline SpikeCrossing interpolate_crossing(float v_start, float v_end, float threshold, float dt) {
    SpikeCrossing c;
    const float rise = v_end - v_start;
    if (!(v_start < threshold) || !(rise > 0.0f)) return c;
    const float inverse = 1.0f / rise;
    c.offset = dt * (threshold - v_start) * inverse;
    c.d_v_start = dt * (threshold - v_end) * inverse * inverse;
    c.d_v_end = -dt * (threshold - v_start) * inverse * inverse;
    return c;
}

// What a spike at offset u of a step delivers through an exponential synapse
// by the end of that step, with no delay (the current jumps by w at u): the
// current w exp(-(dt-u)/tau_syn) left in in_syn, and the voltage the target
// integrated over the rest of the step,
//   w k (exp(-r/tau_mem) - exp(-r/tau_syn)) / (alpha - beta),  r = dt - u,
// the exact solution of dV/dt = -V/tau_mem + c I, dI/dt = -I/tau_syn whose
// one-step propagator is the grid's V <- alpha V + k I (k = input_scale of the
// neuron times scale of the synapse). At u = dt this is (w, 0): the inference
// model's spike; at u = 0 it is (w beta, w k): one step later, so nothing jumps
// when a spike crosses a step boundary.
struct ExponentialArrival {
    float dt = 1.0f, k = 1.0f;
    float inverse_tau_syn = 0.2f, inverse_tau_mem = 0.05f;
    float voltage_scale = 0.0f;  // k / (alpha - beta), or k / dt exp(dt / tau) when the taus are equal
    bool equal_taus = false;

    // alpha = exp(-dt/tau_mem), beta = exp(-dt/tau_syn) as the grid uses them.
    static ExponentialArrival make(float dt, float tau_syn, float tau_mem, float k, float alpha, float beta) {
        ExponentialArrival a;
        a.dt = dt;
        a.k = k;
        a.inverse_tau_syn = 1.0f / tau_syn;
        a.inverse_tau_mem = 1.0f / tau_mem;
        a.equal_taus = fabsf(tau_mem - tau_syn) <= 1e-4f * tau_mem;
        a.voltage_scale = a.equal_taus ? k / dt * expf(dt / tau_mem) : k / (alpha - beta);
        return a;
    }

    struct Factors {
        float current, voltage;                  // per unit weight
        float d_current_d_u, d_voltage_d_u;      // their derivatives with respect to the offset u
    };

    SPIKEGRAPH_HOST_DEVICE Factors factors(float u) const {
        return equal_taus ? factors_with<true>(u) : factors_with<false>(u);
    }
    // factors() for a known equal_taus: a loop over many spikes that calls
    // this has no select on a flag in it and vectorises.
    template <bool EqualTaus>
    SPIKEGRAPH_HOST_DEVICE Factors factors_with(float u) const {
        const float r = dt - u;
        const float current = detail::exp_polynomial(-r * inverse_tau_syn);
        const float membrane = detail::exp_polynomial(-r * inverse_tau_mem);
        Factors f;
        f.current = current;
        f.d_current_d_u = current * inverse_tau_syn;
        if constexpr (EqualTaus) {
            // tau_mem == tau_syn: the limit k (r/dt) exp(-(r - dt)/tau)
            f.voltage = voltage_scale * r * membrane;
            f.d_voltage_d_u = -voltage_scale * membrane * (1.0f - r * inverse_tau_mem);
        } else {
            f.voltage = (membrane - current) * voltage_scale;
            f.d_voltage_d_u = (membrane * inverse_tau_mem - current * inverse_tau_syn) * voltage_scale;
        }
        return f;
    }
};

}  // namespace spikegraph
