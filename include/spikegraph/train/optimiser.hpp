#pragma once
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include <spikegraph/error.hpp>

namespace spikegraph {

// Adam (Kingma & Ba 2015) with mlGeNN's defaults and form
// (ml_genn/optimisers/adam.py): with step t counted from 1,
//   m = beta1 m + (1 - beta1) g,  v = beta2 v + (1 - beta2) g^2,
//   w -= lr (m / (1 - beta1^t)) / (sqrt(v / (1 - beta2^t)) + epsilon).
struct Adam {
    float lr = 0.001f;
    float beta1 = 0.9f;
    float beta2 = 0.999f;
    float epsilon = 1e-8f;
};

// Stochastic gradient descent with optional (heavy-ball) momentum:
//   velocity = momentum velocity + g,  w -= lr velocity.
struct SGD {
    float lr = 0.01f;
    float momentum = 0.0f;
};

using Optimiser = std::variant<Adam, SGD>;

// An optimiser's state for a list of parameter arrays (one per connection).
class OptimiserState {
public:
    OptimiserState() = default;
    OptimiserState(const Optimiser& optimiser, const std::vector<std::size_t>& sizes) : optimiser_(optimiser) {
        validate(optimiser);
        learning_rate_ = std::visit([](const auto& o) { return o.lr; }, optimiser);
        for (std::size_t n : sizes) {
            first_.emplace_back(n, 0.0f);
            if (std::holds_alternative<Adam>(optimiser)) second_.emplace_back(n, 0.0f);
        }
    }

    static void validate(const Optimiser& optimiser) {
        std::visit(
            [](const auto& o) {
                if (!(std::isfinite(o.lr) && o.lr >= 0.0f))
                    detail::throw_invalid("optimiser: lr must be finite and >= 0, got ", o.lr);
                if constexpr (std::is_same_v<std::decay_t<decltype(o)>, Adam>) {
                    if (!(o.beta1 >= 0.0f && o.beta1 < 1.0f)) detail::throw_invalid("Adam: beta1 must be in [0, 1), got ", o.beta1);
                    if (!(o.beta2 >= 0.0f && o.beta2 < 1.0f)) detail::throw_invalid("Adam: beta2 must be in [0, 1), got ", o.beta2);
                    if (!(o.epsilon > 0.0f)) detail::throw_invalid("Adam: epsilon must be > 0, got ", o.epsilon);
                } else {
                    if (!(o.momentum >= 0.0f && o.momentum < 1.0f))
                        detail::throw_invalid("SGD: momentum must be in [0, 1), got ", o.momentum);
                }
            },
            optimiser);
    }

    float learning_rate() const { return learning_rate_; }
    void set_learning_rate(float lr) {
        if (!(std::isfinite(lr) && lr >= 0.0f)) detail::throw_invalid("learning rate must be finite and >= 0, got ", lr);
        learning_rate_ = lr;
    }
    std::uint64_t steps() const { return steps_; }
    void set_steps(std::uint64_t steps) { steps_ = steps; }

    // Starts the next update (Adam's t += 1); then call update() (or
    // update_range() over the whole array) for each array.
    void begin_step() { ++steps_; }

    void update(std::size_t array, std::span<float> weights, std::span<const float> gradient) {
        update(array, weights, gradient, [](std::size_t blocks, auto&& block) {
            for (std::size_t b = 0; b < blocks; ++b) block(b);
        });
    }
    // The same, with the array cut into blocks that parallel_for(count, f)
    // runs, f(k) for every k < count, in any order and on any threads: each
    // weight's update is independent of the others, so the result is the same.
    template <class ParallelFor>
    void update(std::size_t array, std::span<float> weights, std::span<const float> gradient, ParallelFor&& parallel_for) {
        check_sizes(array, weights.size(), gradient.size());
        constexpr std::size_t block = 16384;
        const std::size_t n = weights.size();
        parallel_for((n + block - 1) / block, [&](std::size_t k) {
            update_range(array, weights, gradient, k * block, std::min(block, n - k * block));
        });
    }
    // Updates weights [first, first + count) of the array from the same range
    // of gradient, for a caller that produces the gradient block by block.
    void update_range(std::size_t array, std::span<float> weights, std::span<const float> gradient, std::size_t first,
                      std::size_t count) {
        check_sizes(array, weights.size(), gradient.size());
        if (first > weights.size() || count > weights.size() - first)
            detail::throw_invalid("optimiser: range [", first, ", ", first + count, ") of parameter array ", array,
                                  " is outside its ", weights.size(), " weights");
        float* w = weights.data() + first;
        const float* g = gradient.data() + first;
        float* m = first_[array].data() + first;
        if (const auto* adam = std::get_if<Adam>(&optimiser_)) {
            const double t = double(steps_ == 0 ? 1 : steps_);
            const AdamStep step{adam->beta1, adam->beta2, adam->epsilon, learning_rate_,
                                float(1.0 / (1.0 - std::pow(double(adam->beta1), t))),
                                float(1.0 / (1.0 - std::pow(double(adam->beta2), t)))};
            step.apply(w, g, m, second_[array].data() + first, count);
        } else {
            const float momentum = std::get<SGD>(optimiser_).momentum, lr = learning_rate_;
            for (std::size_t i = 0; i < count; ++i) {
                m[i] = momentum * m[i] + g[i];
                w[i] -= lr * m[i];
            }
        }
    }

    // The moments, for checkpoints: first (Adam's m / SGD's velocity) and second (Adam's v) per array.
    std::vector<std::vector<float>>& first_moments() { return first_; }
    std::vector<std::vector<float>>& second_moments() { return second_; }
    const std::vector<std::vector<float>>& first_moments() const { return first_; }
    const std::vector<std::vector<float>>& second_moments() const { return second_; }
    const Optimiser& optimiser() const { return optimiser_; }

private:
    void check_sizes(std::size_t array, std::size_t weights, std::size_t gradients) const {
        if (array >= first_.size())
            detail::throw_invalid("optimiser: no parameter array ", array, ", it has ", first_.size());
        if (weights != first_[array].size() || gradients != weights)
            detail::throw_invalid("optimiser: parameter array ", array, " has ", weights, " weights and ", gradients,
                                  " gradients, expected ", first_[array].size());
    }

    // One Adam update (Kingma & Ba 2015, with bias correction) of count weights.
    struct AdamStep {
        float beta1, beta2, epsilon, lr, correction1, correction2;
        void apply(float* w, const float* g, float* m, float* v, std::size_t count) const {
            for (std::size_t i = 0; i < count; ++i) {
                m[i] = beta1 * m[i] + (1.0f - beta1) * g[i];
                v[i] = beta2 * v[i] + (1.0f - beta2) * g[i] * g[i];
                w[i] -= lr * (m[i] * correction1) / (std::sqrt(v[i] * correction2) + epsilon);
            }
        }
    };

    Optimiser optimiser_{Adam{}};
    float learning_rate_ = 0.001f;
    std::uint64_t steps_ = 0;
    std::vector<std::vector<float>> first_, second_;
};

}  // namespace spikegraph
