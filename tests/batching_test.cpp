// Batching and threading must not change results: every example is simulated
// by the same per-lane arithmetic whatever batch or lane it lands in and
// whichever parallel mode run() picks (lane-parallel when there are at least
// as many active lanes as threads, chunk-parallel otherwise).
#include <catch2/catch.hpp>

#include <spikegraph/spikegraph.hpp>

#include "batching_network.hpp"

#include <cstddef>
#include <cstdint>
#include <random>
#include <type_traits>
#include <vector>

namespace sg = spikegraph;

namespace {

constexpr int kSteps = 25;
constexpr std::size_t kExamples = 5;

using namespace batching_network;

constexpr auto poisson_input = sg::population<"input", 64>(sg::PoissonInput{});
constexpr auto poisson_net = sg::network(
    poisson_input >> sg::Dense{sg::Normal{0.05f, 0.05f}} >> sg::Exponential{5.0f} >> small,
    small >> sg::Dense{sg::Normal{0.0f, 0.3f}} >> sg::Exponential{5.0f} >> readout);

struct Outcome {
    std::vector<float> predictions;
    std::vector<std::size_t> input_examples, hidden_examples;
    std::vector<std::vector<float>> input_times, hidden_times;
    std::vector<std::vector<std::uint32_t>> input_ids, hidden_ids;
};

// A non-template function: GCC 12 crashes on this designated initialiser inside a template.
sg::InferenceCompiler compiler(std::size_t batch_size, unsigned threads) {
    return sg::InferenceCompiler{.example_timesteps = kSteps, .batch_size = batch_size, .seed = 42,
                                 .num_threads = threads, .verbose = false};
}

template <sg::FixedString Hidden, class Net, class Dataset>
Outcome simulate(const Net& net, const Dataset& data, std::size_t batch_size, unsigned threads) {
    auto model = compiler(batch_size, threads).compile<sg::cpu>(net);
    sg::SpikeRecorder<"input"> input;
    sg::SpikeRecorder<Hidden> hidden;
    Outcome out;
    out.predictions = model.predict(data, input, hidden).values;
    out.input_examples = input.recorded_examples;
    out.input_times = input.spike_times;
    out.input_ids = input.spike_ids;
    out.hidden_examples = hidden.recorded_examples;
    out.hidden_times = hidden.spike_times;
    out.hidden_ids = hidden.spike_ids;
    return out;
}

void check_same(const Outcome& got, const Outcome& expected) {
    REQUIRE(got.predictions.size() == expected.predictions.size());
    for (std::size_t i = 0; i < got.predictions.size(); ++i) {
        INFO("prediction value " << i);
        CHECK(got.predictions[i] == expected.predictions[i]);  // bit-for-bit
    }
    CHECK(got.input_examples == expected.input_examples);
    CHECK(got.hidden_examples == expected.hidden_examples);
    REQUIRE(got.hidden_ids.size() == expected.hidden_ids.size());
    for (std::size_t e = 0; e < got.hidden_ids.size(); ++e) {
        INFO("example " << e);
        CHECK(got.input_ids[e] == expected.input_ids[e]);
        CHECK(got.input_times[e] == expected.input_times[e]);
        CHECK(got.hidden_ids[e] == expected.hidden_ids[e]);
        CHECK(got.hidden_times[e] == expected.hidden_times[e]);
    }
}

sg::SpikeDataset make_spike_data() {
    std::mt19937 gen(5);
    std::uniform_real_distribution<float> time(0.0f, float(kSteps - 3));
    sg::SpikeDataset data;
    data.num_inputs = 100;
    for (std::size_t e = 0; e < kExamples; ++e) {
        // Different activity per example, so a lane mix-up changes results.
        const std::size_t count = 150 + 60 * e;
        std::vector<float> times;
        std::vector<std::uint32_t> ids;
        for (std::size_t s = 0; s < count; ++s) {
            times.push_back(time(gen));
            ids.push_back(std::uint32_t(gen() % 100));
        }
        data.examples.push_back(sg::make_spike_events(times, ids, 100));
    }
    return data;
}

sg::ValueDataset make_rate_data(std::size_t examples) {
    sg::ValueDataset data;
    data.num_inputs = 64;
    for (std::size_t e = 0; e < examples; ++e)
        for (std::size_t i = 0; i < 64; ++i) data.values.push_back(0.02f + 0.002f * float((i + 7 * e) % 64));
    return data;
}

}  // namespace

TEST_CASE("a batch of 4 with a partial last batch equals runs of batch size 1, for 1, 2 and 3 threads",
          "[batching]") {
    const sg::SpikeDataset data = make_spike_data();
    const Outcome reference = simulate<"big">(spike_net, data, 1, 1);

    // The reference run is not trivial: the big layer fires in both of its
    // chunks and the readouts differ between examples.
    REQUIRE(reference.hidden_ids.size() == kExamples);
    std::size_t low = 0, high = 0;
    for (const auto& ids : reference.hidden_ids)
        for (std::uint32_t id : ids) (id < sg::cpu_backend::neuron_chunk ? low : high) += 1;
    INFO("big-layer spikes in chunk 0: " << low << ", chunk 1: " << high);
    CHECK(low > 50);
    CHECK(high > 50);
    CHECK(low + high < kExamples * kBig * kSteps / 4);
    CHECK(reference.predictions.size() == kExamples * 10);
    CHECK(std::vector<float>(reference.predictions.begin(), reference.predictions.begin() + 10) !=
          std::vector<float>(reference.predictions.begin() + 10, reference.predictions.begin() + 20));

    for (unsigned threads : {1u, 2u, 3u}) {
        for (std::size_t batch_size : {std::size_t{1}, std::size_t{4}, std::size_t{kExamples}}) {
            if (threads == 1 && batch_size == 1) continue;
            INFO("threads " << threads << ", batch_size " << batch_size);
            check_same(simulate<"big">(spike_net, data, batch_size, threads), reference);
        }
    }
}

TEST_CASE("the small layer fed by sparse rows split over two pre chunks also matches", "[batching]") {
    // big -> small is sparse with post size < one chunk but pre size > one
    // chunk: spikes of both pre chunks reach it. Recorded here with 3 threads.
    const sg::SpikeDataset data = make_spike_data();
    const Outcome reference = simulate<"small">(spike_net, data, 1, 1);
    std::size_t spikes = 0;
    for (const auto& ids : reference.hidden_ids) spikes += ids.size();
    CHECK(spikes > 100);
    check_same(simulate<"small">(spike_net, data, 4, 3), reference);
    check_same(simulate<"small">(spike_net, data, 2, 2), reference);
}

TEST_CASE("Poisson input spikes of an example do not depend on batch size, lane or threads", "[batching]") {
    const sg::ValueDataset data = make_rate_data(kExamples);
    const Outcome reference = simulate<"small">(poisson_net, data, 1, 1);
    std::size_t input_spikes = 0;
    for (const auto& ids : reference.input_ids) input_spikes += ids.size();
    CHECK(input_spikes > 100);

    for (unsigned threads : {1u, 2u, 3u}) {
        for (std::size_t batch_size : {std::size_t{1}, std::size_t{3}, std::size_t{4}, std::size_t{kExamples}}) {
            if (threads == 1 && batch_size == 1) continue;
            INFO("threads " << threads << ", batch_size " << batch_size);
            check_same(simulate<"small">(poisson_net, data, batch_size, threads), reference);
        }
    }
}

TEST_CASE("examples with equal rates get different Poisson spikes (keyed by example index)", "[batching]") {
    sg::ValueDataset data;
    data.num_inputs = 64;
    data.values.assign(3 * 64, 0.1f);
    const Outcome out = simulate<"small">(poisson_net, data, 3, 2);
    REQUIRE(out.input_ids.size() == 3);
    CHECK(out.input_ids[0].size() > 0);
    CHECK((out.input_ids[0] != out.input_ids[1] || out.input_times[0] != out.input_times[1]));
    CHECK((out.input_ids[1] != out.input_ids[2] || out.input_times[1] != out.input_times[2]));
}

TEST_CASE("synaptic events and spike totals do not depend on the thread count", "[batching][threads]") {
    // One lane and three threads: the chunk-parallel mode, where chunks of the
    // same lane add to its statistics from different threads at once.
    const auto data = make_spike_data();
    using Net = std::remove_cvref_t<decltype(spike_net)>;
    constexpr std::size_t hidden = std::size_t(Net::population_index(sg::name_view<"big">));
    auto statistics = [&](unsigned threads) {
        auto model = compiler(1, threads).compile<sg::cpu>(spike_net);
        auto& sim = model.simulator();
        std::vector<std::uint64_t> result;
        for (int repeat = 0; repeat < 4; ++repeat)
            for (std::size_t e = 0; e < data.size(); ++e) {
                sim.set_input<0>(sg::make_input_batch(data, e, 1));
                sim.run();
                result.push_back(sim.synaptic_events());
                result.push_back(sim.spike_totals<hidden>()[0]);
            }
        return result;
    };
    const auto reference = statistics(1);
    CHECK(statistics(3) == reference);
    CHECK(statistics(2) == reference);
}
