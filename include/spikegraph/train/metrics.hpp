#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <spikegraph/error.hpp>

namespace spikegraph {

// Metric results by name, e.g. {"sparse_categorical_accuracy": 0.93}.
using Metrics = std::map<std::string, double>;

// A metric accumulates over batches of readouts ([lane][output], row-major)
// and their labels, then reports one number.
class Metric {
public:
    virtual ~Metric() = default;
    virtual std::string name() const = 0;
    virtual void reset() = 0;
    virtual void update(std::span<const float> outputs, std::size_t num_outputs, std::span<const std::int32_t> labels) = 0;
    virtual double result() const = 0;
};

// Index of the largest output of one example (first one on ties).
inline std::size_t argmax(std::span<const float> row) {
    std::size_t best = 0;
    for (std::size_t i = 1; i < row.size(); ++i)
        if (row[i] > row[best]) best = i;
    return best;
}

// Fraction of examples whose largest output is the label (Keras/mlGeNN's SparseCategoricalAccuracy).
class SparseCategoricalAccuracy final : public Metric {
public:
    std::string name() const override { return "sparse_categorical_accuracy"; }
    void reset() override { correct_ = total_ = 0; }
    void update(std::span<const float> outputs, std::size_t n, std::span<const std::int32_t> labels) override {
        for (std::size_t e = 0; e < labels.size(); ++e) {
            correct_ += argmax(outputs.subspan(e * n, n)) == std::size_t(labels[e]);
            ++total_;
        }
    }
    double result() const override { return total_ == 0 ? 0.0 : double(correct_) / double(total_); }

private:
    std::size_t correct_ = 0, total_ = 0;
};

// Mean over examples and outputs of (output - onehot(label))^2.
class MeanSquareErrorMetric final : public Metric {
public:
    std::string name() const override { return "mean_square_error"; }
    void reset() override { sum_ = 0.0, count_ = 0; }
    void update(std::span<const float> outputs, std::size_t n, std::span<const std::int32_t> labels) override {
        for (std::size_t e = 0; e < labels.size(); ++e)
            for (std::size_t i = 0; i < n; ++i) {
                const double target = i == std::size_t(labels[e]) ? 1.0 : 0.0;
                const double diff = double(outputs[e * n + i]) - target;
                sum_ += diff * diff;
                ++count_;
            }
    }
    double result() const override { return count_ == 0 ? 0.0 : sum_ / double(count_); }

private:
    double sum_ = 0.0;
    std::size_t count_ = 0;
};

// Metrics by the names Keras and mlGeNN use.
inline std::unique_ptr<Metric> make_metric(const std::string& name) {
    if (name == "sparse_categorical_accuracy" || name == "accuracy")
        return std::make_unique<SparseCategoricalAccuracy>();
    if (name == "mean_square_error" || name == "mse") return std::make_unique<MeanSquareErrorMetric>();
    detail::throw_invalid("unknown metric '", name,
                          "'; known metrics: sparse_categorical_accuracy (accuracy), mean_square_error (mse)");
}

}  // namespace spikegraph
