// The neuron, synapse and readout dynamics are written once (SPIKEGRAPH_HOST_DEVICE)
// and must behave identically on host and device. Each case runs the same loop
// (synapse inject -> update_neuron, with deterministic inputs) for N neurons x T
// steps in a kernel and on the host, and compares: spikes exactly, V traces and
// readouts bit for bit. It also checks that the counter-based Philox RNG gives the
// same bits on both sides (and the published Random123 known answers).
//
// Bit-exact comparison needs this file compiled with `nvcc --fmad=false`: by
// default nvcc contracts a*b+c (e.g. LIF's alpha*V + s*I) into one FMA, which the
// host code does not do. A probe kernel detects contraction and fails with that advice.
//
// Without a CUDA device the cases print a SKIPPED line, WARN and pass.

#include <catch2/catch.hpp>

#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

#include <spikegraph/model/adaptive_leaky_integrate_fire.hpp>
#include <spikegraph/model/integrate_fire.hpp>
#include <spikegraph/model/leaky_integrate.hpp>
#include <spikegraph/model/leaky_integrate_fire.hpp>
#include <spikegraph/model/neuron_update.hpp>
#include <spikegraph/model/readout.hpp>
#include <spikegraph/model/synapse.hpp>
#include <spikegraph/philox.hpp>

namespace sg = spikegraph;

namespace {

#define SG_CUDA_CHECK(call)                                                                                 \
    do {                                                                                                    \
        const cudaError_t sg_cuda_status = (call);                                                          \
        if (sg_cuda_status != cudaSuccess)                                                                  \
            FAIL("CUDA call failed: " #call ": " << cudaGetErrorName(sg_cuda_status) << " ("               \
                                                  << cudaGetErrorString(sg_cuda_status) << ")");            \
    } while (0)

// Checks a kernel launch and its execution, naming the kernel on failure.
#define SG_CUDA_CHECK_KERNEL(name)                                                                          \
    do {                                                                                                    \
        SG_CUDA_CHECK(cudaGetLastError());                                                                  \
        const cudaError_t sg_cuda_sync = cudaDeviceSynchronize();                                           \
        if (sg_cuda_sync != cudaSuccess)                                                                    \
            FAIL("kernel " << (name) << " failed: " << cudaGetErrorName(sg_cuda_sync) << " ("               \
                           << cudaGetErrorString(sg_cuda_sync) << ")");                                     \
    } while (0)

// True when a CUDA device is usable; otherwise says loudly that the test did not run.
bool have_cuda_device() {
    int count = 0;
    const cudaError_t status = cudaGetDeviceCount(&count);
    if (status != cudaSuccess || count == 0) {
        const std::string why = status != cudaSuccess ? std::string(cudaGetErrorString(status)) : "no devices";
        std::printf("SKIPPED: no CUDA device — GPU test not run (%s)\n", why.c_str());
        std::fflush(stdout);
        WARN("SKIPPED: no CUDA device — GPU test not run (" << why << ")");
        return false;
    }
    return true;
}

// Device memory freed on scope exit (errors on free cannot be reported from a destructor).
template <class T>
struct DeviceBuffer {
    T* data = nullptr;
    std::size_t size = 0;
    explicit DeviceBuffer(std::size_t n) : size(n) { SG_CUDA_CHECK(cudaMalloc(&data, n * sizeof(T))); }
    ~DeviceBuffer() { cudaFree(data); }
    DeviceBuffer(const DeviceBuffer&) = delete;
    DeviceBuffer& operator=(const DeviceBuffer&) = delete;
    std::vector<T> download() const {
        std::vector<T> out(size);
        SG_CUDA_CHECK(cudaMemcpy(out.data(), data, size * sizeof(T), cudaMemcpyDeviceToHost));
        return out;
    }
};

std::uint32_t bits_of(float x) {
    std::uint32_t b;
    std::memcpy(&b, &x, sizeof b);
    return b;
}

// --- FMA contraction probe --------------------------------------------------
// x*y + z with operands whose exact product needs more than 24 bits: the fused
// and the separately rounded results differ, so the device answer tells whether
// nvcc contracted the expression (as it would contract the models' a*b+c).
__global__ void contraction_probe(const float* in, float* out) { out[0] = in[0] * in[1] + in[2]; }

// --- deterministic inputs ---------------------------------------------------
// Integer hash -> small integer -> float times a power of two: every input is an
// exactly representable float, computed identically on host and device.
SPIKEGRAPH_HOST_DEVICE inline std::uint32_t mix(std::uint32_t x) {
    x ^= x >> 16;
    x *= 0x7feb352dU;
    x ^= x >> 15;
    x *= 0x846ca68bU;
    x ^= x >> 16;
    return x;
}
// Input added to in_syn of neuron n in step s: integer in [low, low + 1024) times 2^-exponent.
SPIKEGRAPH_HOST_DEVICE inline float input_value(int n, int s, int low, int exponent) {
    const int k = int(mix(std::uint32_t(n) * 0x9e3779b9U ^ mix(std::uint32_t(s) + 0x632be5abU)) & 1023U) + low;
    return ldexpf(float(k), -exponent);
}

struct InputSpec {
    int low;       // smallest integer drawn
    int exponent;  // scale 2^-exponent
};

// One neuron for T steps: the per-neuron part of every backend's update loop.
// V trace, spike flags and the final readout accumulator are written out.
template <int ReadoutVar, class ModelDynamics, class SynapseDynamics, class ReadoutDynamics, class State>
SPIKEGRAPH_HOST_DEVICE void simulate_neuron(int n, int steps, const ModelDynamics& model,
                                            const SynapseDynamics& synapse, const ReadoutDynamics& readout,
                                            State state, float accumulator, InputSpec spec, float* v_trace,
                                            std::uint8_t* spikes, float* readout_out) {
    float in_syn = 0.0f;
    for (int s = 0; s < steps; ++s) {
        const float isyn = synapse.inject(in_syn);
        const bool fired = sg::update_neuron<ReadoutVar>(model, state, isyn, readout, accumulator, s);
        v_trace[std::size_t(n) * steps + s] = state[0];
        spikes[std::size_t(n) * steps + s] = fired ? 1 : 0;
        // Propagation after the neuron phase: this step's input reaches the neuron next step.
        in_syn += input_value(n, s, spec.low, spec.exponent);
    }
    readout_out[n] = accumulator;
}

// The kernel is templated on the readout type itself (SumVar<>, MaxVar<>, ... carry a
// FixedString template argument): this also checks that graph-level types pass
// through nvcc's kernel launch stubs.
template <class Model, class R, class SynapseDynamics, class State>
__global__ void simulate_kernel(int neurons, int steps, typename Model::Dynamics model, SynapseDynamics synapse,
                                typename R::Dynamics readout, State initial, float accumulator, InputSpec spec,
                                float* v_trace, std::uint8_t* spikes, float* readout_out) {
    const int n = int(blockIdx.x * blockDim.x + threadIdx.x);
    if (n < neurons)
        simulate_neuron<sg::readout_variable_index<Model, R>>(n, steps, model, synapse, readout, initial, accumulator,
                                                               spec, v_trace, spikes, readout_out);
}

struct Trace {
    std::vector<float> v;
    std::vector<std::uint8_t> spikes;
    std::vector<float> readout;
};

constexpr int num_neurons = 257;  // not a multiple of the block size: exercises the bounds check
constexpr int num_steps = 200;
constexpr float dt = 1.0f;

enum class Compare { exact, exp_readout };

// Runs model M with synapse S and readout R on both sides and compares.
// Returns the number of spikes (checked by callers to be non-trivial).
template <class M, class S, class R>
std::size_t compare_host_device(const M& model, const S& synapse, const R& readout, InputSpec spec,
                                Compare how = Compare::exact) {
    constexpr int readout_var = sg::readout_variable_index<M, R>;
    const auto dyn = model.dynamics(dt);
    const auto syn = synapse.dynamics(dt);
    const auto rd = readout.dynamics(dt, num_steps);
    const auto initial = model.initial_state();
    const std::size_t cells = std::size_t(num_neurons) * num_steps;

    Trace host{std::vector<float>(cells), std::vector<std::uint8_t>(cells), std::vector<float>(num_neurons)};
    for (int n = 0; n < num_neurons; ++n)
        simulate_neuron<readout_var>(n, num_steps, dyn, syn, rd, initial, rd.initial, spec, host.v.data(),
                                     host.spikes.data(), host.readout.data());

    DeviceBuffer<float> d_v(cells);
    DeviceBuffer<std::uint8_t> d_spikes(cells);
    DeviceBuffer<float> d_readout(num_neurons);
    constexpr int block = 128;
    simulate_kernel<M, R><<<(num_neurons + block - 1) / block, block>>>(
        num_neurons, num_steps, dyn, syn, rd, initial, rd.initial, spec, d_v.data, d_spikes.data, d_readout.data);
    SG_CUDA_CHECK_KERNEL("simulate_kernel");
    const Trace device{d_v.download(), d_spikes.download(), d_readout.download()};

    std::size_t spike_mismatches = 0, v_mismatches = 0, first_bad = cells;
    for (std::size_t i = 0; i < cells; ++i) {
        if (host.spikes[i] != device.spikes[i]) ++spike_mismatches;
        if (bits_of(host.v[i]) != bits_of(device.v[i])) {
            ++v_mismatches;
            if (first_bad == cells) first_bad = i;
        }
    }
    INFO("first V mismatch at neuron " << (first_bad / num_steps) << ", step " << (first_bad % num_steps));
    CHECK(spike_mismatches == 0);
    CHECK(v_mismatches == 0);

    for (int n = 0; n < num_neurons; ++n) {
        INFO("readout of neuron " << n);
        if (how == Compare::exact) {
            CHECK(bits_of(host.readout[n]) == bits_of(device.readout[n]));
        } else {
            // AvgVarExpWeight calls expf, which CUDA computes within 2 ulp, not
            // necessarily as glibc does: each term may differ by ~3 ulp of itself
            // and each of the T additions by 1 ulp of the running sum.
            double abs_terms = 0.0, max_partial = 0.0, partial = 0.0;
            for (int s = 0; s < num_steps; ++s) {
                const double term =
                    std::exp(-double(s) / num_steps) / num_steps * double(host.v[std::size_t(n) * num_steps + s]);
                abs_terms += std::fabs(term);
                partial += term;
                max_partial = std::max(max_partial, std::fabs(partial));
            }
            const double ulp = std::ldexp(1.0, -23);
            const double tolerance = ulp * (4.0 * abs_terms + num_steps * max_partial) + 1e-30;
            CHECK(std::fabs(double(host.readout[n]) - double(device.readout[n])) <= tolerance);
        }
    }

    std::size_t spikes = 0;
    for (auto s : host.spikes) spikes += s;
    return spikes;
}

// Fails (with the fix) when device code contracts a*b+c, since every exact
// comparison below depends on it not doing so.
bool device_contracts_fma() {
    // 1 + 2^-12 squared is 1 + 2^-11 + 2^-24: the 2^-24 is lost when the product
    // is rounded first, kept when fused.
    const float x = 1.0f + std::ldexp(1.0f, -12);
    const float host_in[3] = {x, x, -1.0f};
    DeviceBuffer<float> d_in(3), d_out(1);
    SG_CUDA_CHECK(cudaMemcpy(d_in.data, host_in, sizeof host_in, cudaMemcpyHostToDevice));
    contraction_probe<<<1, 1>>>(d_in.data, d_out.data);
    SG_CUDA_CHECK_KERNEL("contraction_probe");
    const float device = d_out.download()[0];
    volatile float product = host_in[0] * host_in[1];  // volatile: rounded product on the host
    const float separate = product + host_in[2];
    const float fused = std::fma(host_in[0], host_in[1], host_in[2]);
    REQUIRE(separate != fused);  // the probe operands must tell the two apart
    return bits_of(device) == bits_of(fused);
}

void require_no_contraction() {
    if (device_contracts_fma())
        FAIL("device code contracts a*b+c into FMA (nvcc's default --fmad=true); compile "
             "tests/cuda/model_device_test.cu with --fmad=false for the bit-exact host/device comparison");
}

}  // namespace

TEST_CASE("LIF, ALIF, LI and IF updates are identical on host and device", "[cuda][model]") {
    if (!have_cuda_device()) return;
    require_no_contraction();

    // Inputs: mostly excitatory, some inhibitory, so neurons both fire and sit below threshold.
    const InputSpec delta_input{-384, 12};        // [-0.094, 0.156) per step
    const InputSpec exponential_input{-384, 14};  // in_syn accumulates over ~5 steps

    SECTION("LeakyIntegrateFire, Delta, SumVar") {
        const auto spikes = compare_host_device(sg::LeakyIntegrateFire{}, sg::Delta{}, sg::SumVar<>{}, delta_input);
        CHECK(spikes > 0);
        CHECK(spikes < std::size_t(num_neurons) * num_steps / 2);
    }
    SECTION("LeakyIntegrateFire (refractory, absolute reset, frozen, scale_i), Exponential, SpikeCount") {
        const sg::LeakyIntegrateFire lif{.v_thresh = 0.8f,
                                         .v_reset = -0.1f,
                                         .tau_mem = 10.0f,
                                         .tau_refrac = 3.0f,
                                         .relative_reset = false,
                                         .integrate_during_refrac = false,
                                         .scale_i = true};
        const auto spikes = compare_host_device(lif, sg::Exponential{5.0f, true}, sg::SpikeCount{}, {-384, 9});
        CHECK(spikes > 0);
    }
    SECTION("LeakyIntegrateFire, Exponential, FirstSpikeTime") {
        const auto spikes =
            compare_host_device(sg::LeakyIntegrateFire{}, sg::Exponential{}, sg::FirstSpikeTime{}, exponential_input);
        CHECK(spikes > 0);
    }
    SECTION("AdaptiveLeakyIntegrateFire, Exponential, SpikeCount") {
        // Strong adaptation (beta 0.2, tau_adapt 50 ms) so that A changes the threshold within the run.
        const sg::AdaptiveLeakyIntegrateFire alif{.beta = 0.2f, .tau_refrac = 2.0f, .tau_adapt = 50.0f};
        const auto spikes = compare_host_device(alif, sg::Exponential{}, sg::SpikeCount{}, exponential_input);
        CHECK(spikes > 0);
    }
    SECTION("AdaptiveLeakyIntegrateFire, Delta, MaxVar") {
        const sg::AdaptiveLeakyIntegrateFire alif{.beta = 0.2f, .tau_adapt = 50.0f, .relative_reset = false};
        const auto spikes = compare_host_device(alif, sg::Delta{}, sg::MaxVar<>{}, delta_input);
        CHECK(spikes > 0);
    }
    SECTION("LeakyIntegrate, Exponential, SumVar") {
        const auto spikes =
            compare_host_device(sg::LeakyIntegrate{.bias = 0.01f}, sg::Exponential{}, sg::SumVar<>{}, exponential_input);
        CHECK(spikes == 0);  // LI never spikes
    }
    SECTION("LeakyIntegrate, Delta, MaxVar") {
        const auto spikes =
            compare_host_device(sg::LeakyIntegrate{.tau_mem = 5.0f, .scale_i = true}, sg::Delta{}, sg::MaxVar<>{},
                                delta_input);
        CHECK(spikes == 0);
    }
    SECTION("LeakyIntegrate, Exponential, AvgVarExpWeight (expf: within its error bound)") {
        compare_host_device(sg::LeakyIntegrate{}, sg::Exponential{}, sg::AvgVarExpWeight<>{}, exponential_input,
                            Compare::exp_readout);
    }
    SECTION("IntegrateFire, Delta, SpikeCount") {
        const auto spikes =
            compare_host_device(sg::IntegrateFire{.v_reset = 0.05f}, sg::Delta{}, sg::SpikeCount{}, delta_input);
        CHECK(spikes > 0);
    }
    SECTION("IntegrateFire, Exponential, SumVar") {
        const auto spikes =
            compare_host_device(sg::IntegrateFire{}, sg::Exponential{}, sg::SumVar<>{}, exponential_input);
        CHECK(spikes > 0);
    }
}

namespace {

constexpr int num_draws = 4096;

__global__ void philox_kernel(std::uint64_t seed, std::uint32_t* words, float* uniforms) {
    const int i = int(blockIdx.x * blockDim.x + threadIdx.x);
    if (i >= num_draws) return;
    const std::uint32_t c0 = std::uint32_t(i), c1 = std::uint32_t(i) * 7u + 3u, c2 = std::uint32_t(i) ^ 0xdeadbeefu,
                        c3 = 0x5eed0000u + std::uint32_t(i >> 5);
    const auto out = sg::detail::philox4x32(sg::detail::Philox4x32{{c0, c1, c2, c3}}, std::uint32_t(seed),
                                            std::uint32_t(seed >> 32));
    for (int k = 0; k < 4; ++k) words[4 * i + k] = out.v[k];
    uniforms[i] = sg::detail::uniform(seed, c0, c1, c2, c3);
}

// Random123's published known-answer vectors for Philox4x32-10.
__global__ void philox_known_answer_kernel(std::uint32_t* words) {
    const sg::detail::Philox4x32 a = sg::detail::philox4x32({{0u, 0u, 0u, 0u}}, 0u, 0u);
    const sg::detail::Philox4x32 b =
        sg::detail::philox4x32({{0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu}}, 0xffffffffu, 0xffffffffu);
    const sg::detail::Philox4x32 c =
        sg::detail::philox4x32({{0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u}}, 0xa4093822u, 0x299f31d0u);
    for (int k = 0; k < 4; ++k) {
        words[k] = a.v[k];
        words[4 + k] = b.v[k];
        words[8 + k] = c.v[k];
    }
}

}  // namespace

TEST_CASE("Philox gives identical bits on host and device", "[cuda][philox]") {
    if (!have_cuda_device()) return;

    SECTION("Random123 known answers") {
        const std::vector<std::uint32_t> expected{0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u,
                                                  0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu,
                                                  0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u};
        DeviceBuffer<std::uint32_t> d_words(12);
        philox_known_answer_kernel<<<1, 1>>>(d_words.data);
        SG_CUDA_CHECK_KERNEL("philox_known_answer_kernel");
        CHECK(d_words.download() == expected);
    }

    SECTION("raw words and uniform() over many counters and seeds") {
        for (const std::uint64_t seed : {std::uint64_t{0}, std::uint64_t{0x0123456789abcdefULL},
                                         std::numeric_limits<std::uint64_t>::max()}) {
            INFO("seed " << seed);
            DeviceBuffer<std::uint32_t> d_words(4 * num_draws);
            DeviceBuffer<float> d_uniforms(num_draws);
            philox_kernel<<<(num_draws + 255) / 256, 256>>>(seed, d_words.data, d_uniforms.data);
            SG_CUDA_CHECK_KERNEL("philox_kernel");
            const auto words = d_words.download();
            const auto uniforms = d_uniforms.download();
            std::size_t word_mismatches = 0, uniform_mismatches = 0, out_of_range = 0;
            for (int i = 0; i < num_draws; ++i) {
                const std::uint32_t c0 = std::uint32_t(i), c1 = std::uint32_t(i) * 7u + 3u,
                                    c2 = std::uint32_t(i) ^ 0xdeadbeefu, c3 = 0x5eed0000u + std::uint32_t(i >> 5);
                const auto out = sg::detail::philox4x32(sg::detail::Philox4x32{{c0, c1, c2, c3}},
                                                        std::uint32_t(seed), std::uint32_t(seed >> 32));
                for (int k = 0; k < 4; ++k) word_mismatches += out.v[k] != words[4 * i + k];
                const float u = sg::detail::uniform(seed, c0, c1, c2, c3);
                uniform_mismatches += bits_of(u) != bits_of(uniforms[i]);
                out_of_range += !(uniforms[i] > 0.0f && uniforms[i] <= 1.0f);
            }
            CHECK(word_mismatches == 0);
            CHECK(uniform_mismatches == 0);
            CHECK(out_of_range == 0);
        }
    }
}
