#pragma once
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <variant>

#include <spikegraph/error.hpp>

namespace spikegraph {

// Losses of the training compilers, by mlGeNN's names. Each is a function of
// the output population's readouts y (one per neuron) and the example's
// label; the reported loss is the mean over examples, and the gradient given
// to the backward pass is that of the mean, so gradients summed over a batch
// are its mean gradient (mlGeNN divides every drive by the batch size too).

// -log softmax(y)[label] on a variable readout (SumVar, AvgVar, AvgVarExpWeight,
// MaxVar, Var). On a FirstSpikeTime readout it is the time-to-first-spike loss
// of mlGeNN's EventPropCompiler (Nowotny, Turner & Knight 2024; Goeltz et al. 2021):
//   -log softmax(-t / softmax_temperature)[label] + ttfs_alpha / (1.01 T - t_label)
// with T the example's duration; a neuron that never fires counts as firing at T.
struct SparseCategoricalCrossentropy {
    static constexpr const char* name = "sparse_categorical_crossentropy";
};

// Mean over outputs of (y - onehot(label))^2 (Keras's MeanSquaredError on one-hot targets).
struct MeanSquareError {
    static constexpr const char* name = "mean_square_error";
};

using Loss = std::variant<SparseCategoricalCrossentropy, MeanSquareError>;

inline std::string loss_name(const Loss& loss) {
    return std::visit([](const auto& l) { return std::string(l.name); }, loss);
}

// What the loss needs to know about the readout it is applied to.
struct LossContext {
    bool first_spike_time = false;     // the readout is FirstSpikeTime (y = -t, lowest float when silent)
    float example_time = 0.0f;         // T = example_timesteps * dt, ms
    float softmax_temperature = 1.0f;  // first-spike-time loss only
    float ttfs_alpha = 0.01f;          // first-spike-time loss only
};

namespace detail {

inline bool silent(float y) { return y <= -0.5f * std::numeric_limits<float>::max(); }

// Softmax of z (in place) and log of its normaliser, stable for any range.
inline double softmax_in_place(std::span<double> z) {
    double top = -std::numeric_limits<double>::infinity();
    for (double v : z) top = std::max(top, v);
    double sum = 0.0;
    for (double& v : z) sum += (v = std::exp(v - top));
    for (double& v : z) v /= sum;
    return top + std::log(sum);
}

}  // namespace detail

// Loss of `lanes` examples, readouts y ([lane][output]) and labels; writes
// d(mean loss over batch_size examples)/dy to gradient and returns the sum of
// the per-example losses. For a silent first-spike-time output the gradient
// entry is instead dL/dV at the last step (the label neuron is pushed to fire
// as if its spike at T were to move earlier, as mlGeNN's "phantom" spike does).
inline double loss_and_gradient(const Loss& loss, const LossContext& context, std::span<const float> y,
                                std::size_t num_outputs, std::span<const std::int32_t> labels, std::size_t batch_size,
                                std::span<float> gradient) {
    const std::size_t lanes = labels.size();
    if (y.size() != lanes * num_outputs || gradient.size() != y.size())
        detail::throw_invalid("loss: got ", y.size(), " readouts and ", gradient.size(), " gradient slots for ", lanes,
                              " examples of ", num_outputs, " outputs");
    const double inverse_batch = 1.0 / double(batch_size);
    double total = 0.0;
    std::vector<double> z(num_outputs);
    for (std::size_t e = 0; e < lanes; ++e) {
        const std::span<const float> row = y.subspan(e * num_outputs, num_outputs);
        const std::span<float> grad = gradient.subspan(e * num_outputs, num_outputs);
        const auto label = std::size_t(labels[e]);
        if (std::holds_alternative<MeanSquareError>(loss)) {
            if (context.first_spike_time)
                detail::throw_invalid("loss mean_square_error: needs a variable readout, not FirstSpikeTime");
            for (std::size_t k = 0; k < num_outputs; ++k) {
                const double diff = double(row[k]) - (k == label ? 1.0 : 0.0);
                total += diff * diff / double(num_outputs);
                grad[k] = float(2.0 * diff / double(num_outputs) * inverse_batch);
            }
        } else if (!context.first_spike_time) {
            for (std::size_t k = 0; k < num_outputs; ++k) z[k] = row[k];
            const double log_normaliser = detail::softmax_in_place(z);
            total += log_normaliser - double(row[label]);
            for (std::size_t k = 0; k < num_outputs; ++k)
                grad[k] = float((z[k] - (k == label ? 1.0 : 0.0)) * inverse_batch);
        } else {
            const double temperature = context.softmax_temperature, time = context.example_time;
            auto spike_time = [&](std::size_t k) { return detail::silent(row[k]) ? time : -double(row[k]); };
            for (std::size_t k = 0; k < num_outputs; ++k) z[k] = -spike_time(k) / temperature;
            const double z_label = z[label];
            const double log_normaliser = detail::softmax_in_place(z);
            const double t_label = spike_time(label);
            const double margin = 1.01 * time - t_label;
            total += log_normaliser - z_label + context.ttfs_alpha / margin;
            for (std::size_t k = 0; k < num_outputs; ++k) {
                // dl/dt_k = (onehot - p) / temperature, plus the label's alpha / margin^2
                double d_time = ((k == label ? 1.0 : 0.0) - z[k]) / temperature;
                if (k == label) d_time += context.ttfs_alpha / (margin * margin);
                if (!detail::silent(row[k])) grad[k] = float(-d_time * inverse_batch);  // y = -t
                else grad[k] = k == label ? float(-d_time * inverse_batch) : 0.0f;      // dL/dV: fire earlier
            }
        }
    }
    return total;
}

}  // namespace spikegraph
