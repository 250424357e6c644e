#pragma once
// A population's per-neuron biases (neuron_biases.hpp) on the host and the
// device: the host copy is what optimisers and checkpoints see; the kernels
// read the device copy, which is null until biases are set.
#include <span>
#include <string>
#include <tuple>
#include <string_view>
#include <vector>

#include <spikegraph/cuda/runtime.hpp>

#include <spikegraph/cuda/cuda_error.hpp>
#include <spikegraph/cuda/device_buffer.hpp>
#include <spikegraph/neuron_biases.hpp>

namespace spikegraph::cuda_backend {

struct DeviceNeuronBiases : NeuronBiases {
    DeviceBuffer<float> device;
    bool changed = false;  // the host copy changed in place (an optimiser step)

    const float* device_data() const { return per_neuron() ? device.data() : nullptr; }

    // Checks and uploads new biases, then keeps them: a failure leaves both copies as they were.
    void set(std::span<const float> biases, std::size_t neurons, std::string_view population, cudaStream_t stream) {
        std::vector<float> checked = NeuronBiases::checked(biases, neurons, population);
        const std::string what = "the biases of population '" + std::string(population) + "'";
        DeviceBuffer<float> buffer(neurons, what);
        buffer.upload(std::span<const float>(checked), what, stream);
        device = std::move(buffer);
        values = std::move(checked);
        changed = false;
    }
    // After an optimiser changed the host copy in place.
    void upload_if_changed(std::string_view population, cudaStream_t stream) {
        if (!changed) return;
        device.upload(std::span<const float>(values), "the biases of population '" + std::string(population) + "'", stream);
        changed = false;
    }
};

// set_biases<P>() of a CUDA simulator whose population buffers have a DeviceNeuronBiases `bias`.
template <class Net, std::size_t P, class Populations>
void set_device_biases(Populations& populations, std::span<const float> biases, cudaStream_t stream) {
    require_neuron_bias<Net, P>();
    using Pop = typename Net::template population_type<P>;
    std::get<P>(populations).bias.set(biases, Pop::size, name_view<Pop::name>, stream);
}

}  // namespace spikegraph::cuda_backend
