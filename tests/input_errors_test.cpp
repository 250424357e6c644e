// Bad data, options and parameters fail with spikegraph::InvalidArgument
// whose message names the population/connection and the offending values,
// and a model stays usable after a caught error.
#include <catch2/catch.hpp>

#include <spikegraph/spikegraph.hpp>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace sg = spikegraph;
using Catch::Matchers::Contains;

namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr int kSteps = 20;

// One network type for every parameter set (parameters are runtime values).
auto make_net(sg::LeakyIntegrateFire lif, float tau_syn = 5.0f, float p = 0.5f, float li_tau = 20.0f) {
    const auto input = sg::population<"input", 5>(sg::SpikeInput{});
    const auto hidden = sg::population<"hidden", 8>(lif);
    const auto output = sg::population<"output", 3>(sg::LeakyIntegrate{.tau_mem = li_tau}, sg::AvgVar{});
    return sg::network(
        sg::named<"w_in">(input >> sg::FixedProbability{p, sg::Normal{0.5f, 0.2f}} >> sg::Exponential{tau_syn} >> hidden),
        hidden >> sg::Dense{sg::Normal{0.0f, 0.5f}} >> sg::Exponential{5.0f} >> output);
}
using Net = decltype(make_net({}));

sg::InferenceCompiler compiler() {
    return sg::InferenceCompiler{.example_timesteps = kSteps, .batch_size = 2, .seed = 1, .num_threads = 1,
                                 .verbose = false};
}

sg::SpikeDataset good_data() {
    sg::SpikeDataset data;
    data.num_inputs = 5;
    data.num_classes = 3;
    for (std::uint32_t e = 0; e < 3; ++e) {
        data.examples.push_back(sg::make_spike_events({0.0f, 1.0f, 2.0f, 4.0f, 9.0f}, {0, e, 4, 2, 1}, 5));
        data.labels.push_back(std::int32_t(e));
    }
    return data;
}

// The model still works and gives the results it gave before the error.
template <class Model>
void check_still_usable(Model& model, const std::vector<float>& expected) {
    const sg::SpikeDataset data = good_data();
    CHECK_NOTHROW(model.evaluate(data));
    CHECK(model.predict(data).values == expected);
}

}  // namespace

TEST_CASE("dataset errors name the population and the values", "[errors]") {
    auto model = compiler().compile<sg::cpu>(make_net({}));
    const std::vector<float> baseline = model.predict(good_data()).values;

    SECTION("num_inputs differs from the input population size") {
        sg::SpikeDataset data = good_data();
        data.num_inputs = 6;
        CHECK_THROWS_AS(model.evaluate(data), sg::InvalidArgument);
        CHECK_THROWS_WITH(model.predict(data),
                          Contains("6 inputs") && Contains("'input'") && Contains("5 neurons"));
    }
    SECTION("spike id out of range") {
        sg::SpikeDataset data = good_data();
        data.examples[1].ids[2] = 9;
        CHECK_THROWS_AS(model.evaluate(data), sg::InvalidArgument);
        CHECK_THROWS_WITH(model.evaluate(data), Contains("example 1") && Contains("neuron id 9") &&
                                                    Contains("'input'") && Contains("5 neurons"));
    }
    SECTION("negative spike time") {
        sg::SpikeDataset data = good_data();
        data.examples[2].times[0] = -1.0f;
        CHECK_THROWS_AS(model.evaluate(data), sg::InvalidArgument);
        CHECK_THROWS_WITH(model.evaluate(data), Contains("example 2") && Contains("time -1"));
    }
    SECTION("NaN spike time") {
        sg::SpikeDataset data = good_data();
        data.examples[0].times[3] = kNaN;
        CHECK_THROWS_AS(model.evaluate(data), sg::InvalidArgument);
        CHECK_THROWS_WITH(model.evaluate(data), Contains("example 0") && Contains("spike 3") && Contains("nan"));
    }
    SECTION("unsorted spike times") {
        sg::SpikeDataset data = good_data();
        data.examples[1].times = {0.0f, 5.0f, 2.0f, 6.0f, 9.0f};
        CHECK_THROWS_AS(model.evaluate(data), sg::InvalidArgument);
        CHECK_THROWS_WITH(model.evaluate(data), Contains("example 1") && Contains("spike 2") && Contains("sorted"));
    }
    SECTION("times and ids of different lengths") {
        sg::SpikeDataset data = good_data();
        data.examples[1].ids.pop_back();
        CHECK_THROWS_AS(model.evaluate(data), sg::InvalidArgument);
        CHECK_THROWS_WITH(model.evaluate(data), Contains("example 1") && Contains("5 spike times") && Contains("4 ids"));
    }
    SECTION("label out of range names the output population and the label") {
        sg::SpikeDataset data = good_data();
        data.labels[2] = 3;
        CHECK_THROWS_AS(model.evaluate(data), sg::InvalidArgument);
        CHECK_THROWS_WITH(model.evaluate(data),
                          Contains("example 2") && Contains("label 3") && Contains("'output'") && Contains("3 neurons"));
        data.labels[2] = -1;
        CHECK_THROWS_WITH(model.evaluate(data), Contains("label -1") && Contains("'output'"));
        // predict checks labels too, even though it does not use them.
        CHECK_THROWS_AS(model.predict(data), sg::InvalidArgument);
    }
    SECTION("labels count mismatch") {
        sg::SpikeDataset data = good_data();
        data.labels.pop_back();
        CHECK_THROWS_AS(model.evaluate(data), sg::InvalidArgument);
        CHECK_THROWS_WITH(model.evaluate(data), Contains("3 examples") && Contains("2 labels"));
    }
    SECTION("evaluate on an unlabelled dataset; predict is fine") {
        sg::SpikeDataset data = good_data();
        data.labels.clear();
        CHECK_THROWS_AS(model.evaluate(data), sg::InvalidArgument);
        CHECK_THROWS_WITH(model.evaluate(data), Contains("no labels"));
        CHECK(model.predict(data).values == baseline);
    }
    // Every section ends with the same model evaluating good data correctly.
    check_still_usable(model, baseline);
}

TEST_CASE("make_spike_events rejects bad events", "[errors]") {
    CHECK_THROWS_WITH(sg::make_spike_events({1.0f, 2.0f}, {0, 7}, 5, "example 4"),
                      Contains("example 4") && Contains("neuron id 7") && Contains("< 5"));
    CHECK_THROWS_WITH(sg::make_spike_events({-0.5f}, {0}, 5), Contains("time -0.5"));
    CHECK_THROWS_WITH(sg::make_spike_events({kNaN}, {0}, 5), Contains("nan"));
    CHECK_THROWS_WITH(sg::make_spike_events({kInf}, {0}, 5), Contains("inf"));
    CHECK_THROWS_WITH(sg::make_spike_events({1.0f, 2.0f}, {0}, 5), Contains("2 spike times") && Contains("1 neuron ids"));
    CHECK_THROWS_AS(sg::make_spike_events({1.0f}, {5}, 5), sg::InvalidArgument);
    // Unsorted input is fine here: it gets sorted by time, then id.
    const sg::SpikeEvents events = sg::make_spike_events({3.0f, 1.0f, 1.0f}, {0, 4, 2}, 5);
    CHECK(events.times == std::vector<float>{1.0f, 1.0f, 3.0f});
    CHECK(events.ids == std::vector<std::uint32_t>{2, 4, 0});
}

TEST_CASE("a NaN or infinite value in a ValueDataset is rejected", "[errors]") {
    constexpr auto input = sg::population<"rates", 4>(sg::PoissonInput{});
    constexpr auto output = sg::population<"output", 3>(sg::LeakyIntegrate{}, sg::AvgVar{});
    auto model = compiler().compile<sg::cpu>(sg::network(input >> sg::Dense{sg::Normal{0.1f, 0.1f}} >> output));
    sg::ValueDataset data;
    data.num_inputs = 4;
    data.values = {0.1f, 0.2f, 0.0f, 0.05f, 0.3f, 0.1f, 0.1f, 0.1f};
    data.labels = {0, 2};
    const std::vector<float> baseline = model.predict(data).values;

    sg::ValueDataset bad = data;
    bad.values[6] = kNaN;  // example 1, input 2
    CHECK_THROWS_AS(model.evaluate(bad), sg::InvalidArgument);
    CHECK_THROWS_WITH(model.evaluate(bad), Contains("example 1") && Contains("input 2") && Contains("not finite"));
    bad.values[6] = kInf;
    CHECK_THROWS_AS(model.predict(bad), sg::InvalidArgument);

    sg::ValueDataset wrong_width = data;
    wrong_width.num_inputs = 2;
    CHECK_THROWS_WITH(model.evaluate(wrong_width), Contains("2 inputs") && Contains("'rates'") && Contains("4 neurons"));

    sg::ValueDataset ragged = data;
    ragged.values.push_back(0.1f);
    CHECK_THROWS_WITH(model.evaluate(ragged), Contains("9 values") && Contains("multiple of 4"));

    CHECK_NOTHROW(model.evaluate(data));
    CHECK(model.predict(data).values == baseline);
}

TEST_CASE("compiler option errors", "[errors]") {
    const Net net = make_net({});
    SECTION("unknown metric name fails at compile()") {
        sg::InferenceCompiler c = compiler();
        c.metrics = {"accuracy", "bogus_metric"};
        CHECK_THROWS_AS(c.compile<sg::cpu>(net), sg::InvalidArgument);
        CHECK_THROWS_WITH(c.compile<sg::cpu>(net), Contains("unknown metric 'bogus_metric'"));
        c.metrics = {"accuracy", "mse"};
        CHECK_NOTHROW(c.compile<sg::cpu>(net));
    }
    SECTION("example_timesteps <= 0") {
        sg::InferenceCompiler c = compiler();
        c.example_timesteps = 0;
        CHECK_THROWS_AS(c.compile<sg::cpu>(net), sg::InvalidArgument);
        CHECK_THROWS_WITH(c.compile<sg::cpu>(net), Contains("example_timesteps") && Contains("got 0"));
        c.example_timesteps = -5;
        CHECK_THROWS_WITH(c.compile<sg::cpu>(net), Contains("example_timesteps") && Contains("got -5"));
    }
    SECTION("dt <= 0 or not finite") {
        sg::InferenceCompiler c = compiler();
        c.dt = 0.0f;
        CHECK_THROWS_AS(c.compile<sg::cpu>(net), sg::InvalidArgument);
        CHECK_THROWS_WITH(c.compile<sg::cpu>(net), Contains("dt") && Contains("got 0"));
        c.dt = -1.0f;
        CHECK_THROWS_WITH(c.compile<sg::cpu>(net), Contains("dt") && Contains("got -1"));
        c.dt = kNaN;
        CHECK_THROWS_WITH(c.compile<sg::cpu>(net), Contains("dt") && Contains("nan"));
    }
    SECTION("batch_size 0") {
        sg::InferenceCompiler c = compiler();
        c.batch_size = 0;
        CHECK_THROWS_AS(c.compile<sg::cpu>(net), sg::InvalidArgument);
        CHECK_THROWS_WITH(c.compile<sg::cpu>(net), Contains("batch_size") && Contains("got 0"));
    }
}

TEST_CASE("parameter errors name the population or connection and the parameter", "[errors]") {
    auto fails = [](const Net& net) { return compiler().compile<sg::cpu>(net); };
    SECTION("NaN neuron parameter") {
        const Net net = make_net(sg::LeakyIntegrateFire{.tau_mem = kNaN});
        CHECK_THROWS_AS(fails(net), sg::InvalidArgument);
        CHECK_THROWS_WITH(fails(net), Contains("'hidden'") && Contains("tau_mem") && Contains("nan"));
    }
    SECTION("infinite threshold") {
        const Net net = make_net(sg::LeakyIntegrateFire{.v_thresh = kInf});
        CHECK_THROWS_WITH(fails(net), Contains("'hidden'") && Contains("v_thresh") && Contains("inf"));
    }
    SECTION("non-positive membrane time constant") {
        const Net net = make_net(sg::LeakyIntegrateFire{.tau_mem = 0.0f});
        CHECK_THROWS_WITH(fails(net), Contains("'hidden'") && Contains("tau_mem") && Contains("> 0"));
        const Net li = make_net({}, 5.0f, 0.5f, -2.0f);
        CHECK_THROWS_WITH(fails(li), Contains("'output'") && Contains("tau_mem") && Contains("-2"));
    }
    SECTION("negative refractory period") {
        const Net net = make_net(sg::LeakyIntegrateFire{.tau_refrac = -1.0f});
        CHECK_THROWS_WITH(fails(net), Contains("'hidden'") && Contains("tau_refrac") && Contains("-1"));
    }
    SECTION("Exponential tau <= 0 names the connection") {
        for (float tau : {0.0f, -3.0f, kNaN}) {
            INFO("tau " << tau);
            const Net net = make_net({}, tau);
            CHECK_THROWS_AS(fails(net), sg::InvalidArgument);
            CHECK_THROWS_WITH(fails(net), Contains("'w_in'") && Contains("Exponential tau"));
        }
    }
    SECTION("FixedProbability p outside [0, 1] names the connection") {
        for (float p : {1.5f, -0.1f, kNaN}) {
            INFO("p " << p);
            const Net net = make_net({}, 5.0f, p);
            CHECK_THROWS_AS(fails(net), sg::InvalidArgument);
            CHECK_THROWS_WITH(fails(net), Contains("'w_in'") && Contains("p must be in [0, 1]"));
        }
    }
    SECTION("initialiser errors name the connection") {
        const auto input = sg::population<"input", 5>(sg::SpikeInput{});
        const auto hidden = sg::population<"hidden", 8>(sg::LeakyIntegrateFire{});
        CHECK_THROWS_WITH(compiler().compile<sg::cpu>(sg::network(input >> sg::Dense{sg::Normal{0.0f, -1.0f}} >> hidden)),
                          Contains("input_hidden") && Contains("Normal.sd"));
        CHECK_THROWS_WITH(compiler().compile<sg::cpu>(sg::network(input >> sg::Dense{sg::Uniform{2.0f, 1.0f}} >> hidden)),
                          Contains("input_hidden") && Contains("min=2") && Contains("max=1"));
    }
    // The same parameters, valid, compile and run.
    auto model = compiler().compile<sg::cpu>(make_net({}));
    CHECK_NOTHROW(model.evaluate(good_data()));
}

TEST_CASE("errors are spikegraph::Error and std::exception", "[errors]") {
    auto model = compiler().compile<sg::cpu>(make_net({}));
    sg::SpikeDataset data = good_data();
    data.num_inputs = 1;
    CHECK_THROWS_AS(model.evaluate(data), sg::Error);
    CHECK_THROWS_AS(model.evaluate(data), std::runtime_error);
}
