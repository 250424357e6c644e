// The CUDA e-prop simulator against the CPU one (label gpu; the Catch2 main
// skips loudly where there is no CUDA device). The same file runs on the host
// emulation of CUDA (tests/cuda_eprop_emulated_test.cpp) on every machine.
//
// Both simulators run e-prop's per-neuron functions (eprop_neuron.hpp) in the
// same order of float operations, with no transcendental function in a
// step, and this file is compiled with --fmad=false -ftz=true
// (spikegraph::cuda). So spikes, readouts, losses and running rates must be
// identical, bit for bit. dL/dw is summed over steps and lanes with atomics on
// the GPU, in another order than the CPU's, so gradients agree to float rounding.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <spikegraph/spikegraph.hpp>

#include "training_comparison.hpp"

namespace sg = spikegraph;
using training_comparison::require_close;

namespace {

// Poisson input; recurrent ALIF through a sparse connection (two update
// blocks: 300 neurons); a feed-forward LIF population with a one-to-one
// input; an LI output reading both.
constexpr auto input = sg::population<"input", 300>(sg::PoissonInput{});
constexpr auto adaptive = sg::population<"alif", 300>(sg::AdaptiveLeakyIntegrateFire{.v_thresh = 0.6f, .tau_refrac = 2.0f});
constexpr auto plain = sg::population<"lif", 300>(sg::LeakyIntegrateFire{.v_thresh = 0.5f, .tau_refrac = 1.0f});
template <class Readout>
constexpr auto output = sg::population<"output", 5>(sg::LeakyIntegrate{.tau_mem = 20.0f}, Readout{});
template <class Readout>
constexpr auto net = sg::network(
    input >> sg::Dense{sg::Normal{0.05f, 0.05f}} >> sg::Delta{} >> adaptive,
    adaptive >> sg::FixedProbability{0.1f, sg::Normal{0.0f, 0.1f}} >> sg::Delta{} >> adaptive,
    input >> sg::OneToOne{sg::Normal{0.6f, 0.2f}} >> sg::Delta{} >> plain,
    adaptive >> sg::Dense{sg::Normal{0.0f, 0.3f}} >> sg::Delta{} >> output<Readout>,
    plain >> sg::FixedProbability{0.5f, sg::Normal{0.0f, 0.3f}} >> sg::Delta{} >> output<Readout>);

// Yin-Yang-like spike input: a SpikeInput population of 5 into LIF.
constexpr auto spike_input = sg::population<"input", 5>(sg::SpikeInput{});
constexpr auto hidden = sg::population<"hidden", 40>(sg::LeakyIntegrateFire{.v_thresh = 0.5f});
constexpr auto spike_net = sg::network(
    spike_input >> sg::Dense{sg::Normal{0.8f, 0.4f}} >> sg::Delta{} >> hidden,
    hidden >> sg::Dense{sg::Normal{0.0f, 0.2f}} >> sg::Delta{} >> hidden,
    hidden >> sg::Dense{sg::Normal{0.0f, 0.3f}} >> sg::Delta{} >> output<sg::AvgVar<>>);

struct Outcome : training_comparison::Observed {
    std::vector<float> readout;
    std::vector<double> losses;
    std::vector<float> rates;  // training_state after the last batch
    std::vector<float> bias_gradient;
};

template <class B, class Net, class Data>
Outcome run(const Net& network, const Data& data, std::size_t batch_size, std::size_t batches, int steps, const sg::Loss& loss) {
    using Sim = typename B::template EPropSimulator<Net>;
    constexpr std::size_t out = std::size_t(Net::first_readout());
    constexpr std::size_t outputs = Net::population_sizes[out];
    Sim sim(network, sg::SimulationOptions{1.0f, steps, batch_size, 13, 2});
    sim.set_regularisation(sg::RateRegularisation{.tau_reg = 50.0f, .c_reg = 0.01f, .f_target = 10.0f});
    std::vector<float> biases(outputs);
    for (std::size_t k = 0; k < outputs; ++k) biases[k] = 0.02f * float(k) - 0.03f;
    sim.template set_biases<out>(biases);  // per-neuron output biases enter the forward pass
    sim.train_output_bias();
    sim.zero_gradients();
    Outcome o;
    for (std::size_t p = 0; p < Net::num_populations; ++p) sim.record_spikes(p, true);
    for (std::size_t batch = 0; batch < batches; ++batch) {
        const std::size_t first = batch * batch_size;
        const std::size_t lanes = std::min(batch_size, data.size() - first);
        sim.template set_input<0>(sg::make_input_batch(data, first, lanes));
        sim.run();
        std::vector<float> readout(lanes * outputs);
        sim.template readout<out>(readout);
        o.readout.insert(o.readout.end(), readout.begin(), readout.end());
        const std::vector<std::int32_t> labels(data.labels.begin() + std::ptrdiff_t(first),
                                               data.labels.begin() + std::ptrdiff_t(first + lanes));
        o.losses.push_back(sim.learn(loss, labels, batch_size, true));
        o.template add_batch<Net>(sim, lanes);
    }
    o.template take_gradients<Net>(sim);
    for (const auto& [name, values] : sim.training_state()) o.rates.insert(o.rates.end(), values.begin(), values.end());
    o.bias_gradient.assign(sim.output_bias_gradient().begin(), sim.output_bias_gradient().end());
    return o;
}

void require_equal(const Outcome& cuda, const Outcome& cpu) {
    training_comparison::require_equal(cuda, cpu, false, 1e-5f);
    CHECK(cuda.readout == cpu.readout);
    CHECK(cuda.losses == cpu.losses);
    CHECK(cuda.rates == cpu.rates);
    // From the losses' errors on the host, in lane order: as exact as the readouts.
    REQUIRE(cpu.bias_gradient.size() == cuda.bias_gradient.size());
    CHECK(cuda.bias_gradient == cpu.bias_gradient);
    CHECK(std::any_of(cpu.bias_gradient.begin(), cpu.bias_gradient.end(), [](float g) { return g != 0.0f; }));
}

sg::ValueDataset rates(std::size_t count) {
    return training_comparison::poisson_rates(count, 300, 0.05f, 5);  // up to 50 Hz
}

sg::SpikeDataset yin_yang(std::size_t count) {
    const auto splits = sg::datasets::yin_yang_splits(count, 10, 10);
    sg::SpikeDataset data = sg::datasets::encode_yin_yang(splits.train, sg::datasets::YinYangEncoding{.scale = 40.0f});
    return data;
}

}  // namespace

TEST_CASE("CUDA e-prop equals the CPU simulator", "[cuda][eprop]") {
    const auto data = rates(7);
    SECTION("ALIF recurrent, LIF one-to-one, cross-entropy on AvgVar, batches of 3 (the last partial)") {
        const Outcome cpu = run<sg::cpu>(net<sg::AvgVar<>>, data, 3, 3, 60, sg::SparseCategoricalCrossentropy{});
        const Outcome cuda = run<sg::cuda>(net<sg::AvgVar<>>, data, 3, 3, 60, sg::SparseCategoricalCrossentropy{});
        require_equal(cuda, cpu);
    }
    SECTION("mean square error on SumVar, one lane") {
        const Outcome cpu = run<sg::cpu>(net<sg::SumVar<>>, data, 1, 2, 60, sg::MeanSquareError{});
        const Outcome cuda = run<sg::cuda>(net<sg::SumVar<>>, data, 1, 2, 60, sg::MeanSquareError{});
        require_equal(cuda, cpu);
    }
    SECTION("spike input") {
        const auto spikes = yin_yang(6);
        const Outcome cpu = run<sg::cpu>(spike_net, spikes, 4, 2, 50, sg::SparseCategoricalCrossentropy{});
        const Outcome cuda = run<sg::cuda>(spike_net, spikes, 4, 2, 50, sg::SparseCategoricalCrossentropy{});
        require_equal(cuda, cpu);
    }
}

namespace {
sg::EPropCompiler eprop_compiler() {
    return sg::EPropCompiler{.example_timesteps = 50, .optimiser = sg::Adam{.lr = 0.003f}, .batch_size = 4, .seed = 2,
                             .num_threads = 2, .verbose = false};
}
}  // namespace

TEST_CASE("EPropCompiler trains on the cuda backend as on the cpu; training state round-trips", "[cuda][eprop][training]") {
    const auto data = rates(12);
    auto cpu = eprop_compiler().compile<sg::cpu>(net<sg::AvgVar<>>);
    auto cuda = eprop_compiler().compile<sg::cuda>(net<sg::AvgVar<>>);
    const sg::History cpu_history = cpu.train(data, {.epochs = 2});
    const sg::History cuda_history = cuda.train(data, {.epochs = 2});
    for (std::size_t epoch = 0; epoch < 2; ++epoch)
        CHECK(cuda_history.epochs[epoch].at("loss") == Approx(cpu_history.epochs[epoch].at("loss")).epsilon(1e-4));
    require_close(cuda.simulator().connection_storage<0>().weights, cpu.simulator().connection_storage<0>().weights, 1e-4f,
                  "input weights after training");
    require_close(cuda.simulator().connection_storage<3>().weights, cpu.simulator().connection_storage<3>().weights, 1e-4f,
                  "output weights after training");
    REQUIRE(cuda.trains_output_bias());
    require_close(cuda.biases<"output">(), cpu.biases<"output">(), 1e-4f, "output biases after training");
    CHECK(cpu.biases<"output">() != std::vector<float>(5, 0.0f));

    auto state = cuda.simulator().training_state();
    REQUIRE(state.size() == 2);
    CHECK(state[0].first == "running-rate-alif");
    for (float& r : state[0].second) r = 0.25f;
    cuda.simulator().set_training_state(state[0].first, state[0].second);
    CHECK(cuda.simulator().training_state()[0].second == state[0].second);
    CHECK_THROWS_WITH(cuda.simulator().set_training_state("running-rate-alif", {1.0f}),
                      Catch::Contains("expected 1200 values"));
    CHECK_THROWS_WITH(cuda.simulator().set_training_state("running-rate-output", {}), Catch::Contains("no such array"));
}
