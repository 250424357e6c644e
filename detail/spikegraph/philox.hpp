#pragma once
#include <cstdint>

#include "host_device.hpp"

namespace spikegraph::detail {

// Counter-based RNG Philox4x32-10 (Salmon et al. 2011, "Parallel random
// numbers: as easy as 1, 2, 3"). Being stateless, the same (key, counter)
// gives the same numbers on every backend and thread, so CPU and CUDA runs
// draw identical Poisson spikes and initial weights.
struct Philox4x32 {
    std::uint32_t v[4];
};

SPIKEGRAPH_HOST_DEVICE SPIKEGRAPH_INLINE std::uint32_t mulhilo32(std::uint32_t a, std::uint32_t b,
                                                                 std::uint32_t& hi) {
    const std::uint64_t product = static_cast<std::uint64_t>(a) * b;
    hi = static_cast<std::uint32_t>(product >> 32);
    return static_cast<std::uint32_t>(product);
}

SPIKEGRAPH_HOST_DEVICE SPIKEGRAPH_INLINE Philox4x32 philox4x32(Philox4x32 counter, std::uint32_t key0,
                                                               std::uint32_t key1) {
    constexpr std::uint32_t m0 = 0xD2511F53u, m1 = 0xCD9E8D57u;
    constexpr std::uint32_t w0 = 0x9E3779B9u, w1 = 0xBB67AE85u;
    for (int round = 0; round < 10; ++round) {
        std::uint32_t hi0, hi1;
        const std::uint32_t lo0 = mulhilo32(m0, counter.v[0], hi0);
        const std::uint32_t lo1 = mulhilo32(m1, counter.v[2], hi1);
        counter = Philox4x32{{hi1 ^ counter.v[1] ^ key0, lo1, hi0 ^ counter.v[3] ^ key1, lo0}};
        key0 += w0;
        key1 += w1;
    }
    return counter;
}

// Uniform float in (0, 1]: 24 random bits, never exactly 0, so log(u) is finite.
SPIKEGRAPH_HOST_DEVICE SPIKEGRAPH_INLINE float uniform_from_bits(std::uint32_t bits) {
    return static_cast<float>((bits >> 8) + 1u) * (1.0f / 16777216.0f);
}

// One uniform for a 4-word counter under a 64-bit seed.
SPIKEGRAPH_HOST_DEVICE SPIKEGRAPH_INLINE float uniform(std::uint64_t seed, std::uint32_t c0, std::uint32_t c1,
                                                      std::uint32_t c2, std::uint32_t c3) {
    const Philox4x32 out = philox4x32(Philox4x32{{c0, c1, c2, c3}}, static_cast<std::uint32_t>(seed),
                                      static_cast<std::uint32_t>(seed >> 32));
    return uniform_from_bits(out.v[0]);
}

// Sequential host-side stream over Philox blocks: used where numbers are drawn
// one after another (weight initialisation, shuffles, dataset generators).
class PhiloxStream {
public:
    PhiloxStream(std::uint64_t seed, std::uint32_t stream) : seed_(seed), stream_(stream) {}

    std::uint32_t next_u32() {
        if (index_ == 4) {
            block_ = philox4x32(Philox4x32{{counter_lo_, counter_hi_, stream_, 0x5eed5eedu}},
                                static_cast<std::uint32_t>(seed_), static_cast<std::uint32_t>(seed_ >> 32));
            if (++counter_lo_ == 0) ++counter_hi_;
            index_ = 0;
        }
        return block_.v[index_++];
    }
    // (0, 1]
    float next_uniform() { return uniform_from_bits(next_u32()); }
    // Uniform integer in [0, bound) without modulo bias (Lemire 2019).
    std::uint32_t next_below(std::uint32_t bound) {
        std::uint64_t m = static_cast<std::uint64_t>(next_u32()) * bound;
        auto low = static_cast<std::uint32_t>(m);
        if (low < bound) {
            const std::uint32_t threshold = (0u - bound) % bound;
            while (low < threshold) {
                m = static_cast<std::uint64_t>(next_u32()) * bound;
                low = static_cast<std::uint32_t>(m);
            }
        }
        return static_cast<std::uint32_t>(m >> 32);
    }
    // Standard normal by Box-Muller; both halves are used.
    float next_normal();

private:
    std::uint64_t seed_;
    std::uint32_t stream_;
    std::uint32_t counter_lo_ = 0, counter_hi_ = 0;
    Philox4x32 block_{};
    int index_ = 4;
    bool has_spare_ = false;
    float spare_ = 0.0f;
};

}  // namespace spikegraph::detail

#include <cmath>

inline float spikegraph::detail::PhiloxStream::next_normal() {
    if (has_spare_) {
        has_spare_ = false;
        return spare_;
    }
    const double u1 = next_uniform();
    const double u2 = next_uniform();
    const double radius = std::sqrt(-2.0 * std::log(u1));
    const double angle = 6.283185307179586 * u2;
    spare_ = static_cast<float>(radius * std::sin(angle));
    has_spare_ = true;
    return static_cast<float>(radius * std::cos(angle));
}
