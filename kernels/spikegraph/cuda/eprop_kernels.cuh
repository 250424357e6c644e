#pragma once
// The CUDA backend's e-prop kernels (Bellec et al. 2020; mlGeNN's
// EPropCompiler). The forward pass is the inference kernels' time loop
// (kernels.cuh: inputs, spike queues, propagation, one bit per spike kept for
// every step) with e-prop's neuron step (EPropNeuron: psi, the running rate
// and its drive kept per step). After a batch, one kernel filters each hidden
// neuron's learning signal in reverse time (eprop_filter_signal, thread per
// neuron and lane), and one adds every presynaptic spike's share to dL/dw
// (block per step, lane and connection; float atomics across them), so the
// work is steps x neurons plus spikes x synapses, as on the CPU backend.
#include <cstddef>
#include <cstdint>
#include <utility>

#include <spikegraph/cuda/runtime.hpp>

#include <spikegraph/cuda/device_network.cuh>
#include <spikegraph/cuda/kernels.cuh>
#include <spikegraph/eprop_neuron.hpp>
#include <spikegraph/model/adaptive_leaky_integrate_fire.hpp>

namespace spikegraph::cuda_backend {

struct EPropDevicePopulation {
    float* history;       // [lane][step][neuron]: psi (hidden) or V (the output)
    float* rate_drive;    // [lane][step][neuron]: c_reg (rate - target)
    float* running_rate;  // [lane][neuron]: spikes per step, kept from example to example
    float* filtered;      // [lane][step][neuron]: a presynaptic spike's share of dL/dw
    float* signal;        // [lane][step][neuron]: the learning signal (neighbouring threads, neighbouring neurons)
};

template <class Net>
struct EPropDeviceNetwork {
    DeviceNetwork<Net> base;  // what the inference kernels see
    EPropDevicePopulation populations[Net::num_populations];
    float* gradients[Net::num_connections > 0 ? Net::num_connections : 1];
    const float* error_by_output;  // [lane][output][step]: E_k(t)
    const float* error_tilde;      // [lane][step][output]: the reverse-filtered output error
    float rate_decay, target, c_reg;  // the running rate's decay per step, target (spikes per step), strength
    float kappa, output_scale;        // the output's alpha and input scale
};

template <class Net, std::size_t P>
__device__ void eprop_update_population(const EPropDeviceNetwork<Net>& net, SpikeScan::TempStorage& scan,
                                        unsigned segment, unsigned lane, int step) {
    using Pop = typename Net::template population_type<P>;
    using Model = typename Pop::neuron_type;
    if constexpr (is_input_model<Model>) {
        update_population<Net, P>(net.base, scan, segment, lane, step);
    } else {
        const auto& pop = get<P>(net.base.populations);
        const EPropDevicePopulation& e = net.populations[P];
        const unsigned neuron = segment * block_size + threadIdx.x;
        bool fired = false;
        if (neuron < Pop::size) {
            const std::size_t index = std::size_t(lane) * Pop::size + neuron;
            const std::size_t at_step = (std::size_t(lane) * std::size_t(net.base.timesteps) + std::size_t(step)) * Pop::size + neuron;
            NeuronState<Model> state;
            for (std::size_t v = 0; v < Model::Variables::size; ++v) state[int(v)] = pop.variables[v][index];
            float accumulator = 0.0f;
            if constexpr (Pop::has_readout) accumulator = pop.readout_accumulator[index];
            const float isyn = synaptic_input<Net, P>(net.base, lane, neuron, std::make_index_sequence<Net::num_connections>{});
            float unused_rate = 0.0f, unused_drive = 0.0f;
            float& rate = is_spiking_model<Model> ? e.running_rate[index] : unused_rate;
            float& drive = is_spiking_model<Model> ? e.rate_drive[at_step] : unused_drive;
            fired = EPropNeuron<Model, typename Pop::readout_type>::forward(neuron_dynamics(pop.dynamics, pop.bias, neuron),
                                                                           pop.readout, state, isyn, accumulator,
                                                                           step, rate, net.rate_decay, net.target, net.c_reg,
                                                                           e.history[at_step], drive);
            for (std::size_t v = 0; v < Model::Variables::size; ++v) pop.variables[v][index] = state[int(v)];
            if constexpr (Pop::has_readout) pop.readout_accumulator[index] = accumulator;
        }
        enqueue_spikes(net.base, pop, scan, fired, neuron, segment, lane, step);
    }
}

template <class Net>
__global__ void __launch_bounds__(block_size)
    eprop_update_kernel(const __grid_constant__ EPropDeviceNetwork<Net> net, int step_in_launch) {
    __shared__ SpikeScan::TempStorage scan;
    const int step = *net.base.step_base + step_in_launch;
    if (step >= net.base.timesteps) return;
    using Layout = KernelLayout<Net>;
    const unsigned block = blockIdx.x;
    [&]<std::size_t... P>(std::index_sequence<P...>) {
        (void)((block < Layout::template update_end<P>
                    ? (eprop_update_population<Net, P>(net, scan, block - Layout::template update_begin<P>, blockIdx.y, step), true)
                    : false) ||
               ...);
    }(std::make_index_sequence<Net::num_populations>{});
}

// The synapses of presynaptic neuron `id` of connection C: positions [first, last).
template <class Conn>
__device__ SPIKEGRAPH_INLINE void synapse_range(const DeviceConnection<Conn>& connection, std::uint32_t id, std::size_t& first,
                                                std::size_t& last) {
    constexpr ConnectivityKind kind = Conn::connectivity_type::kind;
    if constexpr (kind == ConnectivityKind::dense) {
        first = std::size_t(id) * Conn::post_type::size;
        last = first + Conn::post_type::size;
    } else if constexpr (kind == ConnectivityKind::one_to_one) {
        first = id;
        last = std::size_t(id) + 1;
    } else {
        first = connection.row_start[id];
        last = connection.row_start[id + 1];
    }
}
template <class Conn>
__device__ SPIKEGRAPH_INLINE std::size_t synapse_target(const DeviceConnection<Conn>& connection, std::uint32_t id, std::size_t first,
                                                        std::size_t e) {
    constexpr ConnectivityKind kind = Conn::connectivity_type::kind;
    if constexpr (kind == ConnectivityKind::dense) return e - first;
    else if constexpr (kind == ConnectivityKind::one_to_one) return id;
    else return connection.columns[e];
}

// For hidden neuron j of population P in one lane: its learning signal
// L_j(t) = sum_k B_jk E_k(t) (B = the output weights: symmetric e-prop),
// outputs in row order as the CPU backend adds them, then the reverse filter.
template <class Net, std::size_t P, std::size_t Output>
__device__ void eprop_hidden_factor(const EPropDeviceNetwork<Net>& net, unsigned segment, unsigned lane) {
    using Pop = typename Net::template population_type<P>;
    using Model = typename Pop::neuron_type;
    if constexpr (is_spiking_model<Model> && !is_input_model<Model>) {
        constexpr std::size_t outputs = Net::population_sizes[Output];
        const unsigned j = segment * block_size + threadIdx.x;
        if (j >= Pop::size) return;
        const std::size_t steps = std::size_t(net.base.timesteps);
        const EPropDevicePopulation& e = net.populations[P];
        const std::size_t first = std::size_t(lane) * steps * Pop::size + j;  // [lane][step][neuron]
        float* signal = e.signal + first;
        for (std::size_t t = 0; t < steps; ++t) signal[t * Pop::size] = 0.0f;
        const float* errors = net.error_by_output + std::size_t(lane) * outputs * steps;
        [&]<std::size_t... C>(std::index_sequence<C...>) {
            (
                [&] {
                    if constexpr (Net::connection_pre[C] == int(P) && Net::connection_post[C] == int(Output)) {
                        using Conn = typename Net::template connection_type<C>;
                        const auto& connection = get<C>(net.base.connections);
                        std::size_t first = 0, last = 0;
                        synapse_range<Conn>(connection, j, first, last);
                        for (std::size_t s = first; s < last; ++s) {
                            const float w = net.output_scale * connection.weights[s];
                            const float* error = errors + synapse_target<Conn>(connection, j, first, s) * steps;
                            for (std::size_t t = 0; t < steps; ++t) signal[t * Pop::size] += w * error[t];
                        }
                    }
                }(),
                ...);
        }(std::make_index_sequence<Net::num_connections>{});
        const auto& dynamics = get<P>(net.base.populations).dynamics;
        float beta = 0.0f, rho = 0.0f;
        if constexpr (std::is_same_v<Model, AdaptiveLeakyIntegrateFire>) beta = dynamics.beta, rho = dynamics.rho;
        eprop_filter_signal(signal, Pop::size, e.history + first, e.rate_drive + first, Pop::size, steps, net.kappa, dynamics.alpha,
                            dynamics.input_scale, beta, rho, e.filtered + first);
    }
}

template <class Net, std::size_t Output>
__global__ void __launch_bounds__(block_size) eprop_hidden_factor_kernel(const __grid_constant__ EPropDeviceNetwork<Net> net) {
    using Layout = KernelLayout<Net>;
    const unsigned block = blockIdx.x;
    [&]<std::size_t... P>(std::index_sequence<P...>) {
        (void)((block < Layout::template update_end<P>
                    ? (eprop_hidden_factor<Net, P, Output>(net, block - Layout::template update_begin<P>, blockIdx.y), true)
                    : false) ||
               ...);
    }(std::make_index_sequence<Net::num_populations>{});
}

// Connection C's presynaptic spikes of one step and lane, each adding its
// postsynaptic factor to the gradient of its synapses.
template <class Net, std::size_t C, std::size_t Output>
__device__ void eprop_accumulate(const EPropDeviceNetwork<Net>& net, unsigned lane, int step) {
    using Conn = typename Net::template connection_type<C>;
    using Pre = typename Conn::pre_type;
    constexpr std::size_t pre_index = std::size_t(Net::connection_pre[C]);
    constexpr std::size_t post_index = std::size_t(Net::connection_post[C]);
    constexpr std::size_t num_post = Conn::post_type::size;
    const auto& pre = get<pre_index>(net.base.populations);
    const auto& connection = get<C>(net.base.connections);
    float* gradient = net.gradients[C];
    const std::size_t at_step = std::size_t(lane) * std::size_t(net.base.timesteps) + std::size_t(step);
    const float* factor = post_index == Output ? net.error_tilde + at_step * num_post
                                               : net.populations[post_index].filtered + at_step * num_post;
    auto add_row = [&](std::uint32_t id) {
        std::size_t first = 0, last = 0;
        synapse_range<Conn>(connection, id, first, last);
        for (std::size_t e = first + threadIdx.x; e < last; e += block_size)
            atomicAdd(gradient + e, factor[synapse_target<Conn>(connection, id, first, e)]);
    };
    if constexpr (Pre::neuron_type::kind == NeuronKind::spike_input) {
        const std::uint32_t* offsets = pre.schedule_offsets + std::size_t(lane) * std::size_t(net.base.timesteps + 1);
        for (std::uint32_t s = offsets[step]; s < offsets[step + 1]; ++s) add_row(pre.schedule_ids[s]);
    } else {
        constexpr std::size_t words = record_words_of<Pre>;
        const std::uint32_t* bits = pre.spike_record + (std::size_t(step) * net.base.lanes + lane) * words;
        for (std::size_t w = 0; w < words; ++w)
            for (std::uint32_t word = bits[w]; word != 0; word &= word - 1)
                add_row(std::uint32_t(w * 32 + unsigned(__ffs(int(word)) - 1)));
    }
}

// blockIdx.x: the step, y: the lane, z: the connection.
template <class Net, std::size_t Output>
__global__ void __launch_bounds__(block_size) eprop_gradient_kernel(const __grid_constant__ EPropDeviceNetwork<Net> net) {
    const int step = int(blockIdx.x);
    const unsigned connection = blockIdx.z;
    [&]<std::size_t... C>(std::index_sequence<C...>) {
        (void)((connection == C ? (eprop_accumulate<Net, C, Output>(net, blockIdx.y, step), true) : false) || ...);
    }(std::make_index_sequence<Net::num_connections>{});
}

}  // namespace spikegraph::cuda_backend
