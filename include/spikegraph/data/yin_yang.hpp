#pragma once
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include <spikegraph/error.hpp>

namespace spikegraph::datasets {

namespace detail {

// MT19937 with numpy's legacy RandomState draws, so that yin_yang(size, seed)
// reproduces the reference Python generator (numpy.random.seed(seed)) bit for bit.
class NumpyRandomState {
public:
    explicit NumpyRandomState(std::uint32_t seed) {
        // init_genrand, as RandomState(seed) for an integer seed.
        state_[0] = seed;
        for (std::uint32_t i = 1; i < n; ++i)
            state_[i] = 1812433253u * (state_[i - 1] ^ (state_[i - 1] >> 30)) + i;
        index_ = n;
    }

    std::uint32_t next_uint32() {
        if (index_ >= n) twist();
        std::uint32_t y = state_[index_++];
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c5680u;
        y ^= (y << 15) & 0xefc60000u;
        y ^= y >> 18;
        return y;
    }

    // random_sample()/rand(): 53-bit double in [0, 1).
    double random_sample() {
        const std::uint32_t a = next_uint32() >> 5;
        const std::uint32_t b = next_uint32() >> 6;
        return (double(a) * 67108864.0 + double(b)) / 9007199254740992.0;
    }

    // Legacy randint(high) for high <= 2^32: masked rejection on 32-bit draws.
    std::uint32_t randint(std::uint32_t high) {
        const std::uint32_t max = high - 1;
        if (max == 0) return 0;
        std::uint32_t mask = max;
        mask |= mask >> 1;
        mask |= mask >> 2;
        mask |= mask >> 4;
        mask |= mask >> 8;
        mask |= mask >> 16;
        std::uint32_t value;
        do value = next_uint32() & mask;
        while (value > max);
        return value;
    }

private:
    static constexpr std::uint32_t n = 624, m = 397;

    void twist() {
        for (std::uint32_t i = 0; i < n; ++i) {
            const std::uint32_t y = (state_[i] & 0x80000000u) | (state_[(i + 1) % n] & 0x7fffffffu);
            state_[i] = state_[(i + m) % n] ^ (y >> 1) ^ ((y & 1u) ? 0x9908b0dfu : 0u);
        }
        index_ = 0;
    }

    std::array<std::uint32_t, n> state_{};
    std::uint32_t index_ = n;
};

// The reference which_class: 0 yin, 1 yang, 2 dot. Squares are written as
// products, as numpy evaluates **2, so every comparison sees the same bits.
inline int yin_yang_class(double x, double y, double r_small, double r_big) {
    auto square = [](double v) { return v * v; };
    const double d_right = std::sqrt(square(x - 1.5 * r_big) + square(y - r_big));
    const double d_left = std::sqrt(square(x - 0.5 * r_big) + square(y - r_big));
    const bool criterion1 = d_right <= r_small;
    const bool criterion2 = d_left > r_small && d_left <= 0.5 * r_big;
    const bool criterion3 = y > r_big && d_right > 0.5 * r_big;
    const bool is_yin = criterion1 || criterion2 || criterion3;
    const bool is_circles = d_right < r_small || d_left < r_small;
    if (is_circles) return 2;
    return is_yin ? 1 : 0;
}

}  // namespace detail

// The Yin-Yang dataset (Kriener, Göltz & Petrovici 2021): points in the disc of
// radius r_big centred at (r_big, r_big), three classes of about equal size.
struct YinYang {
    static constexpr std::size_t num_features = 4;
    static constexpr std::size_t num_classes = 3;

    std::vector<float> features;       // [example][4]: x, y, 1 - x, 1 - y
    std::vector<std::int32_t> labels;  // 0 yin, 1 yang, 2 dot
    // x, y of each example ([example][2]) in double precision, as drawn by the
    // reference generator; encode_yin_yang uses them when present so spike times
    // round exactly as mlGeNN's do. Clear them to encode edited features instead.
    std::vector<double> coordinates;

    std::size_t size() const { return labels.size(); }
};

// Generates `size` examples exactly as the reference generator
// (github.com/lkriener/yin_yang_data_set, YinYangDataset(r_small, r_big, size, seed)):
// per example a goal class randint(3), then (x, y) = rand(2) * 2 r_big until the
// point is inside the big circle and of the goal class.
inline YinYang yin_yang(std::size_t size, std::uint32_t seed, double r_small = 0.1, double r_big = 0.5) {
    // Every class needs a non-empty region, or rejection sampling never ends.
    if (!(std::isfinite(r_small) && std::isfinite(r_big) && r_small > 0.0 && r_small < 0.5 * r_big))
        spikegraph::detail::throw_invalid("yin_yang: need 0 < r_small < r_big / 2, got r_small=", r_small,
                                          " r_big=", r_big);
    detail::NumpyRandomState rng(seed);
    YinYang data;
    data.features.reserve(size * YinYang::num_features);
    data.labels.reserve(size);
    data.coordinates.reserve(size * 2);
    for (std::size_t i = 0; i < size; ++i) {
        const int goal = int(rng.randint(3));
        double x = 0.0, y = 0.0;
        for (;;) {
            x = rng.random_sample() * 2.0 * r_big;
            y = rng.random_sample() * 2.0 * r_big;
            const double dx = x - r_big, dy = y - r_big;
            if (std::sqrt(dx * dx + dy * dy) > r_big) continue;
            if (detail::yin_yang_class(x, y, r_small, r_big) == goal) break;
        }
        data.features.insert(data.features.end(),
                             {float(x), float(y), float(1.0 - x), float(1.0 - y)});
        data.labels.push_back(goal);
        data.coordinates.insert(data.coordinates.end(), {x, y});
    }
    return data;
}

struct YinYangSplits {
    YinYang train, validation, test;
};

// The splits of the reference publication: seeds 42 (train), 41 (validation), 40 (test).
inline YinYangSplits yin_yang_splits(std::size_t train_size = 5000, std::size_t validation_size = 1000,
                                     std::size_t test_size = 1000) {
    return {yin_yang(train_size, 42), yin_yang(validation_size, 41), yin_yang(test_size, 40)};
}

}  // namespace spikegraph::datasets
