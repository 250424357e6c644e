#pragma once
#include <cmath>
#include <concepts>
#include <cstddef>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include <spikegraph/error.hpp>
#include <spikegraph/parameter_checks.hpp>
#include <spikegraph/philox.hpp>

namespace spikegraph {

// An initialiser fills a connection's weights (in the connection's storage
// order) from a random stream; names and defaults follow mlGeNN's initializers.
template <class I>
concept Initialiser = requires(const I& init, std::span<float> out, detail::PhiloxStream& rng) {
    init.fill(out, rng, std::string_view{});
    requires I::is_initialiser;
};

struct Constant {
    float value = 0.0f;
    static constexpr bool is_initialiser = true;
    void fill(std::span<float> out, detail::PhiloxStream&, std::string_view where) const {
        detail::require_finite(where, "Constant.value", value, "connection");
        for (float& w : out) w = value;
    }
};

struct Normal {
    float mean = 0.0f;
    float sd = 1.0f;
    static constexpr bool is_initialiser = true;
    void fill(std::span<float> out, detail::PhiloxStream& rng, std::string_view where) const {
        detail::require_finite(where, "Normal.mean", mean, "connection");
        detail::require_non_negative(where, "Normal.sd", sd, "connection");
        for (float& w : out) w = mean + sd * rng.next_normal();
    }
};

struct Uniform {
    float min = 0.0f;
    float max = 1.0f;
    static constexpr bool is_initialiser = true;
    void fill(std::span<float> out, detail::PhiloxStream& rng, std::string_view where) const {
        detail::require_finite(where, "Uniform.min", min, "connection");
        detail::require_finite(where, "Uniform.max", max, "connection");
        if (max < min) detail::throw_invalid("connection '", where, "': Uniform needs min <= max, got min=", min, " max=", max);
        // next_uniform is in (0, 1]; 1 - u is in [0, 1), giving [min, max).
        for (float& w : out) w = min + (max - min) * (1.0f - rng.next_uniform());
    }
};

// Values given by the user, in the connection's storage order (dense: [pre][post]
// row-major as mlGeNN's Dense weights; sparse: one per synapse in CSR order).
struct FromArray {
    std::shared_ptr<const std::vector<float>> values;
    static constexpr bool is_initialiser = true;

    FromArray() = default;
    explicit FromArray(std::vector<float> v) : values(std::make_shared<const std::vector<float>>(std::move(v))) {}

    void fill(std::span<float> out, detail::PhiloxStream&, std::string_view where) const {
        const std::size_t got = values ? values->size() : 0;
        if (got != out.size())
            detail::throw_invalid("connection '", where, "': FromArray has ", got, " values, expected ", out.size());
        for (std::size_t i = 0; i < out.size(); ++i) {
            if (!std::isfinite((*values)[i]))
                detail::throw_invalid("connection '", where, "': FromArray value ", i, " is not finite (", (*values)[i], ")");
            out[i] = (*values)[i];
        }
    }
};

}  // namespace spikegraph
