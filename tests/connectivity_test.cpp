// Connectivity and weight initialisers, checked statistically (tolerances of
// 5 standard deviations of the estimator) and structurally.
#include <catch2/catch.hpp>

#include <spikegraph/spikegraph.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <vector>

namespace sg = spikegraph;
using Catch::Matchers::Contains;

namespace {

constexpr std::size_t kPre = 200;
constexpr std::size_t kPost = 300;

constexpr auto pre = sg::population<"pre", kPre>(sg::SpikeInput{});
constexpr auto post = sg::population<"post", kPost>(sg::LeakyIntegrateFire{});

sg::InferenceCompiler compiler(std::uint64_t seed) {
    return sg::InferenceCompiler{.example_timesteps = 1, .batch_size = 1, .seed = seed, .num_threads = 1,
                                 .verbose = false};
}

// One network type for every p and seed (p is a runtime value).
auto sparse_net(float p) { return sg::network(pre >> sg::FixedProbability{p, sg::Normal{0.0f, 1.0f}} >> post); }
using SparseModel = decltype(compiler(0).compile<sg::cpu>(sparse_net(0.1f)));

sg::detail::ConnectionStorage sparse_storage(float p, std::uint64_t seed) {
    SparseModel model = compiler(seed).compile<sg::cpu>(sparse_net(p));
    return model.simulator().connection_storage<0>();
}

// CSR invariants: row_start is a monotone prefix sum over every pre neuron,
// and each row's columns are strictly increasing (sorted, unique) and < kPost.
void check_csr(const sg::detail::ConnectionStorage& s) {
    REQUIRE(s.row_start.size() == kPre + 1);
    CHECK(s.row_start.front() == 0);
    CHECK(s.row_start.back() == s.columns.size());
    CHECK(s.weights.size() == s.columns.size());
    for (std::size_t i = 0; i < kPre; ++i) {
        INFO("row " << i);
        REQUIRE(s.row_start[i] <= s.row_start[i + 1]);
        for (std::uint32_t k = s.row_start[i]; k < s.row_start[i + 1]; ++k) {
            REQUIRE(s.columns[k] < kPost);
            if (k > s.row_start[i]) REQUIRE(s.columns[k - 1] < s.columns[k]);
        }
    }
}

struct Moments {
    double mean, variance;
};
Moments moments(const std::vector<float>& x) {
    double sum = 0.0;
    for (float v : x) sum += v;
    const double mean = sum / double(x.size());
    double squares = 0.0;
    for (float v : x) squares += (v - mean) * (v - mean);
    return {mean, squares / double(x.size() - 1)};
}

}  // namespace

TEST_CASE("FixedProbability: synapse count is Binomial(pre*post, p)", "[connectivity]") {
    const double pairs = double(kPre * kPost);
    for (float p : {0.003f, 0.1f, 0.37f, 0.9f}) {
        for (std::uint64_t seed : {1u, 2u, 3u}) {
            INFO("p " << p << ", seed " << seed);
            const auto s = sparse_storage(p, seed);
            check_csr(s);
            const double expected = pairs * p;
            const double sigma = std::sqrt(pairs * p * (1.0 - p));
            CHECK(std::abs(double(s.columns.size()) - expected) < 5.0 * sigma);

            // Uniform over columns and rows too: the mean column and mean row of
            // a synapse are those of a uniformly chosen pair.
            const double n = double(s.columns.size());
            double column_sum = 0.0, row_sum = 0.0;
            for (std::size_t i = 0; i < kPre; ++i)
                for (std::uint32_t k = s.row_start[i]; k < s.row_start[i + 1]; ++k) {
                    column_sum += s.columns[k];
                    row_sum += double(i);
                }
            const double column_sd = std::sqrt((double(kPost) * kPost - 1.0) / 12.0);
            const double row_sd = std::sqrt((double(kPre) * kPre - 1.0) / 12.0);
            CHECK(std::abs(column_sum / n - (kPost - 1) / 2.0) < 5.0 * column_sd / std::sqrt(n));
            CHECK(std::abs(row_sum / n - (kPre - 1) / 2.0) < 5.0 * row_sd / std::sqrt(n));
        }
    }
}

TEST_CASE("FixedProbability: p = 0 gives no synapses, p = 1 gives every pair", "[connectivity]") {
    const auto none = sparse_storage(0.0f, 9);
    check_csr(none);
    CHECK(none.columns.empty());
    CHECK(none.weights.empty());

    const auto all = sparse_storage(1.0f, 9);
    check_csr(all);
    REQUIRE(all.columns.size() == kPre * kPost);
    for (std::size_t i = 0; i < kPre; ++i) {
        REQUIRE(all.row_start[i] == i * kPost);
        for (std::size_t j = 0; j < kPost; ++j) REQUIRE(all.columns[i * kPost + j] == j);
    }
}

TEST_CASE("FixedProbability: a vanishingly small p gives (almost) no synapses", "[connectivity]") {
    // Expected count pairs * p = 6e-16: any synapse at all is a bug (e.g. a
    // geometric gap that overflows its integer type).
    for (float p : {1e-12f, 1e-20f, 1e-30f, 1e-44f}) {
        INFO("p " << p);
        const auto s = sparse_storage(p, 4);
        check_csr(s);
        CHECK(s.columns.size() <= 1);
    }
}

TEST_CASE("FixedProbability: deterministic for a seed, different across seeds", "[connectivity]") {
    const auto a = sparse_storage(0.1f, 77);
    const auto b = sparse_storage(0.1f, 77);
    const auto c = sparse_storage(0.1f, 78);
    CHECK(a.row_start == b.row_start);
    CHECK(a.columns == b.columns);
    CHECK(a.weights == b.weights);
    CHECK(a.columns != c.columns);
    CHECK(a.weights != c.weights);
}

TEST_CASE("Normal initialiser: sample mean and sd", "[connectivity][initialiser]") {
    constexpr float mean = 0.5f, sd = 2.0f;
    const auto net = sg::network(pre >> sg::Dense{sg::Normal{mean, sd}} >> post);
    auto model = compiler(3).compile<sg::cpu>(net);
    const std::vector<float> w = model.weights<"pre_post">();
    REQUIRE(w.size() == kPre * kPost);
    const double n = double(w.size());
    const Moments m = moments(w);
    CHECK(std::abs(m.mean - mean) < 5.0 * sd / std::sqrt(n));
    // Var(sample variance) = 2 sd^4 / (n - 1) for normal samples.
    CHECK(std::abs(m.variance - double(sd) * sd) < 5.0 * std::sqrt(2.0 / (n - 1.0)) * sd * sd);
    // Shape: about 68.3% within one sd (Binomial tolerance).
    double within = 0.0;
    for (float x : w) within += std::abs(x - mean) < sd ? 1.0 : 0.0;
    CHECK(std::abs(within / n - 0.682689) < 5.0 * std::sqrt(0.682689 * 0.317311 / n));

    // Sparse weights come from the same initialiser, one per synapse.
    const auto s = sparse_storage(0.5f, 3);
    const Moments sm = moments(s.weights);
    const double ns = double(s.weights.size());
    CHECK(std::abs(sm.mean) < 5.0 / std::sqrt(ns));
    CHECK(std::abs(sm.variance - 1.0) < 5.0 * std::sqrt(2.0 / (ns - 1.0)));
}

TEST_CASE("Uniform initialiser: within [min, max), sample mean and sd", "[connectivity][initialiser]") {
    constexpr float lo = -1.0f, hi = 3.0f;
    const auto net = sg::network(pre >> sg::Dense{sg::Uniform{lo, hi}} >> post);
    auto model = compiler(5).compile<sg::cpu>(net);
    const std::vector<float> w = model.weights<"pre_post">();
    REQUIRE(w.size() == kPre * kPost);
    for (float x : w) {
        REQUIRE(x >= lo);
        REQUIRE(x < hi);
    }
    const double n = double(w.size());
    const double width = double(hi) - lo;
    const Moments m = moments(w);
    CHECK(std::abs(m.mean - 1.0) < 5.0 * (width / std::sqrt(12.0)) / std::sqrt(n));
    // For a uniform of width a: variance a^2/12, fourth central moment a^4/80.
    const double var_sd = std::sqrt((1.0 / 80.0 - 1.0 / 144.0) / n) * width * width;
    CHECK(std::abs(m.variance - width * width / 12.0) < 5.0 * var_sd);
    // Each quarter of the range holds a quarter of the samples.
    std::vector<double> quarters(4, 0.0);
    for (float x : w) quarters[std::min<std::size_t>(3, std::size_t((x - lo) / width * 4.0))] += 1.0;
    for (double q : quarters) CHECK(std::abs(q / n - 0.25) < 5.0 * std::sqrt(0.25 * 0.75 / n));

    // min == max is a constant.
    auto degenerate = compiler(5).compile<sg::cpu>(sg::network(pre >> sg::Dense{sg::Uniform{2.0f, 2.0f}} >> post));
    for (float x : degenerate.weights<"pre_post">()) REQUIRE(x == 2.0f);
}

TEST_CASE("FromArray copies the values in storage order", "[connectivity][initialiser]") {
    constexpr auto a = sg::population<"a", 3>(sg::SpikeInput{});
    constexpr auto b = sg::population<"b", 4>(sg::LeakyIntegrateFire{});
    std::vector<float> values(12);
    std::iota(values.begin(), values.end(), -5.5f);
    auto model = compiler(1).compile<sg::cpu>(sg::network(a >> sg::Dense{sg::FromArray{values}} >> b));
    CHECK(model.weights<"a_b">() == values);  // dense [pre][post] row-major

    // Sparse: one value per synapse in CSR order. The connectivity stream does
    // not depend on the initialiser, so the same seed gives the same synapses.
    const auto structure = sparse_storage(0.05f, 21);
    std::vector<float> sparse_values(structure.columns.size());
    for (std::size_t k = 0; k < sparse_values.size(); ++k) sparse_values[k] = float(k) * 0.25f;
    auto sparse = compiler(21).compile<sg::cpu>(
        sg::network(pre >> sg::FixedProbability{0.05f, sg::FromArray{sparse_values}} >> post));
    const auto& s = sparse.simulator().connection_storage<0>();
    CHECK(s.columns == structure.columns);
    CHECK(s.row_start == structure.row_start);
    CHECK(s.weights == sparse_values);
}

TEST_CASE("FromArray of the wrong size names the connection and both sizes", "[connectivity][initialiser]") {
    constexpr auto a = sg::population<"a", 3>(sg::SpikeInput{});
    constexpr auto b = sg::population<"b", 4>(sg::LeakyIntegrateFire{});
    const auto net = sg::network(sg::named<"w_in">(a >> sg::Dense{sg::FromArray{std::vector<float>(5, 1.0f)}} >> b));
    CHECK_THROWS_AS(compiler(1).compile<sg::cpu>(net), sg::InvalidArgument);
    CHECK_THROWS_WITH(compiler(1).compile<sg::cpu>(net),
                      Contains("w_in") && Contains("5 values") && Contains("expected 12"));
}

TEST_CASE("OneToOne: default weight is 1, other initialisers are used as given", "[connectivity]") {
    constexpr auto a = sg::population<"a", 50>(sg::SpikeInput{});
    constexpr auto b = sg::population<"b", 50>(sg::LeakyIntegrateFire{});
    auto model = compiler(1).compile<sg::cpu>(sg::network(a >> sg::OneToOne{} >> b));
    const std::vector<float> w = model.weights<"a_b">();
    CHECK(w == std::vector<float>(50, 1.0f));

    auto scaled = compiler(1).compile<sg::cpu>(sg::network(a >> sg::OneToOne{sg::Constant{2.5f}} >> b));
    CHECK(scaled.weights<"a_b">() == std::vector<float>(50, 2.5f));
}
