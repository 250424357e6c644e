#pragma once
// e^x for a float, written out so that it inlines. EventProp takes the
// exponential of every spike's offset several times (the synaptic and
// membrane decays over the rest of its step, model/precise_timing.hpp); as
// calls to the C library's expf these were a seventh of a CPU training step.
//
// Method of Cephes' expf (S. L. Moshier): x = n ln2 + r with |r| <= ln2 / 2
// (ln2 in two parts, so n ln2 is exact), e^r by its degree-7 minimax
// polynomial, times 2^n built in the exponent bits. Within 2 ulp of e^x for
// -87.3 <= x <= 88 (tests/model_dynamics_test.cpp checks it against double
// exp); below that 0 (the CPU backend flushes subnormals anyway), NaN stays
// NaN; x > 88 is outside its domain. Plain multiplies and adds, no fmaf: on a
// CPU without FMA fmaf is a library call. Always inlined: GCC had left it out
// of line in the scalar remainders of the vectorised EventProp loops, where
// each call spilled the vector registers; inlining it made the benchmark
// net's training step 9 % faster (T = 1000, 92 Hz hidden rate).
#include <cstdint>
#include <cstring>

#include <spikegraph/host_device.hpp>

namespace spikegraph::detail {

SPIKEGRAPH_HOST_DEVICE SPIKEGRAPH_ALWAYS_INLINE float exp_polynomial(float x) {
    constexpr float lowest = -87.3f;         // e^lowest is still a normal float
    constexpr float round_shift = 12582912.0f;  // 1.5 * 2^23: adding and subtracting it rounds to an integer
    const float clamped = x >= lowest ? (x < 88.0f ? x : 88.0f) : lowest;
    const float n = (clamped * 1.44269504088896341f + round_shift) - round_shift;
    float r = clamped - n * 0.693359375f;  // ln2 = 0.693359375 - 2.12194440e-4, the first part exact in few bits
    r = r + n * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * (r * r) + r + 1.0f;
    const std::uint32_t exponent_bits = std::uint32_t(int(n) + 127) << 23;  // n in [-126, 127]
#if defined(__CUDA_ARCH__)
    const float scale = __uint_as_float(exponent_bits);
#else
    float scale;
    std::memcpy(&scale, &exponent_bits, sizeof scale);
#endif
    const float result = x >= lowest ? p * scale : 0.0f;
    return x == x ? result : x;
}

}  // namespace spikegraph::detail
