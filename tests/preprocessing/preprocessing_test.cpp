// Preprocessing, Poisson encoding, shuffles, splits and batches against
// hand-computed cases, properties written out in the test, and statistics
// with tolerances from the binomial distribution.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <limits>
#include <map>
#include <numeric>
#include <ranges>
#include <set>
#include <string>
#include <vector>

#include <spikegraph/data/preprocessing.hpp>

namespace sg = spikegraph;

namespace {

using Catch::Matchers::Contains;

// A ValueDataset whose example e has values {e, 1000 + e, ...} and label
// labels[e], so every example and its label can be traced through a reorder.
sg::ValueDataset traced_values(const std::vector<std::int32_t>& labels, std::size_t num_classes,
                               std::size_t num_inputs = 2) {
    sg::ValueDataset data;
    data.num_inputs = num_inputs;
    data.num_classes = num_classes;
    data.labels = labels;
    for (std::size_t e = 0; e < labels.size(); ++e)
        for (std::size_t i = 0; i < num_inputs; ++i) data.values.push_back(float(1000 * i + e));
    return data;
}

// A SpikeDataset whose example e has one spike at time e on neuron e % num_inputs.
sg::SpikeDataset traced_spikes(const std::vector<std::int32_t>& labels, std::size_t num_classes,
                               std::size_t num_inputs = 3) {
    sg::SpikeDataset data;
    data.num_inputs = num_inputs;
    data.num_classes = num_classes;
    data.labels = labels;
    for (std::size_t e = 0; e < labels.size(); ++e)
        data.examples.push_back(sg::SpikeEvents{{float(e)}, {std::uint32_t(e % num_inputs)}});
    return data;
}

std::size_t trace(const sg::ValueDataset& data, std::size_t k) { return std::size_t(data.example(k)[0]); }
std::size_t trace(const sg::SpikeDataset& data, std::size_t k) { return std::size_t(data.examples[k].times[0]); }

std::vector<std::int32_t> cyclic_labels(std::size_t n, int classes) {
    std::vector<std::int32_t> labels(n);
    for (std::size_t e = 0; e < n; ++e) labels[e] = std::int32_t(e % std::size_t(classes));
    return labels;
}

// The step in which the simulator's SpikeInput replays an event at time t
// with step dt: the first s with t <= s * dt, both sides in double.
std::uint64_t replay_step(float t, float dt) {
    std::uint64_t s = std::uint64_t(std::max(0.0, std::floor(double(t) / double(dt))));
    while (s > 0 && double(t) <= double(s - 1) * double(dt)) --s;
    while (!(double(t) <= double(s) * double(dt))) ++s;
    return s;
}

}  // namespace

TEST_CASE("preprocess_spikes sorts by time, ties by neuron, and checks events", "[preprocessing]") {
    const sg::SpikeEvents events = sg::preprocess_spikes({3.0f, 1.0f, 1.0f, 2.0f}, {0, 2, 1, 0}, 3);
    CHECK(events.times == std::vector<float>{1.0f, 1.0f, 2.0f, 3.0f});
    CHECK(events.ids == std::vector<std::uint32_t>{1, 2, 0, 0});

    CHECK_THROWS_WITH(sg::preprocess_spikes({1.0f}, {3}, 3), Contains("preprocess_spikes") && Contains("neuron id 3"));
    CHECK_THROWS_WITH(sg::preprocess_spikes({-1.0f}, {0}, 3), Contains("preprocess_spikes") && Contains("time -1"));
    CHECK_THROWS_AS(sg::preprocess_spikes({1.0f, 2.0f}, {0}, 3), sg::InvalidArgument);
}

TEST_CASE("calc_max_spikes and calc_latest_spike_time", "[preprocessing]") {
    sg::SpikeDataset data;
    data.num_inputs = 4;
    data.examples = {sg::SpikeEvents{{0.5f, 2.0f}, {0, 1}}, sg::SpikeEvents{{0.0f, 0.0f, 1.0f, 7.25f, 7.25f}, {0, 1, 2, 0, 3}},
                     sg::SpikeEvents{}};
    CHECK(sg::calc_max_spikes(data) == 5);
    CHECK(sg::calc_latest_spike_time(data) == 7.25f);

    CHECK(sg::calc_max_spikes(sg::SpikeDataset{}) == 0);
    sg::SpikeDataset silent;
    silent.num_inputs = 2;
    silent.examples.resize(3);
    CHECK(sg::calc_max_spikes(silent) == 0);
    CHECK_THROWS_WITH(sg::calc_latest_spike_time(silent), Contains("no spikes"));
}

TEST_CASE("scale_times multiplies times and keeps events sorted", "[preprocessing]") {
    sg::SpikeDataset data;
    data.num_inputs = 8;
    data.num_classes = 2;
    data.labels = {1, 0};
    data.examples = {sg::SpikeEvents{{0.5f, 1000.0f, 2500.0f}, {3, 1, 7}}, sg::SpikeEvents{}};
    const sg::SpikeDataset ms = sg::scale_times(data, 1e-3);
    REQUIRE(ms.size() == 2);
    CHECK(ms.labels == data.labels);
    CHECK(ms.num_classes == 2);
    CHECK(ms.num_inputs == 8);
    CHECK(ms.examples[0].times == std::vector<float>{float(0.5 * 1e-3), 1.0f, 2.5f});
    CHECK(ms.examples[0].ids == std::vector<std::uint32_t>{3, 1, 7});
    CHECK(ms.examples[1].size() == 0);

    // Two distinct times that become the same (denormal) float: ties order by id.
    sg::SpikeDataset close;
    close.num_inputs = 8;
    close.examples = {sg::SpikeEvents{{1.0f, std::nextafter(1.0f, 2.0f)}, {5, 2}}};
    const sg::SpikeDataset tiny = sg::scale_times(close, 1e-40);
    REQUIRE(tiny.examples[0].times[0] == tiny.examples[0].times[1]);
    CHECK(tiny.examples[0].ids == std::vector<std::uint32_t>{2, 5});

    for (double bad : {0.0, -1.0, std::nan(""), std::numeric_limits<double>::infinity()})
        CHECK_THROWS_WITH(sg::scale_times(data, bad), Contains("scale_times") && Contains("factor"));
    CHECK_THROWS_WITH(sg::scale_times(data, 1e300), Contains("scale_times: example 0"));
}

TEST_CASE("bin_spikes: hand-computed bins, merged, kept and thresholded", "[preprocessing]") {
    sg::SpikeDataset data;
    data.num_inputs = 3;
    data.num_classes = 1;
    data.labels = {0};
    data.examples = {sg::preprocess_spikes({0.0f, 0.4f, 0.9f, 1.0f, 1.5f, 2.999f, 3.0f}, {0, 0, 1, 0, 0, 2, 2}, 3)};

    const sg::SpikeDataset merged = sg::bin_spikes(data, 1.0f);
    CHECK(merged.labels == data.labels);
    CHECK(merged.examples[0].times == std::vector<float>{0, 0, 1, 2, 3});
    CHECK(merged.examples[0].ids == std::vector<std::uint32_t>{0, 1, 0, 2, 2});

    const sg::SpikeDataset kept = sg::bin_spikes(data, 1.0f, {.duplicates = sg::DuplicateSpikes::keep});
    CHECK(kept.examples[0].times == std::vector<float>{0, 0, 0, 1, 1, 2, 3});
    CHECK(kept.examples[0].ids == std::vector<std::uint32_t>{0, 0, 1, 0, 0, 2, 2});

    // mlGeNN's histogram_thresh = 1: a (neuron, bin) needs 2 events.
    const sg::SpikeDataset dense = sg::bin_spikes(data, 1.0f, {.min_events = 2});
    CHECK(dense.examples[0].times == std::vector<float>{0, 1});
    CHECK(dense.examples[0].ids == std::vector<std::uint32_t>{0, 0});
    const sg::SpikeDataset dense_kept =
        sg::bin_spikes(data, 1.0f, {.duplicates = sg::DuplicateSpikes::keep, .min_events = 2});
    CHECK(dense_kept.examples[0].ids == std::vector<std::uint32_t>{0, 0, 0, 0});

    // Bins of 2.5 ms: [0, 2.5) -> 0 (neurons 0 and 1), [2.5, 5) -> 2.5 (2.999 and 3 of neuron 2).
    const sg::SpikeDataset wide = sg::bin_spikes(data, 2.5f);
    CHECK(wide.examples[0].times == std::vector<float>{0, 0, 2.5f});
    CHECK(wide.examples[0].ids == std::vector<std::uint32_t>{0, 1, 2});

    for (float bad : {0.0f, -1.0f, std::nanf(""), std::numeric_limits<float>::infinity()})
        CHECK_THROWS_WITH(sg::bin_spikes(data, bad), Contains("bin_ms"));
    CHECK_THROWS_WITH(sg::bin_spikes(data, 1.0f, {.min_events = 0}), Contains("min_events"));
    sg::SpikeDataset broken = data;
    broken.examples[0].times[2] = -0.5f;
    CHECK_THROWS_WITH(sg::bin_spikes(broken, 1.0f), Contains("example 0") && Contains("spike 2"));
}

TEST_CASE("bin_spikes puts events on the simulator's step grid", "[preprocessing]") {
    const float dt = 0.1f;
    // Times meant as exact multiples of 0.1 ms land in their own bin, even
    // where the float is a hair below k * 0.1f.
    sg::SpikeDataset edges;
    edges.num_inputs = 1;
    const std::vector<float> on_edges{0.3f, 0.7f, 0.1f * 3.0f, float(7 * 0.1), 1.0f, 2.2f, 9.9f};
    const std::vector<std::uint64_t> bin_of_edge{3, 7, 3, 7, 10, 22, 99};
    for (float t : on_edges) edges.examples.push_back(sg::SpikeEvents{{t}, {0}});
    const sg::SpikeDataset edges_binned = sg::bin_spikes(edges, dt);
    for (std::size_t k = 0; k < on_edges.size(); ++k) {
        INFO("time " << on_edges[k]);
        CHECK(replay_step(edges_binned.examples[k].times[0], dt) == bin_of_edge[k]);
    }

    // Random times: each lands in bin floor(t / dt) (times too close to an
    // edge to tell are skipped) and is replayed in exactly that step.
    sg::detail::PhiloxStream rng(7, 0);
    sg::SpikeDataset data;
    data.num_inputs = 5;
    std::vector<std::uint64_t> expected_bin;
    sg::SpikeEvents events;
    while (events.size() < 2000) {
        const float t = rng.next_uniform() * 100.0f;
        const double q = double(t) / double(dt);
        if (std::fabs(q - std::round(q)) < 1e-5 * q) continue;
        events.times.push_back(t);
        events.ids.push_back(std::uint32_t(events.size() % 5));
    }
    data.examples.push_back(sg::make_spike_events(events.times, events.ids, 5));
    const sg::SpikeDataset binned = sg::bin_spikes(data, dt, {.duplicates = sg::DuplicateSpikes::keep});
    REQUIRE(binned.examples[0].size() == 2000);
    // Events keep their order (binning is monotone), so compare one by one.
    for (std::size_t i = 0; i < 2000; ++i) {
        const float t = data.examples[0].times[i];
        const std::uint64_t bin = std::uint64_t(std::floor(double(t) / double(dt)));
        INFO("time " << t << " bin " << bin << " binned " << binned.examples[0].times[i]);
        CHECK(replay_step(binned.examples[0].times[i], dt) == bin);
        CHECK(double(binned.examples[0].times[i]) <= double(t));
    }
    CHECK(std::is_sorted(binned.examples[0].times.begin(), binned.examples[0].times.end()));

    // Binning binned data changes nothing.
    const sg::SpikeDataset twice = sg::bin_spikes(binned, dt, {.duplicates = sg::DuplicateSpikes::keep});
    CHECK(twice.examples[0].times == binned.examples[0].times);
    CHECK(twice.examples[0].ids == binned.examples[0].ids);
}

TEST_CASE("scale_times and bin_spikes on the real N-MNIST sample", "[preprocessing][real-data]") {
    const char* root = std::getenv("SPIKEGRAPH_SHARED_DATA");
    const std::string path = root ? std::string(root) + "/events/sample_nmnist.bin" : std::string();
    std::ifstream file(path, std::ios::binary);
    if (!root || !file) {
        WARN("SKIPPED: " << (root ? path + " is missing" : std::string("SPIKEGRAPH_SHARED_DATA is not set"))
                         << "; the real-data binning test did not run");
        return;
    }
    const std::vector<unsigned char> bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    REQUIRE(bytes.size() == 4325u * 5u);
    // 5 bytes an event: x, y, p = b2 >> 7, t = 23 bits of microseconds. Neuron
    // ids as mlGeNN's preprocess_tonic_spikes for a 34x34x2 sensor: p + 2 (x + 34 y).
    std::vector<float> times;
    std::vector<std::uint32_t> ids;
    std::map<std::pair<std::uint32_t, std::uint32_t>, int> per_bin;  // (ms bin, id) -> events
    std::uint32_t latest_us = 0;
    for (std::size_t k = 0; k < bytes.size(); k += 5) {
        const std::uint32_t x = bytes[k], y = bytes[k + 1], p = bytes[k + 2] >> 7;
        const std::uint32_t t_us = (std::uint32_t(bytes[k + 2] & 0x7F) << 16) | (std::uint32_t(bytes[k + 3]) << 8) | bytes[k + 4];
        const std::uint32_t id = p + 2 * (x + 34 * y);
        times.push_back(float(t_us));
        ids.push_back(id);
        ++per_bin[{t_us / 1000, id}];
        latest_us = std::max(latest_us, t_us);
    }
    sg::SpikeDataset data;
    data.num_inputs = 34 * 34 * 2;
    data.examples.push_back(sg::preprocess_spikes(times, ids, data.num_inputs));
    const sg::SpikeDataset ms = sg::scale_times(data, 1e-3);
    CHECK(sg::calc_latest_spike_time(ms) == float(double(latest_us) * 1e-3));
    CHECK(latest_us > 300000);  // about 311 ms
    CHECK(sg::calc_max_spikes(ms) == 4325);

    for (std::size_t min_events : {1, 2, 3}) {
        INFO("min_events " << min_events);
        const sg::SpikeDataset binned = sg::bin_spikes(ms, 1.0f, {.min_events = min_events});
        std::set<std::pair<std::uint32_t, std::uint32_t>> expected, got;
        for (const auto& [key, count] : per_bin)
            if (count >= int(min_events)) expected.insert(key);
        const auto& events = binned.examples[0];
        for (std::size_t s = 0; s < events.size(); ++s) {
            REQUIRE(events.times[s] == std::floor(events.times[s]));
            got.insert({std::uint32_t(events.times[s]), events.ids[s]});
        }
        CHECK(got.size() == events.size());  // merged: one spike per (neuron, bin)
        CHECK(got == expected);
    }
}

TEST_CASE("poisson_encode: empirical rates within 5 sigma of value / max_value * max_rate", "[poisson]") {
    // 20 examples x 8000 steps of 1 ms at up to 50 Hz: p = 0.05 * value.
    sg::ValueDataset data;
    data.num_inputs = 5;
    data.num_classes = 2;
    const std::vector<float> row{0.0f, 0.1f, 0.5f, 1.0f, 0.25f};
    const std::size_t examples = 20;
    for (std::size_t e = 0; e < examples; ++e) {
        data.values.insert(data.values.end(), row.begin(), row.end());
        data.labels.push_back(std::int32_t(e % 2));
    }
    const sg::SpikeDataset spikes =
        sg::poisson_encode(data, {.max_rate_hz = 50.0, .duration_ms = 8000.0, .dt = 1.0f, .seed = 11});
    REQUIRE(spikes.size() == examples);
    CHECK(spikes.labels == data.labels);
    CHECK(spikes.num_inputs == 5);
    CHECK(spikes.num_classes == 2);

    std::vector<double> counts(5, 0.0);
    for (const auto& example : spikes.examples) {
        std::set<std::pair<float, std::uint32_t>> seen;
        for (std::size_t s = 0; s < example.size(); ++s) {
            const float t = example.times[s];
            REQUIRE(t == std::floor(t));  // on the 1 ms grid
            REQUIRE(t >= 0.0f);
            REQUIRE(t < 8000.0f);
            REQUIRE(seen.insert({t, example.ids[s]}).second);  // at most one spike per input per step
            if (s > 0) REQUIRE((example.times[s - 1] < t || (example.times[s - 1] == t && example.ids[s - 1] < example.ids[s])));
            counts[example.ids[s]] += 1.0;
        }
    }
    const double trials = double(examples) * 8000.0;
    CHECK(counts[0] == 0.0);
    for (std::size_t i = 1; i < 5; ++i) {
        const double p = double(row[i]) * 50.0 / 1000.0;
        const double mean = trials * p, sigma = std::sqrt(trials * p * (1.0 - p));
        INFO("input " << i << ": " << counts[i] << " spikes, expected " << mean << " +- " << sigma);
        CHECK(std::fabs(counts[i] - mean) < 5.0 * sigma);
    }

    // Spike counts in windows of 20 steps are Binomial(20, p): check the
    // variance too, which catches correlated steps (e.g. reused random words).
    std::vector<double> window_counts;
    for (const auto& example : spikes.examples) {
        std::vector<double> per_window(400, 0.0);
        for (std::size_t s = 0; s < example.size(); ++s)
            if (example.ids[s] == 3) per_window[std::size_t(example.times[s]) / 20] += 1.0;
        window_counts.insert(window_counts.end(), per_window.begin(), per_window.end());
    }
    const double m = double(window_counts.size());
    const double mean = std::accumulate(window_counts.begin(), window_counts.end(), 0.0) / m;
    double variance = 0.0;
    for (double c : window_counts) variance += (c - mean) * (c - mean);
    variance /= m - 1.0;
    // Binomial(20, 0.05): variance n p q, excess kurtosis (1 - 6 p q) / (n p q); the
    // sample variance of m counts has sd  variance * sqrt((2 + excess) / m).
    const double npq = 20.0 * 0.05 * 0.95, excess = (1.0 - 6.0 * 0.05 * 0.95) / npq;
    INFO("window variance " << variance << ", expected " << npq);
    CHECK(std::fabs(variance - npq) < 5.0 * npq * std::sqrt((2.0 + excess) / m));
}

TEST_CASE("poisson_encode: step grid, p = 1 and the number of steps", "[poisson]") {
    sg::ValueDataset data;
    data.num_inputs = 2;
    data.values = {255.0f, 0.0f};
    // 1000 Hz at dt = 1 ms: p = 1, a spike every step of [0, 10.5) ms: 11 steps.
    const sg::SpikeDataset every =
        sg::poisson_encode(data, {.max_rate_hz = 1000.0, .duration_ms = 10.5, .dt = 1.0f, .max_value = 255.0});
    CHECK(every.examples[0].times == std::vector<float>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
    CHECK(every.examples[0].ids == std::vector<std::uint32_t>(11, 0));

    // 30 ms at 0.01 ms is 3000 steps (not 3001), every one replayed in its own step.
    const float dt = 0.01f;
    const sg::SpikeDataset fine =
        sg::poisson_encode(data, {.max_rate_hz = 100000.0, .duration_ms = 30.0, .dt = dt, .max_value = 255.0});
    REQUIRE(fine.examples[0].size() == 3000);
    for (std::uint64_t k = 0; k < 3000; ++k) {
        const float t = fine.examples[0].times[k];
        INFO("step " << k << " time " << t);
        REQUIRE(replay_step(t, dt) == k);
    }
}

TEST_CASE("poisson_encode: deterministic per seed, independent of the other examples", "[poisson]") {
    sg::ValueDataset data;
    data.num_inputs = 16;
    data.num_classes = 3;
    for (std::size_t e = 0; e < 6; ++e) {
        for (std::size_t i = 0; i < 16; ++i) data.values.push_back(float((e * 16 + i) % 7) / 6.0f);
        data.labels.push_back(std::int32_t(e % 3));
    }
    const sg::PoissonEncoding encoding{.max_rate_hz = 200.0, .duration_ms = 300.0, .dt = 1.0f, .seed = 5};
    const sg::SpikeDataset all = sg::poisson_encode(data, encoding);
    const sg::SpikeDataset again = sg::poisson_encode(data, encoding);
    for (std::size_t e = 0; e < 6; ++e) {
        CHECK(all.examples[e].times == again.examples[e].times);
        CHECK(all.examples[e].ids == again.examples[e].ids);
    }

    sg::PoissonEncoding other_seed = encoding;
    other_seed.seed = 6;
    CHECK(sg::poisson_encode(data, other_seed).examples[0].times != all.examples[0].times);

    // Examples 2..4 encoded on their own (with their offset) get the same spikes.
    sg::ValueDataset chunk;
    chunk.num_inputs = 16;
    chunk.values.assign(data.values.begin() + 2 * 16, data.values.begin() + 5 * 16);
    sg::PoissonEncoding offset = encoding;
    offset.first_example = 2;
    const sg::SpikeDataset part = sg::poisson_encode(chunk, offset);
    for (std::size_t e = 0; e < 3; ++e) {
        CHECK(part.examples[e].times == all.examples[e + 2].times);
        CHECK(part.examples[e].ids == all.examples[e + 2].ids);
    }

    // Changing another example's values leaves example 1 unchanged.
    sg::ValueDataset changed = data;
    std::fill(changed.values.begin(), changed.values.begin() + 16, 1.0f);
    const sg::SpikeDataset changed_spikes = sg::poisson_encode(changed, encoding);
    CHECK(changed_spikes.examples[1].times == all.examples[1].times);
    CHECK(changed_spikes.examples[1].ids == all.examples[1].ids);
    CHECK(changed_spikes.examples[0].times != all.examples[0].times);

    // Different examples with equal values get different spikes.
    sg::ValueDataset twins;
    twins.num_inputs = 16;
    twins.values.assign(32, 0.5f);
    const sg::SpikeDataset twin_spikes = sg::poisson_encode(twins, encoding);
    CHECK(twin_spikes.examples[0].times != twin_spikes.examples[1].times);
}

TEST_CASE("poisson_encode: errors name the example and the feature", "[poisson]") {
    sg::ValueDataset data;
    data.num_inputs = 3;
    data.values = {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f};
    const sg::PoissonEncoding ok{.max_rate_hz = 100.0, .duration_ms = 10.0};

    for (float bad : {-0.5f, std::nanf(""), std::numeric_limits<float>::infinity(), 1.5f}) {
        sg::ValueDataset broken = data;
        broken.values[5] = bad;
        CHECK_THROWS_WITH(sg::poisson_encode(broken, ok), Contains("poisson_encode") && Contains("example 1, feature 2"));
    }
    CHECK_THROWS_WITH(sg::poisson_encode(data, {.max_rate_hz = 2000.0, .duration_ms = 10.0}),
                      Contains("spikes per step"));
    CHECK_THROWS_WITH(sg::poisson_encode(data, {.max_rate_hz = 0.0, .duration_ms = 10.0}), Contains("max_rate_hz"));
    CHECK_THROWS_WITH(sg::poisson_encode(data, {.max_rate_hz = 10.0, .duration_ms = 0.0}), Contains("duration_ms"));
    CHECK_THROWS_WITH(sg::poisson_encode(data, {.max_rate_hz = 10.0, .duration_ms = 10.0, .dt = -1.0f}), Contains("dt"));
    CHECK_THROWS_WITH(sg::poisson_encode(data, {.max_rate_hz = 10.0, .duration_ms = 10.0, .max_value = 0.0}),
                      Contains("max_value"));
    sg::ValueDataset ragged = data;
    ragged.values.pop_back();
    CHECK_THROWS_WITH(sg::poisson_encode(ragged, ok), Contains("not a multiple"));
    sg::ValueDataset mislabelled = data;
    mislabelled.labels = {0};
    CHECK_THROWS_WITH(sg::poisson_encode(mislabelled, ok), Contains("labels"));
}

TEST_CASE("shuffled_indices is a deterministic, uniform permutation", "[shuffle]") {
    const std::vector<std::size_t> order = sg::shuffled_indices(100, 3);
    std::vector<std::size_t> sorted = order;
    std::sort(sorted.begin(), sorted.end());
    std::vector<std::size_t> identity(100);
    std::iota(identity.begin(), identity.end(), std::size_t{0});
    CHECK(sorted == identity);
    CHECK(order != identity);
    CHECK(sg::shuffled_indices(100, 3) == order);
    CHECK(sg::shuffled_indices(100, 4) != order);
    CHECK(sg::shuffled_indices(0, 1).empty());
    CHECK(sg::shuffled_indices(1, 1) == std::vector<std::size_t>{0});

    // All 24 orders of 4 items, each with probability 1/24 (5 sigma).
    std::map<std::vector<std::size_t>, int> seen;
    const int trials = 24000;
    for (int seed = 0; seed < trials; ++seed) ++seen[sg::shuffled_indices(4, std::uint64_t(seed))];
    CHECK(seen.size() == 24);
    const double p = 1.0 / 24.0, mean = trials * p, sigma = std::sqrt(trials * p * (1 - p));
    for (const auto& [permutation, count] : seen) CHECK(std::fabs(count - mean) < 5 * sigma);
}

TEMPLATE_TEST_CASE("shuffle moves labels with their examples", "[shuffle]", sg::ValueDataset, sg::SpikeDataset) {
    const auto labels = cyclic_labels(50, 4);
    TestType data;
    if constexpr (std::is_same_v<TestType, sg::ValueDataset>)
        data = traced_values(labels, 4);
    else
        data = traced_spikes(labels, 4);
    const TestType shuffled = sg::shuffle(data, 9);
    REQUIRE(shuffled.size() == 50);
    CHECK(shuffled.num_classes == 4);
    CHECK(shuffled.num_inputs == data.num_inputs);
    const std::vector<std::size_t> order = sg::shuffled_indices(50, 9);
    std::vector<std::size_t> traced;
    for (std::size_t k = 0; k < 50; ++k) {
        traced.push_back(trace(shuffled, k));
        CHECK(shuffled.labels[k] == labels[trace(shuffled, k)]);
    }
    CHECK(traced == order);
    if constexpr (std::is_same_v<TestType, sg::ValueDataset>)
        for (std::size_t k = 0; k < 50; ++k) CHECK(shuffled.example(k)[1] == 1000.0f + float(order[k]));

    TestType unlabelled = data;
    unlabelled.labels.clear();
    CHECK(sg::shuffle(unlabelled, 9).labels.empty());
    TestType mislabelled = data;
    mislabelled.labels.pop_back();
    CHECK_THROWS_WITH(sg::shuffle(mislabelled, 9), Contains("50 examples but 49 labels"));
}

TEMPLATE_TEST_CASE("subset takes examples in the given order", "[split]", sg::ValueDataset, sg::SpikeDataset) {
    const auto labels = cyclic_labels(6, 3);
    TestType data;
    if constexpr (std::is_same_v<TestType, sg::ValueDataset>)
        data = traced_values(labels, 3);
    else
        data = traced_spikes(labels, 3);
    const TestType picked = sg::subset(data, {4, 0, 4});
    REQUIRE(picked.size() == 3);
    CHECK(trace(picked, 0) == 4);
    CHECK(trace(picked, 1) == 0);
    CHECK(trace(picked, 2) == 4);
    CHECK(picked.labels == std::vector<std::int32_t>{1, 0, 1});
    CHECK(sg::subset(data, {}).size() == 0);
    CHECK_THROWS_WITH(sg::subset(data, {1, 6}), Contains("index 1 is 6") && Contains("6 examples"));
}

TEMPLATE_TEST_CASE("validation_split takes the last fraction, as Keras", "[split]", sg::ValueDataset, sg::SpikeDataset) {
    auto make = [](std::size_t n) {
        if constexpr (std::is_same_v<TestType, sg::ValueDataset>)
            return traced_values(cyclic_labels(n, 3), 3);
        else
            return traced_spikes(cyclic_labels(n, 3), 3);
    };
    // (n, fraction, training examples): Keras keeps floor(n (1 - fraction)).
    const struct {
        std::size_t n;
        double fraction;
        std::size_t train;
    } cases[] = {{10, 0.2, 8}, {10, 0.25, 7}, {3, 0.5, 1}, {7, 0.1, 6}, {100, 0.15, 85}, {1000, 1.0 / 3.0, 666}};
    for (const auto& c : cases) {
        INFO("n " << c.n << " fraction " << c.fraction);
        const TestType data = make(c.n);
        const auto [train, validation] = sg::validation_split(data, c.fraction);
        REQUIRE(train.size() == c.train);
        REQUIRE(validation.size() == c.n - c.train);
        for (std::size_t k = 0; k < train.size(); ++k) CHECK(trace(train, k) == k);
        for (std::size_t k = 0; k < validation.size(); ++k) {
            CHECK(trace(validation, k) == c.train + k);
            CHECK(validation.labels[k] == data.labels[c.train + k]);
        }
    }
    CHECK_THROWS_WITH(sg::validation_split(make(10), 0.95), Contains("both parts must be non-empty"));
    for (double bad : {0.0, 1.0, -0.2, 1.5, std::nan("")})
        CHECK_THROWS_WITH(sg::validation_split(make(10), bad), Contains("fraction must be in (0, 1)"));
}

namespace {

// Largest remainder apportionment, written independently of the library:
// each class's exact share n_c k / n as a fraction, then one extra example to
// the classes with the largest fractional parts, lower class first on ties.
std::vector<std::size_t> expected_first_counts(const std::vector<std::size_t>& sizes, std::size_t k) {
    const std::size_t n = std::accumulate(sizes.begin(), sizes.end(), std::size_t{0});
    std::vector<std::size_t> take(sizes.size());
    std::vector<std::size_t> numerator(sizes.size());  // fractional part * n
    std::size_t total = 0;
    for (std::size_t c = 0; c < sizes.size(); ++c) {
        take[c] = sizes[c] * k / n;
        numerator[c] = sizes[c] * k - take[c] * n;
        total += take[c];
    }
    std::vector<bool> bumped(sizes.size(), false);
    while (total < k) {
        std::size_t best = sizes.size();
        for (std::size_t c = 0; c < sizes.size(); ++c)
            if (!bumped[c] && (best == sizes.size() || numerator[c] > numerator[best])) best = c;
        bumped[best] = true;
        ++take[best];
        ++total;
    }
    return take;
}

// `sizes[c]` examples of class c, interleaved.
std::vector<std::int32_t> labels_with_sizes(const std::vector<std::size_t>& sizes) {
    std::vector<std::int32_t> labels;
    std::vector<std::size_t> left = sizes;
    for (bool any = true; any;) {
        any = false;
        for (std::size_t c = 0; c < sizes.size(); ++c)
            if (left[c] > 0) --left[c], labels.push_back(std::int32_t(c)), any = true;
    }
    return labels;
}

template <class D>
void check_stratified(const D& data, const sg::Split<D>& split, std::size_t first_count) {
    std::vector<std::size_t> sizes(data.num_classes, 0);
    for (auto label : data.labels) ++sizes[std::size_t(label)];
    const std::vector<std::size_t> expected = expected_first_counts(sizes, first_count);

    REQUIRE(split.first.size() == first_count);
    REQUIRE(split.second.size() == data.size() - first_count);
    std::vector<std::size_t> got(data.num_classes, 0);
    for (auto label : split.first.labels) ++got[std::size_t(label)];
    CHECK(got == expected);

    // Every example exactly once, each part in dataset order, labels with their examples.
    std::vector<std::size_t> all;
    for (const D* part : {&split.first, &split.second}) {
        for (std::size_t k = 0; k < part->size(); ++k) {
            if (k > 0) CHECK(trace(*part, k - 1) < trace(*part, k));
            CHECK(part->labels[k] == data.labels[trace(*part, k)]);
            all.push_back(trace(*part, k));
        }
        CHECK(part->num_classes == data.num_classes);
    }
    std::sort(all.begin(), all.end());
    std::vector<std::size_t> identity(data.size());
    std::iota(identity.begin(), identity.end(), std::size_t{0});
    CHECK(all == identity);
}

}  // namespace

TEMPLATE_TEST_CASE("stratified_split keeps per-class proportions", "[split]", sg::ValueDataset, sg::SpikeDataset) {
    auto make = [](const std::vector<std::size_t>& sizes) {
        if constexpr (std::is_same_v<TestType, sg::ValueDataset>)
            return traced_values(labels_with_sizes(sizes), sizes.size(), 1);
        else
            return traced_spikes(labels_with_sizes(sizes), sizes.size());
    };
    // MNIST's test-set class histogram, split 8000/2000.
    const std::vector<std::size_t> mnist{980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009};
    const TestType test10k = make(mnist);
    const auto split = sg::stratified_split(test10k, 8000, 42);
    check_stratified(test10k, split, 8000);
    // By hand: 0.8 n_c = 784, 908, 825.6, 808, 785.6, 713.6, 766.4, 822.4, 779.2, 807.2;
    // the floors sum to 7997, the three extra go to the .6 classes 2, 4 and 5.
    std::vector<std::size_t> by_hand{784, 908, 826, 808, 786, 714, 766, 822, 779, 807};
    std::vector<std::size_t> got(10, 0);
    for (auto label : split.first.labels) ++got[std::size_t(label)];
    CHECK(got == by_hand);

    // Same seed, same split; another seed, another selection with the same counts.
    const auto again = sg::stratified_split(test10k, 8000, 42);
    CHECK(again.first.labels == split.first.labels);
    for (std::size_t k = 0; k < 8000; k += 97) CHECK(trace(again.first, k) == trace(split.first, k));
    const auto other = sg::stratified_split(test10k, 8000, 43);
    bool differs = false;
    for (std::size_t k = 0; k < 8000 && !differs; ++k) differs = trace(other.first, k) != trace(split.first, k);
    CHECK(differs);

    // Ties: 7 of 15 gives each class of 5 exactly 7/3; the one extra goes to class 0.
    const TestType tied = make({5, 5, 5});
    const auto tied_split = sg::stratified_split(tied, 7, 3);
    check_stratified(tied, tied_split, 7);
    CHECK(std::count(tied_split.first.labels.begin(), tied_split.first.labels.end(), 0) == 3);
    CHECK(std::count(tied_split.first.labels.begin(), tied_split.first.labels.end(), 1) == 2);

    const TestType small = make({50, 30, 20, 7});
    for (std::size_t k : {1, 10, 40, 53, 100, 106}) {
        INFO("first_count " << k);
        check_stratified(small, sg::stratified_split(small, k, 1), k);
    }
    // A fraction: round(0.8 * 107) = 86 examples first.
    check_stratified(small, sg::stratified_split(small, 0.8, 1), 86);
    check_stratified(small, sg::stratified_split(small, 0.5, 1), 54);  // 53.5 rounds up
}

TEST_CASE("stratified_split picks each example of a class with equal probability", "[split]") {
    // Class 0 has 7 examples of which 3 go first: each with probability 3/7.
    const std::vector<std::size_t> sizes{7, 13};
    sg::ValueDataset data = traced_values(labels_with_sizes(sizes), 2, 1);
    std::vector<int> chosen(data.size(), 0);
    const int trials = 3000;
    std::size_t per_class_first = 0;
    for (int seed = 0; seed < trials; ++seed) {
        const auto split = sg::stratified_split(data, std::size_t(9), std::uint64_t(seed));
        for (std::size_t k = 0; k < split.first.size(); ++k) ++chosen[trace(split.first, k)];
        per_class_first = std::size_t(std::count(split.first.labels.begin(), split.first.labels.end(), 0));
    }
    // 7 * 9 / 20 = 3.15 -> 3 (13 * 9 / 20 = 5.85 -> 6).
    REQUIRE(per_class_first == 3);
    for (std::size_t e = 0; e < data.size(); ++e) {
        const double p = data.labels[e] == 0 ? 3.0 / 7.0 : 6.0 / 13.0;
        const double mean = trials * p, sigma = std::sqrt(trials * p * (1 - p));
        INFO("example " << e << " chosen " << chosen[e] << " times, expected " << mean);
        CHECK(std::fabs(chosen[e] - mean) < 5 * sigma);
    }
}

TEST_CASE("stratified_split errors", "[split]") {
    sg::ValueDataset data = traced_values(labels_with_sizes({4, 4, 2}), 3, 1);
    for (double bad : {0.0, 1.0, -0.5, 1.5, std::nan("")})
        CHECK_THROWS_WITH(sg::stratified_split(data, bad, 1), Contains("first_fraction must be in (0, 1)"));
    CHECK_THROWS_WITH(sg::stratified_split(data, 0.01, 1), Contains("both parts must be non-empty"));
    for (int bad : {0, -3, 10, 11}) CHECK_THROWS_WITH(sg::stratified_split(data, bad, 1), Contains("first_count"));

    sg::ValueDataset unlabelled = data;
    unlabelled.labels.clear();
    CHECK_THROWS_WITH(sg::stratified_split(unlabelled, 5, 1), Contains("no labels"));

    sg::ValueDataset missing_class = data;
    missing_class.num_classes = 4;
    CHECK_THROWS_WITH(sg::stratified_split(missing_class, 5, 1), Contains("class 3 of 4 has no examples"));

    sg::ValueDataset out_of_range = data;
    out_of_range.labels[6] = 3;
    CHECK_THROWS_WITH(sg::stratified_split(out_of_range, 5, 1), Contains("example 6 has label 3"));
    out_of_range.labels[6] = -1;
    CHECK_THROWS_WITH(sg::stratified_split(out_of_range, 5, 1), Contains("example 6 has label -1"));
}

static_assert(std::ranges::forward_range<sg::Batches>);

TEST_CASE("batches cover every example once, with a final partial batch", "[batches]") {
    std::vector<sg::Batch> got;
    for (auto [first, count] : sg::batches(10, 4)) got.push_back({first, count});
    CHECK(got == std::vector<sg::Batch>{{0, 4}, {4, 4}, {8, 2}});
    CHECK(sg::batches(10, 4).size() == 3);
    CHECK(sg::batches(10, 4)[2] == sg::Batch{8, 2});
    CHECK_THROWS_WITH(sg::batches(10, 4)[3], Contains("batch 3"));
    CHECK(sg::batches(0, 4).empty());
    CHECK(sg::batches(0, 4).begin() == sg::batches(0, 4).end());
    CHECK_THROWS_WITH(sg::batches(10, 0), Contains("batch_size"));

    for (std::size_t n : {0, 1, 7, 32, 33, 100}) {
        for (std::size_t batch_size : {1, 3, 32, 64, 200}) {
            INFO("n " << n << " batch size " << batch_size);
            std::vector<int> covered(n, 0);
            std::size_t number = 0, expected_first = 0;
            for (const sg::Batch batch : sg::batches(n, batch_size)) {
                CHECK(batch.first == expected_first);
                CHECK(batch.count >= 1);
                CHECK(batch.count <= batch_size);
                for (std::size_t e = batch.first; e < batch.first + batch.count; ++e) ++covered[e];
                const bool last = batch.first + batch.count == n;
                if (!last) CHECK(batch.count == batch_size);
                expected_first += batch.count;
                ++number;
            }
            CHECK(std::all_of(covered.begin(), covered.end(), [](int c) { return c == 1; }));
            CHECK(number == (n + batch_size - 1) / batch_size);
            CHECK(sg::batches(n, batch_size).size() == number);
        }
    }
}
