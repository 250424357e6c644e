// SpikeRecorder and VarRecorder: subsets, analytic traces, dataset order
// across batches, and recording switched off again afterwards.
#include <catch2/catch.hpp>

#include <spikegraph/spikegraph.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <random>
#include <vector>

namespace sg = spikegraph;
using Catch::Matchers::Contains;

namespace {

constexpr int kSteps = 40;
constexpr std::size_t kExamples = 7;

constexpr auto input = sg::population<"input", 20>(sg::SpikeInput{});
constexpr auto hidden = sg::population<"hidden", 30>(sg::LeakyIntegrateFire{.tau_mem = 20.0f});
constexpr auto output = sg::population<"output", 3>(sg::LeakyIntegrate{.tau_mem = 20.0f}, sg::AvgVar{});
constexpr auto net = sg::network(input >> sg::Dense{sg::Normal{0.03f, 0.1f}} >> sg::Exponential{5.0f} >> hidden,
                                 hidden >> sg::Dense{sg::Normal{0.0f, 0.5f}} >> sg::Exponential{5.0f} >> output);

sg::InferenceCompiler compiler(std::size_t batch_size, int steps = kSteps) {
    return sg::InferenceCompiler{.example_timesteps = steps, .batch_size = batch_size, .seed = 3, .num_threads = 2,
                                 .verbose = false};
}

// Events at whole-ms times, at most one per neuron and ms, with a different
// count per example: the input population replays them exactly, one step each.
sg::SpikeDataset make_data() {
    std::mt19937 gen(17);
    sg::SpikeDataset data;
    data.num_inputs = 20;
    data.num_classes = 3;
    for (std::size_t e = 0; e < kExamples; ++e) {
        std::bernoulli_distribution fire(0.05 + 0.02 * double(e));
        std::vector<float> times;
        std::vector<std::uint32_t> ids;
        for (int t = 0; t < kSteps; ++t)
            for (std::uint32_t i = 0; i < 20; ++i)
                if (fire(gen)) {
                    times.push_back(float(t));
                    ids.push_back(i);
                }
        data.examples.push_back(sg::make_spike_events(times, ids, 20));
        data.labels.push_back(std::int32_t(e % 3));
    }
    return data;
}

}  // namespace

TEST_CASE("SpikeRecorder with neuron and example subsets records exactly that subset", "[recorders]") {
    const sg::SpikeDataset data = make_data();
    auto model = compiler(3).compile<sg::cpu>(net);
    sg::SpikeRecorder<"hidden"> all;
    sg::SpikeRecorder<"hidden"> subset;
    subset.neurons = {17, 3, 29, 5, 11};  // unsorted on purpose
    subset.examples = {6, 1, 4};
    (void)model.predict(data, all, subset);

    REQUIRE(all.recorded_examples.size() == kExamples);
    REQUIRE(subset.recorded_examples == std::vector<std::size_t>{1, 4, 6});
    REQUIRE(subset.spike_ids.size() == 3);
    REQUIRE(subset.spike_times.size() == 3);
    const std::vector<std::uint32_t> chosen{3, 5, 11, 17, 29};
    std::size_t kept = 0, total = 0;
    for (std::size_t r = 0; r < 3; ++r) {
        const std::size_t e = subset.recorded_examples[r];
        INFO("example " << e);
        std::vector<float> times;
        std::vector<std::uint32_t> ids;
        for (std::size_t s = 0; s < all.spike_ids[e].size(); ++s) {
            const std::uint32_t id = all.spike_ids[e][s];
            if (std::find(chosen.begin(), chosen.end(), id) == chosen.end()) continue;
            times.push_back(all.spike_times[e][s]);
            ids.push_back(id);
        }
        CHECK(subset.spike_ids[r] == ids);
        CHECK(subset.spike_times[r] == times);
        kept += ids.size();
        total += all.spike_ids[e].size();
    }
    // Not vacuous: the subset keeps some spikes and drops others.
    INFO("kept " << kept << " of " << total);
    CHECK(kept > 0);
    CHECK(kept < total);
}

TEST_CASE("recorders across several batches keep dataset order", "[recorders]") {
    const sg::SpikeDataset data = make_data();
    auto model = compiler(3).compile<sg::cpu>(net);  // batches of 3, 3, 1
    sg::SpikeRecorder<"input"> recorder;
    sg::VarRecorder<"output"> voltages;
    (void)model.predict(data, recorder, voltages);
    std::vector<std::size_t> order(kExamples);
    std::iota(order.begin(), order.end(), std::size_t{0});
    CHECK(recorder.recorded_examples == order);
    CHECK(voltages.recorded_examples == order);
    REQUIRE(recorder.spike_ids.size() == kExamples);
    for (std::size_t e = 0; e < kExamples; ++e) {
        INFO("example " << e);
        // Whole-ms events, one per neuron and step, are replayed at their own
        // time; within a step the recorded ids ascend, as make_spike_events sorts.
        CHECK(recorder.spike_times[e] == data.examples[e].times);
        CHECK(recorder.spike_ids[e] == data.examples[e].ids);
    }

    // The same traces as one batch of everything.
    auto single = compiler(kExamples).compile<sg::cpu>(net);
    sg::VarRecorder<"output"> single_voltages;
    (void)single.predict(data, single_voltages);
    CHECK(single_voltages.values == voltages.values);
    CHECK(voltages.num_neurons == 3);
    CHECK(voltages.num_steps == kSteps);
    REQUIRE(voltages.values.size() == kExamples);
    CHECK(voltages.values[0].size() == std::size_t(kSteps) * 3);
}

TEST_CASE("VarRecorder gives the analytic trace of a leaky integrator after one input spike", "[recorders]") {
    // One input neuron fires once; out_delta receives w through a Delta synapse,
    // out_exp through an Exponential synapse. With alpha = exp(-dt/tau_mem),
    // d = exp(-dt/tau_syn) and the spike in step s0 (felt from step s0 + 1):
    //   delta:       V(s0 + 1 + k) = w alpha^k
    //   exponential: V(s0 + 1 + k) = w (alpha^(k+1) - d^(k+1)) / (alpha - d)
    constexpr auto source = sg::population<"input", 1>(sg::SpikeInput{});
    constexpr auto out_delta = sg::population<"out_delta", 1>(sg::LeakyIntegrate{.tau_mem = 10.0f}, sg::SumVar{});
    constexpr auto out_exp = sg::population<"out_exp", 2>(sg::LeakyIntegrate{.tau_mem = 10.0f});
    constexpr float w = 0.5f;
    const auto trace_net = sg::network(source >> sg::Dense{sg::Constant{w}} >> out_delta,
                                       source >> sg::Dense{sg::Constant{w}} >> sg::Exponential{5.0f} >> out_exp);
    constexpr int steps = 30;
    auto model = compiler(2, steps).compile<sg::cpu>(trace_net);

    const std::vector<float> spike_times{2.0f, 7.0f, 0.0f};  // one example each, 2 batches
    sg::SpikeDataset data;
    data.num_inputs = 1;
    for (float t : spike_times) data.examples.push_back(sg::make_spike_events({t}, {0}, 1));

    sg::VarRecorder<"out_delta"> delta;
    sg::VarRecorder<"out_exp", "V"> exponential;
    exponential.neurons = {1};
    const sg::Predictions sums = model.predict(data, delta, exponential);

    const double alpha = std::exp(-1.0 / 10.0), d = std::exp(-1.0 / 5.0);
    REQUIRE(delta.values.size() == spike_times.size());
    REQUIRE(exponential.values.size() == spike_times.size());
    CHECK(exponential.num_neurons == 1);
    for (std::size_t e = 0; e < spike_times.size(); ++e) {
        const int s0 = int(spike_times[e]);
        REQUIRE(delta.values[e].size() == std::size_t(steps));
        REQUIRE(exponential.values[e].size() == std::size_t(steps));
        double sum = 0.0;
        for (int step = 0; step < steps; ++step) {
            INFO("example " << e << ", step " << step);
            const int k = step - s0 - 1;
            const double v_delta = k < 0 ? 0.0 : w * std::pow(alpha, k);
            const double v_exp = k < 0 ? 0.0 : w * (std::pow(alpha, k + 1) - std::pow(d, k + 1)) / (alpha - d);
            CHECK(delta.values[e][std::size_t(step)] == Approx(v_delta).epsilon(1e-5).margin(1e-7));
            CHECK(exponential.values[e][std::size_t(step)] == Approx(v_exp).epsilon(1e-5).margin(1e-7));
            sum += v_delta;
        }
        // The SumVar readout sums the same trace.
        CHECK(sums.example(e)[0] == Approx(sum).epsilon(1e-5));
    }
}

TEST_CASE("VarRecorder rejects a neuron outside the population", "[recorders]") {
    const sg::SpikeDataset data = make_data();
    auto model = compiler(4).compile<sg::cpu>(net);
    sg::VarRecorder<"hidden"> bad;
    bad.neurons = {2, 30};
    CHECK_THROWS_WITH(model.predict(data, bad), Contains("hidden") && Contains("30") && Contains("out of range"));
    CHECK_THROWS_AS(model.predict(data, bad), sg::InvalidArgument);
}

TEST_CASE("recording is off in a later evaluate without recorders", "[recorders]") {
    const sg::SpikeDataset data = make_data();
    auto model = compiler(3).compile<sg::cpu>(net);
    const sg::Predictions plain = model.predict(data);

    sg::SpikeRecorder<"hidden"> spikes;
    sg::VarRecorder<"hidden", "RefracTime"> refrac;
    sg::VarRecorder<"output"> voltages;
    const sg::Metrics recorded_metrics = model.evaluate(data, spikes, refrac, voltages);
    const sg::Predictions recorded = model.predict(data, spikes, refrac, voltages);
    CHECK(recorded.values == plain.values);  // recording does not change results
    REQUIRE(voltages.values.size() == kExamples);
    const auto saved_spikes = spikes.spike_ids;
    const auto saved_voltages = voltages.values;

    // A later run without recorders: same results, nothing recorded, no crash.
    const sg::Metrics later_metrics = model.evaluate(data);
    CHECK(later_metrics == recorded_metrics);
    CHECK(model.predict(data).values == plain.values);
    CHECK_THROWS_AS(model.simulator().recorded_variable(2, 0), sg::InvalidArgument);
    CHECK_THROWS_AS(model.simulator().recorded_variable(1, 1), sg::InvalidArgument);
    CHECK(spikes.spike_ids == saved_spikes);  // recorders not passed are left alone
    CHECK(voltages.values == saved_voltages);

    // Recording again afterwards gives the same recordings as before.
    sg::SpikeRecorder<"hidden"> again;
    sg::VarRecorder<"output"> again_voltages;
    (void)model.evaluate(data, again, again_voltages);
    CHECK(again.spike_ids == saved_spikes);
    CHECK(again_voltages.values == saved_voltages);
}
