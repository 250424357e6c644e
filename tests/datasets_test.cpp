// Yin-Yang generator and latency encodings against independent references:
// values printed by real numpy running the reference generator
// (lkriener/yin_yang_data_set, numpy 2.4), std::mt19937, the geometry of the
// dataset, binomial statistics and mlGeNN's encoding formulas.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <spikegraph/data/latency_encoding.hpp>
#include <spikegraph/data/yin_yang.hpp>

namespace sg = spikegraph;
using sg::datasets::YinYang;

namespace {

struct ReferenceSample {
    int label;
    double x, y;
};

// python: np.random.seed(42); YinYangDataset(size=5, seed=42) -> repr(x), repr(y), class.
const ReferenceSample seed42[] = {
    {2, 0.6803075385877797, 0.450499251969543},
    {1, 0.09767211400638387, 0.6842330265121569},
    {2, 0.7553614103176525, 0.4251558744912447},
    {1, 0.5978999788110851, 0.9218742350231168},
    {1, 0.32533033076326434, 0.388677289689482},
};
// First samples of the validation (41) and test (40) seeds.
const ReferenceSample seed41_first{0, 0.6805727261759029, 0.3209733938933629};
const ReferenceSample seed40_first{2, 0.23409664559563403, 0.4017249751828972};
// Last samples and class counts of the full reference splits (5000/1000/1000),
// which check the whole random stream, not just its start.
const ReferenceSample seed42_last{2, 0.7690797231107925, 0.5883389337522971};
const ReferenceSample seed41_last{1, 0.7107040957004825, 0.804733352731108};
const ReferenceSample seed40_last{1, 0.32834060537145815, 0.3899830419619741};
const std::size_t seed42_counts[3] = {1681, 1702, 1617};
const std::size_t seed41_counts[3] = {316, 336, 348};
const std::size_t seed40_counts[3] = {350, 316, 334};

void check_sample(const YinYang& data, std::size_t i, const ReferenceSample& ref) {
    INFO("example " << i);
    CHECK(data.labels[i] == ref.label);
    // Bit-exact: the same draws and the same arithmetic as numpy.
    CHECK(data.coordinates[2 * i] == ref.x);
    CHECK(data.coordinates[2 * i + 1] == ref.y);
    CHECK(data.features[4 * i + 0] == static_cast<float>(ref.x));
    CHECK(data.features[4 * i + 1] == static_cast<float>(ref.y));
    CHECK(data.features[4 * i + 2] == static_cast<float>(1.0 - ref.x));
    CHECK(data.features[4 * i + 3] == static_cast<float>(1.0 - ref.y));
}

double distance(double x0, double y0, double x1, double y1) { return std::hypot(x0 - x1, y0 - y1); }

}  // namespace

TEST_CASE("numpy RandomState: MT19937 stream, random_sample and legacy randint", "[datasets][yin_yang]") {
    SECTION("raw 32-bit draws equal std::mt19937 with the same seed, across several twists") {
        for (std::uint32_t seed : {0u, 42u, 5489u, 4294967295u}) {
            sg::datasets::detail::NumpyRandomState rng(seed);
            std::mt19937 reference(seed);
            for (int i = 0; i < 2000; ++i) REQUIRE(rng.next_uint32() == reference());
        }
    }
    SECTION("random_sample equals numpy: RandomState(42).random_sample(3)") {
        sg::datasets::detail::NumpyRandomState rng(42);
        CHECK(rng.random_sample() == 0.3745401188473625);
        CHECK(rng.random_sample() == 0.9507143064099162);
        CHECK(rng.random_sample() == 0.7319939418114051);
    }
    SECTION("randint(3) equals numpy: [RandomState(0).randint(3) for _ in range(12)]") {
        sg::datasets::detail::NumpyRandomState rng(0);
        const std::uint32_t expected[] = {0, 1, 0, 1, 1, 2, 0, 2, 0, 0, 0, 2};
        for (std::uint32_t e : expected) CHECK(rng.randint(3) == e);
    }
}

TEST_CASE("yin_yang reproduces the reference generator bit for bit", "[datasets][yin_yang]") {
    const YinYang data = sg::datasets::yin_yang(5, 42);
    REQUIRE(data.size() == 5);
    REQUIRE(data.features.size() == 20);
    REQUIRE(data.coordinates.size() == 10);
    for (std::size_t i = 0; i < 5; ++i) check_sample(data, i, seed42[i]);

    // A longer run must continue the same stream: its prefix is the short run.
    const YinYang longer = sg::datasets::yin_yang(50, 42);
    for (std::size_t i = 0; i < 5; ++i) check_sample(longer, i, seed42[i]);

    const auto splits = sg::datasets::yin_yang_splits(7, 3, 4);
    REQUIRE(splits.train.size() == 7);
    REQUIRE(splits.validation.size() == 3);
    REQUIRE(splits.test.size() == 4);
    check_sample(splits.train, 0, seed42[0]);
    check_sample(splits.validation, 0, seed41_first);
    check_sample(splits.test, 0, seed40_first);

    const auto defaults = sg::datasets::yin_yang_splits();
    REQUIRE(defaults.train.size() == 5000);
    REQUIRE(defaults.validation.size() == 1000);
    REQUIRE(defaults.test.size() == 1000);
    check_sample(defaults.train, 4999, seed42_last);
    check_sample(defaults.validation, 999, seed41_last);
    check_sample(defaults.test, 999, seed40_last);
    auto counts = [](const YinYang& split) {
        std::vector<std::size_t> n(3, 0);
        for (std::int32_t label : split.labels) ++n.at(std::size_t(label));
        return n;
    };
    CHECK(counts(defaults.train) == std::vector<std::size_t>(seed42_counts, seed42_counts + 3));
    CHECK(counts(defaults.validation) == std::vector<std::size_t>(seed41_counts, seed41_counts + 3));
    CHECK(counts(defaults.test) == std::vector<std::size_t>(seed40_counts, seed40_counts + 3));
}

TEST_CASE("yin_yang: geometry and class balance", "[datasets][yin_yang]") {
    const std::size_t n = 3000;
    const YinYang data = sg::datasets::yin_yang(n, 7);
    REQUIRE(data.size() == n);

    std::size_t counts[3] = {0, 0, 0};
    for (std::size_t i = 0; i < n; ++i) {
        INFO("example " << i);
        const double x = data.coordinates[2 * i], y = data.coordinates[2 * i + 1];
        // Inside the big circle of radius 0.5 centred at (0.5, 0.5).
        REQUIRE(distance(x, y, 0.5, 0.5) <= 0.5);
        const float fx = data.features[4 * i], fy = data.features[4 * i + 1];
        REQUIRE(distance(fx, fy, 0.5, 0.5) <= 0.5 + 1e-6);
        REQUIRE(data.features[4 * i + 2] == Approx(1.0f - fx).margin(1e-6));
        REQUIRE(data.features[4 * i + 3] == Approx(1.0f - fy).margin(1e-6));
        // The shape, region by region: dots within r_small = 0.1 of the eyes at
        // (0.25, 0.5) and (0.75, 0.5) are class 2; the rest of the half-size circle
        // round the left eye is 1 and round the right eye 0; elsewhere the top
        // half (y > 0.5) is 1 and the bottom half 0.
        const double left = distance(x, y, 0.25, 0.5), right = distance(x, y, 0.75, 0.5);
        const std::int32_t expected = std::min(left, right) < 0.1 ? 2
                                      : left <= 0.25             ? 1
                                      : right <= 0.25            ? 0
                                      : y > 0.5                  ? 1
                                                                 : 0;
        const std::int32_t label = data.labels[i];
        REQUIRE(label == expected);
        ++counts[label];
    }
    // Goal classes are uniform draws: each count ~ Binomial(n, 1/3); 5 sigma.
    const double mean = n / 3.0, sigma = std::sqrt(n * (1.0 / 3.0) * (2.0 / 3.0));
    for (int c = 0; c < 3; ++c) {
        INFO("class " << c << " count " << counts[c]);
        CHECK(std::abs(double(counts[c]) - mean) <= 5.0 * sigma);
    }
}

TEST_CASE("yin_yang rejects radii that leave a class empty", "[datasets][yin_yang]") {
    CHECK_THROWS_AS(sg::datasets::yin_yang(10, 1, 0.0, 0.5), sg::InvalidArgument);
    CHECK_THROWS_AS(sg::datasets::yin_yang(10, 1, 0.3, 0.5), sg::InvalidArgument);
    CHECK_THROWS_AS(sg::datasets::yin_yang(10, 1, std::nan(""), 0.5), sg::InvalidArgument);
}

TEST_CASE("encode_yin_yang follows mlGeNN's generate_yin_yang_dataset", "[datasets][encoding]") {
    const YinYang data = sg::datasets::yin_yang(5, 42);

    SECTION("with bias: neuron 0 at offset, neurons 1..4 at offset + feature * scale") {
        const double scale = 29.96, offset = 0.5;
        const sg::SpikeDataset spikes = sg::datasets::encode_yin_yang(data, {.scale = scale, .offset = offset});
        REQUIRE(spikes.size() == 5);
        CHECK(spikes.num_inputs == 5);
        CHECK(spikes.num_classes == 3);
        CHECK(spikes.labels == data.labels);
        for (std::size_t e = 0; e < 5; ++e) {
            INFO("example " << e);
            const auto& ex = spikes.examples[e];
            REQUIRE(ex.size() == 5);
            const double x = seed42[e].x, y = seed42[e].y;
            const double features[4] = {x, y, 1.0 - x, 1.0 - y};
            std::vector<float> time_of(5, -1.0f);
            for (std::size_t k = 0; k < ex.size(); ++k) {
                REQUIRE(ex.ids[k] < 5);
                REQUIRE(time_of[ex.ids[k]] < 0.0f);  // one spike per neuron
                time_of[ex.ids[k]] = ex.times[k];
                if (k > 0) CHECK(ex.times[k - 1] <= ex.times[k]);
            }
            CHECK(time_of[0] == static_cast<float>(offset));
            for (int f = 0; f < 4; ++f) CHECK(time_of[f + 1] == static_cast<float>(offset + features[f] * scale));
        }
    }
    SECTION("without bias: four neurons, defaults scale 29.96 and offset 0 (the mlGeNN example)") {
        const sg::SpikeDataset spikes = sg::datasets::encode_yin_yang(data, {.bias = false});
        CHECK(spikes.num_inputs == 4);
        const auto& ex = spikes.examples[0];
        REQUIRE(ex.size() == 4);
        for (std::size_t k = 0; k < 4; ++k) {
            const double x = seed42[0].x, y = seed42[0].y;
            const double features[4] = {x, y, 1.0 - x, 1.0 - y};
            CHECK(ex.times[k] == static_cast<float>(features[ex.ids[k]] * 29.96));
        }
    }
    SECTION("without coordinates the float features are encoded") {
        YinYang features_only = data;
        features_only.coordinates.clear();
        const sg::SpikeDataset spikes = sg::datasets::encode_yin_yang(features_only, {.scale = 10.0, .bias = false});
        const auto& ex = spikes.examples[1];
        for (std::size_t k = 0; k < 4; ++k)
            CHECK(ex.times[k] == static_cast<float>(double(data.features[4 + ex.ids[k]]) * 10.0));
    }
    SECTION("a NaN feature is rejected, naming the example and the feature") {
        YinYang bad = data;
        bad.features[1 * 4 + 2] = std::numeric_limits<float>::quiet_NaN();
        try {
            (void)sg::datasets::encode_yin_yang(bad);
            FAIL("expected InvalidArgument");
        } catch (const sg::InvalidArgument& e) {
            const std::string message = e.what();
            CHECK_THAT(message, Catch::Contains("example 1") && Catch::Contains("feature 2"));
        }
    }
    SECTION("bad parameters and shapes are rejected") {
        CHECK_THROWS_AS(sg::datasets::encode_yin_yang(data, {.scale = -1.0}), sg::InvalidArgument);
        CHECK_THROWS_AS(sg::datasets::encode_yin_yang(data, {.offset = std::nan("")}), sg::InvalidArgument);
        YinYang short_features = data;
        short_features.features.pop_back();
        CHECK_THROWS_AS(sg::datasets::encode_yin_yang(short_features), sg::InvalidArgument);
        YinYang bad_label = data;
        bad_label.labels[3] = 3;
        CHECK_THROWS_AS(sg::datasets::encode_yin_yang(bad_label), sg::InvalidArgument);
    }
}

TEST_CASE("linear_latency_encode: mlGeNN's linear_latency_encode_data", "[datasets][encoding]") {
    sg::ValueDataset values;
    values.num_inputs = 5;
    // Example 0: below/at threshold (no spike), just above, mid-range, full scale.
    // Example 1: nothing above threshold.
    values.values = {0.0f, 1.0f, 2.0f, 127.5f, 255.0f, 1.0f, 0.5f, 0.0f, 1.0f, 0.0f};
    values.labels = {3, 1};
    values.num_classes = 4;

    const double max_time = 20.0, min_time = 2.0;
    const sg::SpikeDataset spikes = sg::linear_latency_encode(values, {.max_time = max_time, .min_time = min_time});
    REQUIRE(spikes.size() == 2);
    CHECK(spikes.num_inputs == 5);
    CHECK(spikes.labels == values.labels);
    CHECK(spikes.num_classes == 4);

    // t = min_time + (max_time - min_time)(255 - v)/255 for v > thresh = 1, in time order.
    const auto& ex = spikes.examples[0];
    REQUIRE(ex.size() == 3);
    CHECK(ex.ids == std::vector<std::uint32_t>{4, 3, 2});
    CHECK(ex.times[0] == static_cast<float>(min_time));
    CHECK(ex.times[1] == Approx(2.0 + 18.0 * 0.5).epsilon(1e-6));
    CHECK(ex.times[2] == Approx(2.0 + 18.0 * 253.0 / 255.0).epsilon(1e-6));
    CHECK(spikes.examples[1].size() == 0);

    SECTION("a negative thresh lets every value spike, value 0 at max_time") {
        const sg::SpikeDataset all = sg::linear_latency_encode(values, {.max_time = 10.0, .thresh = -1.0});
        CHECK(all.examples[0].size() == 5);
        CHECK(all.examples[1].size() == 5);
        CHECK(all.examples[0].times.back() == 10.0f);  // value 0 -> max_time
    }
    SECTION("invalid inputs") {
        sg::ValueDataset bad = values;
        bad.values[7] = std::numeric_limits<float>::quiet_NaN();
        try {
            (void)sg::linear_latency_encode(bad, {.max_time = 20.0});
            FAIL("expected InvalidArgument");
        } catch (const sg::InvalidArgument& e) {
            const std::string message = e.what();
            CHECK_THAT(message, Catch::Contains("example 1") && Catch::Contains("feature 2"));
        }
        bad.values[7] = 300.0f;  // not a uint8 intensity
        CHECK_THROWS_AS(sg::linear_latency_encode(bad, {.max_time = 20.0}), sg::InvalidArgument);
        CHECK_THROWS_AS(sg::linear_latency_encode(values, {.max_time = 1.0, .min_time = 2.0}), sg::InvalidArgument);
        sg::ValueDataset ragged = values;
        ragged.values.pop_back();
        CHECK_THROWS_AS(sg::linear_latency_encode(ragged, {.max_time = 20.0}), sg::InvalidArgument);
    }
}

TEST_CASE("log_latency_encode: mlGeNN's log_latency_encode_data", "[datasets][encoding]") {
    sg::ValueDataset values;
    values.num_inputs = 4;
    values.values = {10.0f, 20.0f, 30.0f, 40.0f};
    values.labels = {2};
    values.num_classes = 3;

    // t = tau_eff log(v / (v - thresh)) for v > thresh = 10: v = 20 -> tau ln 2, v = 40 -> tau ln(4/3).
    const double tau_eff = 20.0;
    const sg::SpikeDataset spikes = sg::log_latency_encode(values, {.tau_eff = tau_eff, .thresh = 10.0});
    REQUIRE(spikes.size() == 1);
    CHECK(spikes.labels == values.labels);
    const auto& ex = spikes.examples[0];
    REQUIRE(ex.size() == 3);
    CHECK(ex.ids == std::vector<std::uint32_t>{3, 2, 1});  // larger values spike earlier
    CHECK(ex.times[0] == Approx(tau_eff * std::log(4.0 / 3.0)).epsilon(1e-6));
    CHECK(ex.times[1] == Approx(tau_eff * std::log(1.5)).epsilon(1e-6));
    CHECK(ex.times[2] == Approx(tau_eff * std::log(2.0)).epsilon(1e-6));

    CHECK_THROWS_AS(sg::log_latency_encode(values, {.tau_eff = 20.0}), sg::InvalidArgument);  // thresh unset
    CHECK_THROWS_AS(sg::log_latency_encode(values, {.tau_eff = 0.0, .thresh = 1.0}), sg::InvalidArgument);
    values.values[0] = std::numeric_limits<float>::infinity();
    CHECK_THROWS_AS(sg::log_latency_encode(values, {.tau_eff = 20.0, .thresh = 10.0}), sg::InvalidArgument);
}
