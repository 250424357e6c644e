// The CUDA EventProp simulator against the CPU one (label gpu; the Catch2
// main skips loudly where there is no CUDA device). The same file runs on the
// host emulation of CUDA (tests/cuda_event_prop_emulated_test.cpp) on every
// machine.
//
// Per lane, both simulators run the same per-neuron functions
// (event_prop_neuron.hpp) in the same order of float operations, and this
// file is compiled with --fmad=false -ftz=true (spikegraph::cuda). On the
// emulation, which uses the host's expf, spikes, readouts and every adjoint
// are therefore bit for bit the CPU's, and so are the gradients of a single
// lane; over several lanes the CUDA simulator sums dL/dw with atomics in
// another order, so gradients agree to float rounding. On a GPU the spikes
// must still match exactly (the arrival factors use detail::exp_polynomial on
// both sides); the device's expf (within 2 ulp of the host's) enters only
// AvgVarExpWeight's per-step weight, so there readouts and gradients are
// compared to a tolerance.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <random>
#include <span>
#include <string>
#include <vector>

#include <spikegraph/spikegraph.hpp>

#include "training_comparison.hpp"

namespace sg = spikegraph;
using training_comparison::require_close;

namespace {

#if defined(SPIKEGRAPH_CUDA_HOST_EMULATION)
constexpr bool exact = true;
#else
constexpr bool exact = false;
#endif

constexpr sg::LeakyIntegrateFire lif{.v_thresh = 1.0f, .tau_mem = 20.0f, .relative_reset = false,
                                     .integrate_during_refrac = false, .scale_i = true};
constexpr sg::Exponential synapse{.tau = 5.0f, .scale_i = true};

// Yin-Yang as the quickstart: SpikeInput, a LIF layer, a first-spike-time LIF output.
constexpr auto ttfs_net = sg::sequential(
    sg::InputLayer<5>(sg::SpikeInput{}), sg::Layer<40, "hidden">(lif, sg::Dense{sg::Normal{1.5f, 0.78f}}, synapse),
    sg::Layer<3, "output">(lif, sg::Dense{sg::Normal{0.93f, 0.1f}}, synapse, sg::FirstSpikeTime{}));

// Poisson input; a hidden layer of 300 (two update blocks, two target
// chunks), recurrent through a sparse connection, with a one-to-one
// connection from a second LIF population; an LI output.
constexpr auto poisson = sg::population<"input", 50>(sg::PoissonInput{});
constexpr auto hidden = sg::population<"hidden", 300>(sg::LeakyIntegrateFire{.tau_mem = 20.0f});
constexpr auto mirror = sg::population<"mirror", 300>(sg::LeakyIntegrateFire{.v_thresh = 0.5f, .tau_mem = 10.0f});
template <class Readout>
constexpr auto output = sg::population<"output", 4>(sg::LeakyIntegrate{.tau_mem = 20.0f}, Readout{});
template <class Readout>
constexpr auto recurrent_net = sg::network(
    poisson >> sg::Dense{sg::Normal{0.25f, 0.2f}} >> sg::Exponential{5.0f} >> hidden,
    hidden >> sg::FixedProbability{0.1f, sg::Normal{0.0f, 0.3f}} >> sg::Exponential{5.0f} >> hidden,
    hidden >> sg::OneToOne{sg::Normal{1.0f, 0.3f}} >> sg::Exponential{10.0f} >> mirror,
    poisson >> sg::FixedProbability{0.2f, sg::Normal{0.2f, 0.2f}} >> sg::Exponential{3.0f} >> mirror,
    mirror >> sg::Dense{sg::Normal{0.0f, 0.2f}} >> sg::Exponential{5.0f} >> output<Readout>,
    hidden >> sg::Dense{sg::Normal{0.0f, 0.1f}} >> sg::Exponential{5.0f} >> output<Readout>);

struct Outcome : training_comparison::Observed {
    std::vector<float> readout;
    std::vector<std::uint32_t> hidden_counts;
    std::size_t stored = 0;
};

template <class Sim>
std::vector<float> output_gradient(const Sim& sim, std::size_t outputs) {
    std::mt19937 random(7);
    std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
    std::vector<float> gradient(sim.active_lanes() * outputs);
    for (auto& g : gradient) g = uniform(random);
    return gradient;
}

// One forward and backward pass of `batches` batches through a simulator of
// backend B, gradients summed; what both backends must agree on.
template <class B, class Net, class Data>
Outcome run(const Net& net, const Data& data, std::size_t batch_size, std::size_t batches, int steps, float dt,
            sg::SpikeRegularisation regularisation = {}) {
    using Sim = typename B::template EventPropSimulator<Net>;
    constexpr std::size_t out = std::size_t(Net::first_readout());
    constexpr std::size_t outputs = Net::population_sizes[out];
    Sim sim(net, sg::SimulationOptions{dt, steps, batch_size, 11, 2});
    sim.set_regularisation(regularisation);
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
        sim.template backward<out>(output_gradient(sim, outputs));
        o.template add_batch<Net>(sim, lanes);
        const auto counts = sim.template neuron_spike_counts<1>();
        o.hidden_counts.insert(o.hidden_counts.end(), counts.begin(), counts.end());
        o.stored += sim.stored_spikes();
    }
    o.template take_gradients<Net>(sim);
    return o;
}

void require_equal(const Outcome& cuda, const Outcome& cpu, bool gradients_exact) {
    training_comparison::require_equal(cuda, cpu, exact && gradients_exact, exact ? 1e-5f : 1e-3f);
    CHECK(cuda.hidden_counts == cpu.hidden_counts);
    CHECK(cuda.stored == cpu.stored);
    if (exact) CHECK(cuda.readout == cpu.readout);
    else require_close(cuda.readout, cpu.readout, 1e-5f, "readouts");
    for (const auto& gradient : cpu.gradients)
        CHECK(std::any_of(gradient.begin(), gradient.end(), [](float g) { return g != 0.0f; }));
}

sg::SpikeDataset yin_yang(std::size_t count) {
    const auto splits = sg::datasets::yin_yang_splits(count, 10, 10);
    return sg::datasets::encode_yin_yang(splits.train, sg::datasets::YinYangEncoding{});
}

sg::ValueDataset rates(std::size_t count) {
    return training_comparison::poisson_rates(count, 50, 0.1f, 1);  // up to 100 Hz
}

}  // namespace

TEST_CASE("CUDA EventProp equals the CPU simulator: first-spike-time output, spike input", "[cuda][event_prop]") {
    const auto data = yin_yang(12);
    SECTION("one lane: gradients bit for bit") {
        const Outcome cpu = run<sg::cpu>(ttfs_net, data, 1, 3, 300, 0.1f);
        const Outcome cuda = run<sg::cuda>(ttfs_net, data, 1, 3, 300, 0.1f);
        require_equal(cuda, cpu, true);
    }
    SECTION("batches of 5, the last one partial") {
        const Outcome cpu = run<sg::cpu>(ttfs_net, data, 5, 3, 300, 0.1f);
        const Outcome cuda = run<sg::cuda>(ttfs_net, data, 5, 3, 300, 0.1f);
        require_equal(cuda, cpu, false);
    }
}

TEST_CASE("CUDA EventProp equals the CPU simulator: recurrent, sparse, one-to-one, Poisson input", "[cuda][event_prop]") {
    const auto data = rates(6);
    const sg::SpikeRegularisation regularisation{1e-3f, 1e-4f, 3.0f};
    SECTION("AvgVarExpWeight, one lane") {
        const Outcome cpu = run<sg::cpu>(recurrent_net<sg::AvgVarExpWeight<>>, data, 1, 2, 60, 1.0f, regularisation);
        const Outcome cuda = run<sg::cuda>(recurrent_net<sg::AvgVarExpWeight<>>, data, 1, 2, 60, 1.0f, regularisation);
        require_equal(cuda, cpu, true);
    }
    SECTION("MaxVar, 3 lanes") {
        const Outcome cpu = run<sg::cpu>(recurrent_net<sg::MaxVar<>>, data, 3, 2, 60, 1.0f, regularisation);
        const Outcome cuda = run<sg::cuda>(recurrent_net<sg::MaxVar<>>, data, 3, 2, 60, 1.0f, regularisation);
        require_equal(cuda, cpu, false);
    }
    SECTION("SumVar, 2 lanes, no regularisation") {
        const Outcome cpu = run<sg::cpu>(recurrent_net<sg::SumVar<>>, data, 2, 1, 60, 1.0f);
        const Outcome cuda = run<sg::cuda>(recurrent_net<sg::SumVar<>>, data, 2, 1, 60, 1.0f);
        require_equal(cuda, cpu, false);
    }
}

namespace {

// Strong input: the hidden layer fires far above the first guess of one spike
// in 32 neuron-steps, so the records grow and the batch runs again.
constexpr auto busy = sg::network(
    poisson >> sg::Dense{sg::Normal{2.0f, 0.2f}} >> sg::Exponential{5.0f} >> hidden,
    hidden >> sg::Dense{sg::Normal{0.0f, 0.1f}} >> sg::Exponential{5.0f} >> output<sg::SumVar<>>);

template <class Net>
void check_record_growth(const Net& net) {
    const auto data = rates(2);
    sg::cuda::EventPropSimulator<Net> probe(net, sg::SimulationOptions{1.0f, 40, 2, 11, 1});
    const std::uint32_t first_guess = probe.template record_capacity<1>();
    const Outcome cpu = run<sg::cpu>(net, data, 2, 1, 40, 1.0f);
    const Outcome cuda = run<sg::cuda>(net, data, 2, 1, 40, 1.0f);
    require_equal(cuda, cpu, false);
    CHECK(cpu.stored > 2 * first_guess);
    probe.template set_input<0>(sg::make_input_batch(data, 0, 2));
    probe.run();
    CHECK(probe.template record_capacity<1>() > first_guess);
}

}  // namespace

TEST_CASE("CUDA EventProp records grow when a batch fires more than they hold", "[cuda][event_prop]") {
    check_record_growth(busy);
}

namespace {
sg::EventPropCompiler ttfs_compiler() {
    return sg::EventPropCompiler{.example_timesteps = 300, .optimiser = sg::Adam{.lr = 0.003f}, .batch_size = 8, .dt = 0.1f,
                                 .num_threads = 2, .reg_lambda_upper = 1e-3f, .reg_nu_upper = 2.0f, .ttfs_alpha = 0.1f,
                                 .verbose = false};
}
}  // namespace

TEST_CASE("EventPropCompiler trains on the cuda backend as on the cpu", "[cuda][event_prop][training]") {
    const auto data = yin_yang(16);
    auto cpu = ttfs_compiler().compile<sg::cpu>(ttfs_net);
    auto cuda = ttfs_compiler().compile<sg::cuda>(ttfs_net);
    const sg::History cpu_history = cpu.train(data, {.epochs = 2});
    const sg::History cuda_history = cuda.train(data, {.epochs = 2});
    REQUIRE(cuda_history.epochs.size() == 2);
    for (std::size_t epoch = 0; epoch < 2; ++epoch)
        CHECK(cuda_history.epochs[epoch].at("loss") == Approx(cpu_history.epochs[epoch].at("loss")).epsilon(1e-3));
    // Adam normalises each step, so rounding differences of the summed
    // gradient move weights by far less than a learning rate.
    require_close(cuda.simulator().connection_storage<0>().weights, cpu.simulator().connection_storage<0>().weights, 1e-3f,
                  "hidden weights after training");
    require_close(cuda.simulator().connection_storage<1>().weights, cpu.simulator().connection_storage<1>().weights, 1e-3f,
                  "output weights after training");
    const auto cpu_metrics = cpu.evaluate(data);
    const auto cuda_metrics = cuda.evaluate(data);
    CHECK(cuda_metrics.at("sparse_categorical_accuracy") == Approx(cpu_metrics.at("sparse_categorical_accuracy")).margin(0.07));
}
