#pragma once
// e-prop's per-neuron pieces (Bellec et al. 2020; mlGeNN's EPropCompiler),
// written once for every backend: the forward step with the pseudo-derivative
// and the running firing rate, the reverse-time filter of a hidden neuron's
// learning signal, and the output error of one example. The CPU and CUDA
// e-prop simulators call these, so neither writes the rule twice.
#include <array>
#include <cstddef>
#include <variant>

#include <spikegraph/host_device.hpp>
#include <spikegraph/model/neuron.hpp>
#include <spikegraph/model/readout.hpp>
#include <spikegraph/train/loss.hpp>

namespace spikegraph {

template <class Model, class ReadoutType>
struct EPropNeuron {
    static constexpr int readout_variable = readout_variable_index<Model, ReadoutType>;

    // One step of one neuron in GeNN's order (integrate, readout, threshold,
    // reset). history receives psi, the pseudo-derivative at the threshold
    // test (hidden), or V (the LI output); a hidden neuron's running rate
    // (spikes per step; < 0: not started, then target) moves towards its
    // spikes with rate_decay, and rate_drive = c_reg (rate - target).
    SPIKEGRAPH_HOST_DEVICE SPIKEGRAPH_INLINE static bool forward(const typename Model::Dynamics& dynamics,
                                                                 const typename ReadoutType::Dynamics& readout_dynamics,
                                                                 NeuronState<Model>& state, float isyn, float& readout, int step,
                                                                 float& rate, float rate_decay, float target, float c_reg,
                                                                 float& history, float& rate_drive) {
        dynamics.integrate(state, isyn);
        if constexpr (readout_variable >= 0) readout_dynamics.accumulate(readout, state[readout_variable], step);
        if constexpr (is_spiking_model<Model>) {
            history = dynamics.pseudo_derivative(state);
            const bool fired = dynamics.threshold(state);
            if (fired) {
                dynamics.reset(state);
                readout_dynamics.spike(readout, step);
            }
            if (rate < 0.0f) rate = target;
            rate = rate_decay * rate + (1.0f - rate_decay) * (fired ? 1.0f : 0.0f);
            rate_drive = c_reg * (rate - target);
            return fired;
        } else {
            history = state[Model::V];
            return false;
        }
    }
};

// For one hidden neuron j over an example, what a presynaptic spike in step s
// adds to dL/dw_ji (docs/eprop.md): with its learning signal L(t) at
// signal[t * signal_stride], psi(t) and the regulariser's drive at index
// t * stride,
//   M(s) = sum_{t>s} kappa^(t-1-s) L(t) + drive(s);
//   q(s) = psi(s) (M(s) - beta R(s)), R(s) = P(s+1) + (rho - psi(s+1) beta) R(s+1), P = M psi;
//   filtered(s) = scale sum_{u>s} alpha^(u-1-s) q(u),
// written at filtered[s * stride]. beta = rho = 0 for LIF.
SPIKEGRAPH_HOST_DEVICE inline void eprop_filter_signal(const float* signal, std::size_t signal_stride, const float* psi,
                                                       const float* drive, std::size_t stride, std::size_t steps, float kappa, float alpha,
                                                       float scale, float beta, float rho, float* filtered) {
    float learning = 0.0f, adaptation = 0.0f, next_p = 0.0f, next_psi = 0.0f, presynaptic = 0.0f;
    for (std::size_t s = steps; s-- > 0;) {
        if (s + 1 < steps) learning = signal[(s + 1) * signal_stride] + kappa * learning;
        adaptation = next_p + (rho - next_psi * beta) * adaptation;
        if (s + 1 == steps) adaptation = 0.0f;
        const float m = learning + drive[s * stride];
        const float p = psi[s * stride];
        const float q = p * (m - beta * adaptation);
        filtered[s * stride] = presynaptic;  // sum over u > s
        presynaptic = scale * q + alpha * presynaptic;
        next_p = m * p;
        next_psi = p;
    }
}

// E_k(t) = dL/dV_k(t) of one example's per-step loss (the mean over steps of
// cross-entropy of softmax(V(t)), or of the squared error to the one-hot
// label), divided by batch (the gradient of the batch mean); v and error are
// [step][output]. Returns the example's loss.
template <std::size_t Outputs>
double eprop_output_errors(const Loss& loss, const float* v, std::size_t steps, std::size_t label, std::size_t batch,
                           float* error) {
    const double scale = 1.0 / (double(steps) * double(batch));
    const bool squared = std::holds_alternative<MeanSquareError>(loss);
    double total = 0.0;
    std::array<double, Outputs> p{};
    for (std::size_t t = 0; t < steps; ++t) {
        const float* row = v + t * Outputs;
        float* e = error + t * Outputs;
        if (squared) {
            for (std::size_t k = 0; k < Outputs; ++k) {
                const double diff = double(row[k]) - (k == label ? 1.0 : 0.0);
                total += diff * diff / double(Outputs);
                e[k] = float(2.0 * diff / double(Outputs) * scale);
            }
        } else {
            for (std::size_t k = 0; k < Outputs; ++k) p[k] = row[k];
            const double log_normaliser = detail::softmax_in_place(p);
            total += log_normaliser - double(row[label]);
            for (std::size_t k = 0; k < Outputs; ++k) e[k] = float((p[k] - (k == label ? 1.0 : 0.0)) * scale);
        }
    }
    return total / double(steps);
}

// The reverse-filtered output error of one example, what a presynaptic spike
// in step s adds to dL/dw through V_k: tilde[s][k] = scale sum_{t>s}
// kappa^(t-1-s) E_k(t) (error and tilde [step][output]).
inline void eprop_filter_errors(const float* error, std::size_t steps, std::size_t outputs, float kappa, float scale,
                                float* tilde) {
    for (std::size_t k = 0; k < outputs; ++k) tilde[(steps - 1) * outputs + k] = 0.0f;
    for (std::size_t s = steps - 1; s-- > 0;)
        for (std::size_t k = 0; k < outputs; ++k)
            tilde[s * outputs + k] = scale * error[(s + 1) * outputs + k] + kappa * tilde[(s + 1) * outputs + k];
}

// dL/db_k of a per-neuron output bias over one example (error
// [step][output]), added to gradient[k]. The bias enters V_k at every step u
// and decays with kappa, so dL/db_k = sum_u sum_{t>=u} kappa^(t-u) E_k(t): the
// exact gradient of the per-step loss, as the output weights' (mlGeNN's
// e-prop adds E_k(t) alone, which drops the leak's factor).
inline void eprop_bias_gradient(const float* error, std::size_t steps, std::size_t outputs, float kappa, float* gradient) {
    for (std::size_t k = 0; k < outputs; ++k) {
        float filtered = 0.0f, sum = 0.0f;
        for (std::size_t t = steps; t-- > 0;) {
            filtered = error[t * outputs + k] + kappa * filtered;
            sum += filtered;
        }
        gradient[k] += sum;
    }
}

}  // namespace spikegraph
