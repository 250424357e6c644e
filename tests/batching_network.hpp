#pragma once
// The batching test's spiking network, shared with the CUDA backend's
// equality test: a 3000-neuron layer spans two CPU neuron chunks
// (cpu_backend::neuron_chunk = 2048) and twelve CUDA update blocks, so it
// exercises chunked spike queues, dense post-chunks, sparse rows split by
// lower_bound, and two synapse models into one population.
#include <cstddef>

#include <spikegraph/spikegraph.hpp>

namespace batching_network {

namespace sg = spikegraph;

constexpr std::size_t kBig = 3000;
static_assert(kBig > sg::cpu_backend::neuron_chunk && kBig < 2 * sg::cpu_backend::neuron_chunk);

constexpr auto spike_input = sg::population<"input", 100>(sg::SpikeInput{});
constexpr auto big = sg::population<"big", kBig>(sg::LeakyIntegrateFire{.tau_mem = 20.0f});
constexpr auto small = sg::population<"small", 30>(sg::LeakyIntegrateFire{.tau_mem = 10.0f});
constexpr auto readout = sg::population<"output", 10>(sg::LeakyIntegrate{.tau_mem = 20.0f}, sg::AvgVar{});

constexpr auto spike_net = sg::network(
    spike_input >> sg::Dense{sg::Normal{-0.002f, 0.02f}} >> sg::Exponential{5.0f} >> big,
    big >> sg::FixedProbability{0.01f, sg::Normal{0.0f, 0.15f}} >> sg::Exponential{5.0f} >> big,
    big >> sg::FixedProbability{0.02f, sg::Normal{0.04f, 0.1f}} >> small,
    big >> sg::Dense{sg::Normal{0.0f, 0.02f}} >> sg::Exponential{5.0f} >> readout,
    small >> sg::Dense{sg::Normal{0.0f, 0.3f}} >> readout);

}  // namespace batching_network
