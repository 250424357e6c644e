// End-to-end evaluate/predict on tiny networks with hand-set weights whose
// outputs are known analytically: input neuron k drives only output neuron k,
// strongly enough that every input spike causes exactly one output spike.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include <spikegraph/spikegraph.hpp>

namespace sg = spikegraph;

namespace {

constexpr int timesteps = 20;  // dt = 1 ms
constexpr float strong = 2.0f;  // > v_thresh = 1: one input spike -> one output spike

// Absolute reset to 0, so each input spike gives exactly one output spike one
// step later (Delta synapse) and nothing in between.
constexpr sg::LeakyIntegrateFire lif{.v_thresh = 1.0f, .tau_mem = 20.0f, .relative_reset = false};

// Weights [pre][post] of `size` x `size` with `strong` on pre k -> post (k + shift) % size.
std::vector<float> mapping(std::size_t size, std::size_t shift = 0) {
    std::vector<float> w(size * size, 0.0f);
    for (std::size_t k = 0; k < size; ++k) w[k * size + (k + shift) % size] = strong;
    return w;
}

auto count_network() {
    const auto input = sg::population<"input", 3>(sg::SpikeInput{});
    const auto output = sg::population<"output", 3>(lif, sg::SpikeCount{});
    return sg::network(input >> sg::Dense{sg::FromArray{mapping(3)}} >> sg::Delta{} >> output);
}

// Example e: label k_e, and input neuron k_e spikes n_e = 1 + e % 3 times, at 1, 4, 7 ms.
struct Expected {
    sg::SpikeDataset data;
    std::vector<std::vector<std::int32_t>> spike_steps;  // per example, the input spike steps
};

std::int32_t label_of(std::size_t e) { return std::int32_t((2 * e + e / 3) % 3); }
std::size_t spikes_of(std::size_t e) { return 1 + e % 3; }

Expected make_data(std::size_t n) {
    Expected out;
    out.data.num_inputs = 3;
    out.data.num_classes = 3;
    for (std::size_t e = 0; e < n; ++e) {
        std::vector<float> times;
        std::vector<std::uint32_t> ids;
        std::vector<std::int32_t> steps;
        for (std::size_t s = 0; s < spikes_of(e); ++s) {
            times.push_back(float(1 + 3 * s));
            ids.push_back(std::uint32_t(label_of(e)));
            steps.push_back(std::int32_t(1 + 3 * s));
        }
        out.data.examples.push_back(sg::make_spike_events(times, ids, 3));
        out.data.labels.push_back(label_of(e));
        out.spike_steps.push_back(steps);
    }
    return out;
}

// Output counts: n_e at the label, 0 elsewhere.
std::vector<float> expected_counts(std::size_t n) {
    std::vector<float> v(n * 3, 0.0f);
    for (std::size_t e = 0; e < n; ++e) v[e * 3 + std::size_t(label_of(e))] = float(spikes_of(e));
    return v;
}

}  // namespace

TEST_CASE("evaluate: accuracy is exactly 1 with the right labels and 0 with permuted ones", "[inference]") {
    const auto net = count_network();
    auto model = sg::InferenceCompiler{.example_timesteps = timesteps, .batch_size = 4, .verbose = false}
                     .compile<sg::cpu>(net);
    const auto data = make_data(12).data;

    const sg::Metrics right = model.evaluate(data);
    REQUIRE(right.count("sparse_categorical_accuracy") == 1);
    CHECK(right.at("sparse_categorical_accuracy") == 1.0);

    sg::SpikeDataset permuted = data;
    for (auto& label : permuted.labels) label = (label + 1) % 3;
    CHECK(model.evaluate(permuted).at("sparse_categorical_accuracy") == 0.0);
}

TEST_CASE("evaluate: metric names accuracy and mean_square_error", "[inference]") {
    const auto net = count_network();
    const std::size_t n = 9;
    const auto data = make_data(n).data;
    auto model = sg::InferenceCompiler{.example_timesteps = timesteps,
                                       .batch_size = 4,
                                       .metrics = {"accuracy", "mean_square_error"},
                                       .verbose = false}
                     .compile<sg::cpu>(net);
    const sg::Metrics m = model.evaluate(data);
    REQUIRE(m.size() == 2);
    CHECK(m.at("accuracy") == 1.0);
    // Output n_e at the label (target 1), 0 elsewhere (target 0): MSE = sum_e (n_e - 1)^2 / (3 N).
    double sum = 0.0;
    for (std::size_t e = 0; e < n; ++e) sum += (double(spikes_of(e)) - 1.0) * (double(spikes_of(e)) - 1.0);
    CHECK(m.at("mean_square_error") == Approx(sum / (3.0 * n)).epsilon(1e-12));

    auto short_names = sg::InferenceCompiler{.example_timesteps = timesteps, .metrics = {"mse"}, .verbose = false}
                           .compile<sg::cpu>(net);
    CHECK(short_names.evaluate(data).at("mse") == Approx(sum / (3.0 * n)).epsilon(1e-12));

    CHECK_THROWS_AS(
        (sg::InferenceCompiler{.example_timesteps = timesteps, .metrics = {"top5"}}.compile<sg::cpu>(net)),
        sg::InvalidArgument);
}

TEST_CASE("predict: readouts and classes, full and partial batches", "[inference]") {
    const auto net = count_network();
    const std::size_t n = 7;
    const auto data = make_data(n).data;
    const std::vector<float> expected = expected_counts(n);

    // 7 examples in batches of 3 (3 + 3 + 1), of 1, and in one batch larger than the data.
    for (std::size_t batch : {std::size_t(3), std::size_t(1), std::size_t(16)}) {
        INFO("batch size " << batch);
        auto model = sg::InferenceCompiler{.example_timesteps = timesteps, .batch_size = batch, .verbose = false}
                         .compile<sg::cpu>(net);
        const sg::Predictions p = model.predict(data);
        REQUIRE(p.num_outputs == 3);
        REQUIRE(p.size() == n);
        CHECK(p.values == expected);
        const std::vector<std::size_t> classes = p.classes();
        for (std::size_t e = 0; e < n; ++e) CHECK(classes[e] == std::size_t(data.labels[e]));
        CHECK(model.evaluate(data).at("sparse_categorical_accuracy") == 1.0);
    }

    SECTION("predict works without labels; evaluate needs them") {
        auto model = sg::InferenceCompiler{.example_timesteps = timesteps, .batch_size = 3, .verbose = false}
                         .compile<sg::cpu>(net);
        sg::SpikeDataset unlabelled = data;
        unlabelled.labels.clear();
        CHECK(model.predict(unlabelled).values == expected);
        CHECK_THROWS_AS(model.evaluate(unlabelled), sg::InvalidArgument);
    }
}

TEST_CASE("evaluate<\"name\"> and predict<\"name\"> choose among two readout populations", "[inference]") {
    // count_out: SpikeCount, input k -> output k. sum_out: SumVar of a leaky
    // integrator, input k -> output (k + 1) % 3, so it is always wrong.
    const auto input = sg::population<"input", 3>(sg::SpikeInput{});
    const auto count_out = sg::population<"count_out", 3>(lif, sg::SpikeCount{});
    const sg::LeakyIntegrate li{.tau_mem = 10.0f};
    const auto sum_out = sg::population<"sum_out", 3>(li, sg::SumVar{});
    const auto net = sg::network(input, count_out, sum_out,
                                 input >> sg::Dense{sg::FromArray{mapping(3)}} >> sg::Delta{} >> count_out,
                                 input >> sg::Dense{sg::FromArray{mapping(3, 1)}} >> sg::Delta{} >> sum_out);
    auto model = sg::InferenceCompiler{.example_timesteps = timesteps, .batch_size = 4, .verbose = false}
                     .compile<sg::cpu>(net);
    const std::size_t n = 6;
    const auto expected = make_data(n);

    CHECK(model.evaluate(expected.data).at("sparse_categorical_accuracy") == 1.0);  // first readout: count_out
    CHECK(model.evaluate<"count_out">(expected.data).at("sparse_categorical_accuracy") == 1.0);
    CHECK(model.evaluate<"sum_out">(expected.data).at("sparse_categorical_accuracy") == 0.0);
    CHECK(model.predict<"count_out">(expected.data).values == expected_counts(n));

    // SumVar analytically: a spike in step s is injected in step s + 1 and then
    // decays by alpha per step, so it adds w (1 - alpha^(T - s - 1)) / (1 - alpha).
    const double alpha = double(float(std::exp(-1.0 / 10.0)));
    const sg::Predictions sums = model.predict<"sum_out">(expected.data);
    REQUIRE(sums.size() == n);
    for (std::size_t e = 0; e < n; ++e) {
        INFO("example " << e);
        double total = 0.0;
        for (std::int32_t s : expected.spike_steps[e])
            total += strong * (1.0 - std::pow(alpha, timesteps - s - 1)) / (1.0 - alpha);
        const std::size_t target = std::size_t(label_of(e) + 1) % 3;
        for (std::size_t k = 0; k < 3; ++k) {
            if (k == target) CHECK(sums.example(e)[k] == Approx(total).epsilon(1e-5));
            else CHECK(sums.example(e)[k] == 0.0f);
        }
    }
}

TEST_CASE("ValueDataset with BinarySpikeInput", "[inference]") {
    // One-hot values: input k fires in every step, output k spikes in steps 1..T-1.
    const auto input = sg::population<"input", 3>(sg::BinarySpikeInput{});
    const auto output = sg::population<"output", 3>(lif, sg::SpikeCount{});
    const auto net = sg::network(input >> sg::Dense{sg::FromArray{mapping(3)}} >> sg::Delta{} >> output);
    auto model = sg::InferenceCompiler{.example_timesteps = timesteps, .batch_size = 2, .verbose = false}
                     .compile<sg::cpu>(net);

    sg::ValueDataset data;
    data.num_inputs = 3;
    data.num_classes = 3;
    const std::size_t n = 5;
    std::vector<float> expected(n * 3, 0.0f);
    for (std::size_t e = 0; e < n; ++e) {
        const auto k = std::size_t(label_of(e));
        for (std::size_t i = 0; i < 3; ++i) data.values.push_back(i == k ? 0.5f : 0.0f);
        data.labels.push_back(label_of(e));
        expected[e * 3 + k] = float(timesteps - 1);
    }
    CHECK(model.predict(data).values == expected);
    CHECK(model.evaluate(data).at("sparse_categorical_accuracy") == 1.0);
}

TEST_CASE("ValueDataset with PoissonInput", "[inference]") {
    // Input k fires with p = 1 - exp(-rate dt) per step; the others (rate 0) never.
    // Output k then spikes once per input spike in steps 0..T-2 (later ones land
    // after the example): count ~ Binomial(T - 1, p); the others stay at 0.
    const auto input = sg::population<"input", 3>(sg::PoissonInput{});
    const auto output = sg::population<"output", 3>(lif, sg::SpikeCount{});
    const auto net = sg::network(input >> sg::Dense{sg::FromArray{mapping(3)}} >> sg::Delta{} >> output);
    constexpr int steps = 60;
    auto model = sg::InferenceCompiler{.example_timesteps = steps, .batch_size = 8, .seed = 11, .verbose = false}
                     .compile<sg::cpu>(net);

    const float rate = 0.4f;  // spikes/ms: P(no spike in 59 steps) = exp(-23.6)
    sg::ValueDataset data;
    data.num_inputs = 3;
    data.num_classes = 3;
    const std::size_t n = 60;
    for (std::size_t e = 0; e < n; ++e) {
        for (std::size_t i = 0; i < 3; ++i) data.values.push_back(i == std::size_t(label_of(e)) ? rate : 0.0f);
        data.labels.push_back(label_of(e));
    }
    CHECK(model.evaluate(data).at("sparse_categorical_accuracy") == 1.0);

    const sg::Predictions p = model.predict(data);
    double total = 0.0;
    for (std::size_t e = 0; e < n; ++e)
        for (std::size_t k = 0; k < 3; ++k) {
            if (k == std::size_t(label_of(e))) total += p.example(e)[k];
            else CHECK(p.example(e)[k] == 0.0f);
        }
    const double prob = 1.0 - std::exp(-double(rate));
    const double trials = double(n) * (steps - 1);
    const double mean = trials * prob, sigma = std::sqrt(trials * prob * (1.0 - prob));
    INFO("total output spikes " << total << ", expected " << mean << " +- " << sigma);
    CHECK(std::abs(total - mean) <= 5.0 * sigma);
}

TEST_CASE("sequential(...) evaluates the same as the equivalent network(...)", "[inference]") {
    // Random weights (same seed) and random input spikes: nontrivial dynamics.
    const sg::LeakyIntegrateFire hidden_lif{.v_thresh = 1.0f, .tau_mem = 10.0f};
    const auto seq = sg::sequential(
        sg::InputLayer<6>(sg::SpikeInput{}),
        sg::Layer<12, "hidden">(hidden_lif, sg::Dense{sg::Normal{0.6f, 0.4f}}, sg::Exponential{3.0f}),
        sg::Layer<3, "output">(sg::LeakyIntegrate{.tau_mem = 10.0f}, sg::Dense{sg::Normal{0.3f, 0.5f}},
                               sg::Exponential{3.0f}, sg::AvgVar{}));
    const auto input = sg::population<"input", 6>(sg::SpikeInput{});
    const auto hidden = sg::population<"hidden", 12>(hidden_lif);
    const auto output = sg::population<"output", 3>(sg::LeakyIntegrate{.tau_mem = 10.0f}, sg::AvgVar{});
    const auto net = sg::network(input, hidden, output,
                                 input >> sg::Dense{sg::Normal{0.6f, 0.4f}} >> sg::Exponential{3.0f} >> hidden,
                                 hidden >> sg::Dense{sg::Normal{0.3f, 0.5f}} >> sg::Exponential{3.0f} >> output);
    CHECK(std::is_same_v<decltype(seq), decltype(net)>);

    sg::SpikeDataset data;
    data.num_inputs = 6;
    data.num_classes = 3;
    std::mt19937 rng(3);
    for (int e = 0; e < 10; ++e) {
        std::vector<float> times;
        std::vector<std::uint32_t> ids;
        for (int s = 0; s < 15; ++s) {
            times.push_back(float(rng() % 30));
            ids.push_back(std::uint32_t(rng() % 6));
        }
        data.examples.push_back(sg::make_spike_events(times, ids, 6));
        data.labels.push_back(std::int32_t(rng() % 3));
    }

    const sg::InferenceCompiler compiler{.example_timesteps = 40, .batch_size = 4, .seed = 5, .verbose = false};
    auto a = compiler.compile<sg::cpu>(seq);
    auto b = compiler.compile<sg::cpu>(net);
    CHECK(a.weights<"input_hidden">() == b.weights<"input_hidden">());
    CHECK(a.weights<"hidden_output">() == b.weights<"hidden_output">());
    const sg::Predictions pa = a.predict(data), pb = b.predict(data);
    CHECK(pa.values == pb.values);
    CHECK(a.evaluate(data) == b.evaluate(data));
    // The comparison means something only if the outputs vary between examples.
    bool varies = false;
    for (std::size_t e = 1; e < pa.size(); ++e) varies = varies || pa.example(e)[0] != pa.example(0)[0];
    CHECK(varies);
}
