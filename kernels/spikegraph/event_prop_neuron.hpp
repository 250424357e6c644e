#pragma once
// One neuron's step of EventProp (Wunderlich & Pehle 2021), forward and
// reverse, written once for every backend: the CPU EventProp simulator and the
// CUDA one call these functions per neuron, so neither pass is written twice.
#include <cstdint>
#include <type_traits>

#include <spikegraph/error.hpp>
#include <spikegraph/host_device.hpp>
#include <spikegraph/model/leaky_integrate_fire.hpp>
#include <spikegraph/model/neuron.hpp>
#include <spikegraph/model/precise_timing.hpp>
#include <spikegraph/model/readout.hpp>

namespace spikegraph {

// What EventProp keeps of one spike: 16 bytes.
struct EventPropSpikeRecord {
    std::uint32_t id;
    float offset;     // time of the spike inside its step, (0, dt]
    float d_v_start;  // d offset / d V at the start of the step
    float d_v_end;    // d offset / d V when it crossed
};

template <class Model, class ReadoutType>
struct EventPropNeuron {
    using Dynamics = typename Model::Dynamics;
    using ReadoutDynamics = typename ReadoutType::Dynamics;
    static constexpr int readout_variable = readout_variable_index<Model, ReadoutType>;
    static constexpr bool is_max = std::is_same_v<ReadoutType, MaxVar<ReadoutType::variable>>;
    static constexpr bool is_last = std::is_same_v<ReadoutType, Var<ReadoutType::variable>>;
    static constexpr bool is_first_spike_time = std::is_same_v<ReadoutType, FirstSpikeTime>;

    // EventProp's adjoint has no term for a refractory period, so it must be 0.
    template <class Name>
    static void validate(const Model& neuron, const Name& population) {
        if constexpr (std::is_same_v<Model, LeakyIntegrateFire>)
            if (neuron.tau_refrac != 0.0f)
                detail::throw_invalid("population '", population, "': EventProp needs tau_refrac = 0 (no refractory period), got ",
                                      neuron.tau_refrac);
    }

    // The grid step of docs/dynamics.md with the spike placed inside the step
    // (model/precise_timing.hpp). readout_step is the step of the maximum
    // (MaxVar) or of the first spike (FirstSpikeTime), -1 before either.
    // Returns whether the neuron fired, with its crossing in *record.
    SPIKEGRAPH_HOST_DEVICE SPIKEGRAPH_INLINE static bool forward(const Dynamics& dynamics, const ReadoutDynamics& readout_dynamics,
                                                                 NeuronState<Model>& state, float isyn, float& readout,
                                                                 std::int32_t& readout_step, int step, float dt,
                                                                 EventPropSpikeRecord& record) {
        const float v_start = state[Model::V];
        if (!integrate(dynamics, readout_dynamics, state, isyn, readout, readout_step, step)) return false;
        fire(dynamics, readout_dynamics, state, v_start, readout, readout_step, step, dt, record);
        return true;
    }

    // forward() in two parts, so that a backend can run the first, branch-free
    // part over every neuron (vectorised) and the second only for the few that
    // crossed: integrate and accumulate the readout, and say whether V crossed
    // the threshold ...
    SPIKEGRAPH_HOST_DEVICE SPIKEGRAPH_INLINE static bool integrate(const Dynamics& dynamics,
                                                                   const ReadoutDynamics& readout_dynamics,
                                                                   NeuronState<Model>& state, float isyn, float& readout,
                                                                   std::int32_t& readout_step, int step) {
        dynamics.integrate(state, isyn);
        if constexpr (readout_variable >= 0) {
            const float before = readout;
            readout_dynamics.accumulate(readout, state[readout_variable], step);
            if constexpr (is_max) readout_step = readout != before ? step : readout_step;
        }
        if constexpr (is_spiking_model<Model>) return dynamics.threshold(state);
        else return false;
    }
    // ... then, for a neuron that crossed (V was v_start at the start of the
    // step), place the spike inside the step, reset, and update the readout.
    SPIKEGRAPH_HOST_DEVICE SPIKEGRAPH_INLINE static void fire(const Dynamics& dynamics, const ReadoutDynamics& readout_dynamics,
                                                              NeuronState<Model>& state, float v_start, float& readout,
                                                              std::int32_t& readout_step, int step, float dt,
                                                              EventPropSpikeRecord& record) {
        if constexpr (is_spiking_model<Model>) {
            const SpikeCrossing crossing = interpolate_crossing(v_start, state[Model::V], dynamics.v_thresh, dt);
            dynamics.precise_reset(state, crossing.offset);
            if constexpr (is_first_spike_time) {
                if (readout_step < 0) {
                    readout_step = step;
                    readout = -(float(step) * dt + crossing.offset);
                }
            } else {
                readout_dynamics.spike(readout, step);
            }
            record = {0u, crossing.offset, crossing.d_v_start, crossing.d_v_end};
        }
    }

    // dL/d(V after integration) of the step from the output's readout, for
    // the output population (output_gradient = dL/dy of this neuron).
    SPIKEGRAPH_HOST_DEVICE SPIKEGRAPH_INLINE static float readout_term(const ReadoutDynamics& readout_dynamics,
                                                                       float lambda_v, float output_gradient,
                                                                       std::int32_t readout_step, int step, int steps) {
        float v_bar = lambda_v;
        if constexpr (readout_variable >= 0) {
            if constexpr (is_max) v_bar = lambda_v + (readout_step == step ? output_gradient : 0.0f);
            else if constexpr (is_last) v_bar = lambda_v + output_gradient * (step == steps - 1 ? 1.0f : 0.0f);
            else if constexpr (requires { readout_dynamics.value_weight(step); })
                v_bar = lambda_v + output_gradient * readout_dynamics.value_weight(step);
        }
        // A first-spike-time output that never fired gets its gradient as
        // dL/dV at the last step (the loss's push towards firing, train/loss.hpp).
        if constexpr (is_first_spike_time)
            if (step == steps - 1 && readout_step < 0) v_bar += output_gradient;
        return v_bar;
    }

    // Adjoint of forward() for one step, given v_bar = dL/d(V after
    // integration) from readout_term (or lambda_v for a hidden population).
    // lambda_v holds the adjoint of V after this step on entry and of V at its
    // start on return. For a neuron that fired in this step, `spike` is its
    // record, u_bar the dL/d(offset) its targets sent back, drive the
    // regulariser's dL/dV per spike, and a first-spike-time output's loss
    // (y = -t) enters through output_gradient. Returns the final v_bar, which
    // drives the adjoints of the synapses into this neuron.
    SPIKEGRAPH_HOST_DEVICE SPIKEGRAPH_INLINE static float reverse(const Dynamics& dynamics, float& lambda_v, float v_bar,
                                                                  const EventPropSpikeRecord* spike, float u_bar,
                                                                  float drive, bool first_spike_of_output,
                                                                  float output_gradient) {
        if constexpr (is_spiking_model<Model>)
            if (spike != nullptr)
                return reverse_fired(dynamics, lambda_v, v_bar, *spike, reset_slope(dynamics, spike->offset), u_bar, drive,
                                     first_spike_of_output, output_gradient);
        lambda_v = dynamics.alpha * v_bar;
        return v_bar;
    }

    // d(V after the reset)/d(offset) for a spike at offset: the part of
    // reverse() that depends on the spike's record alone (an exponential and
    // two divisions), so that a backend can compute it for all of a step's
    // spikes in one vector loop and pass it to reverse_fired().
    SPIKEGRAPH_HOST_DEVICE SPIKEGRAPH_INLINE static float reset_slope([[maybe_unused]] const Dynamics& dynamics,
                                                                      [[maybe_unused]] float offset) {
        if constexpr (is_spiking_model<Model>) return dynamics.d_precise_reset_d_offset(offset);
        else return 0.0f;
    }

    // reverse() for a neuron that fired in the step, with its reset_slope().
    SPIKEGRAPH_HOST_DEVICE SPIKEGRAPH_INLINE static float reverse_fired(const Dynamics& dynamics, float& lambda_v, float v_bar,
                                                                        const EventPropSpikeRecord& spike, float reset_slope,
                                                                        float u_bar, float drive, bool first_spike_of_output,
                                                                        float output_gradient) {
        // The offset moves the targets (u_bar), the reset, the first-spike-time
        // loss and the regulariser; it depends on V at the start of the step
        // and on the V that crossed.
        float du = u_bar + reset_slope * lambda_v;
        if (first_spike_of_output) du -= output_gradient;
        v_bar += du * spike.d_v_end + drive;
        lambda_v = dynamics.alpha * v_bar + du * spike.d_v_start;
        return v_bar;
    }
};

// What a spike through connection C of a network delivers by the end of its
// step (model/precise_timing.hpp), from the synapse and its target's constants.
template <std::size_t C, class Net>
ExponentialArrival connection_arrival(const Net& net, float dt) {
    const auto& connection = net.template connection<C>();
    const auto synapse = connection.synapse.dynamics(dt);
    const auto& post = net.template population<std::size_t(Net::connection_post[C])>().neuron;
    const auto post_dynamics = post.dynamics(dt);
    return ExponentialArrival::make(dt, connection.synapse.tau, post.tau_mem, post_dynamics.input_scale * synapse.scale,
                                    post_dynamics.alpha, synapse.decay);
}

}  // namespace spikegraph
