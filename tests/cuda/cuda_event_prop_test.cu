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
// another order, so gradients agree to float rounding. On a GPU the device's
// expf (within 2 ulp of the host's) enters every spike's arrival factors, so
// there readouts and gradients are compared to a tolerance.
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

namespace sg = spikegraph;

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

struct Outcome {
    std::vector<float> readout;
    std::vector<std::vector<float>> gradients;
    std::vector<std::vector<std::int32_t>> steps;
    std::vector<std::vector<std::uint32_t>> ids;
    std::vector<std::uint32_t> hidden_counts;
    std::vector<std::uint64_t> totals;
    std::uint64_t events = 0;
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
        for (std::size_t p = 0; p < Net::num_populations; ++p) {
            const auto& recorded = sim.recorded_spikes(p);
            for (std::size_t lane = 0; lane < lanes; ++lane) {
                o.steps.push_back(recorded.steps[lane]);
                o.ids.push_back(recorded.ids[lane]);
            }
        }
        const auto counts = sim.template neuron_spike_counts<1>();
        o.hidden_counts.insert(o.hidden_counts.end(), counts.begin(), counts.end());
        [&]<std::size_t... P>(std::index_sequence<P...>) {
            (([&] {
                 const auto totals = sim.template spike_totals<P>();
                 o.totals.insert(o.totals.end(), totals.begin(), totals.end());
             }()),
             ...);
        }(std::make_index_sequence<Net::num_populations>{});
        o.events += sim.synaptic_events();
        o.stored += sim.stored_spikes();
    }
    [&]<std::size_t... C>(std::index_sequence<C...>) {
        (o.gradients.emplace_back(sim.template gradient<C>().begin(), sim.template gradient<C>().end()), ...);
    }(std::make_index_sequence<Net::num_connections>{});
    return o;
}

void require_close(const std::vector<float>& cuda, const std::vector<float>& cpu, float relative, const std::string& what) {
    INFO(what);
    REQUIRE(cuda.size() == cpu.size());
    float scale = 0.0f;
    for (float v : cpu)
        if (std::isfinite(v)) scale = std::max(scale, std::fabs(v));
    std::size_t worst = 0;
    float worst_error = 0.0f;
    for (std::size_t i = 0; i < cpu.size(); ++i) {
        const float error = std::fabs(cuda[i] - cpu[i]);
        if (error > worst_error || (std::isnan(error) && !(std::isnan(cuda[i]) && std::isnan(cpu[i])))) {
            worst_error = std::isnan(error) ? INFINITY : error;
            worst = i;
        }
    }
    INFO("largest difference " << worst_error << " at " << worst << " (cuda " << cuda[worst] << ", cpu " << cpu[worst]
                               << "), scale " << scale);
    CHECK(worst_error <= relative * scale);
}

void require_equal(const Outcome& cuda, const Outcome& cpu, bool gradients_exact) {
    // Forward: spike for spike, statistics, stored records.
    REQUIRE(cuda.steps == cpu.steps);
    REQUIRE(cuda.ids == cpu.ids);
    CHECK(cuda.hidden_counts == cpu.hidden_counts);
    CHECK(cuda.totals == cpu.totals);
    CHECK(cuda.events == cpu.events);
    CHECK(cuda.stored == cpu.stored);
    std::size_t spikes = 0;
    for (const auto& ids : cpu.ids) spikes += ids.size();
    CHECK(spikes > 0);
    if (exact) CHECK(cuda.readout == cpu.readout);
    else require_close(cuda.readout, cpu.readout, 1e-5f, "readouts");
    REQUIRE(cuda.gradients.size() == cpu.gradients.size());
    for (std::size_t c = 0; c < cpu.gradients.size(); ++c) {
        bool nonzero = false;
        for (float g : cpu.gradients[c]) nonzero = nonzero || g != 0.0f;
        CHECK(nonzero);
        if (exact && gradients_exact) CHECK(cuda.gradients[c] == cpu.gradients[c]);
        else require_close(cuda.gradients[c], cpu.gradients[c], exact ? 1e-5f : 1e-3f, "gradient of connection " + std::to_string(c));
    }
}

sg::SpikeDataset yin_yang(std::size_t count) {
    const auto splits = sg::datasets::yin_yang_splits(count, 10, 10);
    return sg::datasets::encode_yin_yang(splits.train, sg::datasets::YinYangEncoding{});
}

sg::ValueDataset rates(std::size_t count) {
    sg::ValueDataset data;
    data.num_inputs = 50;
    std::mt19937 random(3);
    std::uniform_real_distribution<float> rate(0.0f, 0.1f);  // up to 100 Hz
    data.values.resize(count * data.num_inputs);
    for (auto& v : data.values) v = rate(random);
    data.labels.assign(count, 0);
    return data;
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
