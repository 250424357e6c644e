#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace spikegraph {

// The activity regularisers of the training compilers, with mlGeNN's names and defaults.

// Spike-count regularisation of EventProp, as mlGeNN's EventPropCompiler
// (reg_lambda_upper/lower, reg_nu_upper): at each spike of a hidden neuron
// whose spike count, averaged over the batch, is N, dL/dV gains
// lambda (N - nu_upper) / batch, with lambda_upper when N > nu_upper and
// lambda_lower otherwise. A heuristic (mlGeNN's comment says so): it is not
// part of the loss, and 0 (the default) turns it off.
struct SpikeRegularisation {
    float lambda_upper = 0.0f;
    float lambda_lower = 0.0f;
    float nu_upper = 0.0f;  // spikes per neuron per example

    bool active() const { return lambda_upper != 0.0f || lambda_lower != 0.0f; }
    float drive(float mean_count, std::size_t batch) const {
        const float excess = mean_count - nu_upper;
        return (excess > 0.0f ? lambda_upper : lambda_lower) * excess / float(batch);
    }
    // Each neuron's drive from its spike counts in a batch ([lane][neuron]).
    std::vector<float> drives(const std::uint32_t* counts, std::size_t lanes, std::size_t neurons) const {
        std::vector<float> result(neurons, 0.0f);
        if (!active() || lanes == 0) return result;
        for (std::size_t lane = 0; lane < lanes; ++lane)
            for (std::size_t i = 0; i < neurons; ++i) result[i] += float(counts[lane * neurons + i]);
        for (auto& d : result) d = drive(d / float(lanes), lanes);
        return result;
    }
};

// e-prop's firing-rate regularisation, mlGeNN's EPropCompiler names and defaults.
struct RateRegularisation {
    float tau_reg = 500.0f;   // ms, time constant of each neuron's running rate
    float c_reg = 0.001f;     // strength; 0 turns it off
    float f_target = 10.0f;   // Hz
};

}  // namespace spikegraph
