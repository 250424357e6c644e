// EventProp training pieces against independent references: the optimisers
// against double-precision transcriptions of their update rules, the losses
// against hand formulas and central finite differences, training end to end on
// a tiny two-class timing task, checkpoints and resume, the learning-rate
// schedule and the errors of EventPropCompiler and train().
#include <catch2/catch.hpp>

#include <algorithm>
#include <random>
#include <cmath>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include <sys/resource.h>
#include <unistd.h>

#include <spikegraph/spikegraph.hpp>
#include <spikegraph/train/checkpoint_callback.hpp>

namespace sg = spikegraph;
namespace fs = std::filesystem;
using Catch::Matchers::Contains;

namespace {

// The message of the InvalidArgument that f throws; any other exception escapes to Catch.
template <class F>
std::string invalid_message(F&& f) {
    try {
        f();
    } catch (const sg::InvalidArgument& e) {
        return e.what();
    }
    return "<no InvalidArgument thrown>";
}

std::vector<float> to_vector(std::span<const float> s) { return {s.begin(), s.end()}; }

std::vector<std::uint8_t> file_bytes(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const fs::path& path, const std::vector<std::uint8_t>& bytes, std::size_t count) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(count));
}

fs::path fresh_dir(const std::string& name) {
    const fs::path dir = fs::current_path() / name;
    fs::remove_all(dir);
    fs::create_directories(dir);
    return dir;
}

bool has_temp_files(const fs::path& dir) {
    for (const auto& entry : fs::directory_iterator(dir))
        if (entry.path().filename().string().find(".tmp-") != std::string::npos) return true;
    return false;
}

// ---------------------------------------------------------------------------
// Optimisers: the update rules written out in double
// ---------------------------------------------------------------------------

struct AdamReference {
    double lr, beta1, beta2, epsilon;
    std::vector<double> m, v;
    int t = 0;
    // The variants a wrong implementation would compute (to show the tolerance separates them).
    bool epsilon_inside_sqrt = false;
    int step_offset = 0;

    void begin_step() { ++t; }
    void update(std::vector<double>& w, const std::vector<double>& g, std::size_t offset) {
        const double step = double(t + step_offset);
        for (std::size_t i = 0; i < w.size(); ++i) {
            double& mi = m[offset + i];
            double& vi = v[offset + i];
            mi = beta1 * mi + (1.0 - beta1) * g[i];
            vi = beta2 * vi + (1.0 - beta2) * g[i] * g[i];
            const double m_hat = mi / (1.0 - std::pow(beta1, step));
            const double v_hat = vi / (1.0 - std::pow(beta2, step));
            const double denominator = epsilon_inside_sqrt ? std::sqrt(v_hat + epsilon) : std::sqrt(v_hat) + epsilon;
            w[i] -= lr * m_hat / denominator;
        }
    }
};

// Gradient of parameter i at step t (1-based): mixed signs and magnitudes, some zero.
double fixed_gradient(int t, std::size_t i) {
    static const double base[] = {0.3, -0.02, 0.0, 1.5, -0.7};
    return base[i] * (t % 2 == 0 ? -1.0 : 1.0) + 0.01 * double(t) * (i == 2 ? 1.0 : 0.0);
}

double max_difference(const std::vector<float>& a, const std::vector<double>& b) {
    double d = 0.0;
    for (std::size_t i = 0; i < a.size(); ++i) d = std::max(d, std::abs(double(a[i]) - b[i]));
    return d;
}

TEST_CASE("Adam follows its formula step by step, with a learning-rate change", "[optimiser]") {
    const sg::Adam adam{.lr = 0.1f, .beta1 = 0.8f, .beta2 = 0.9f, .epsilon = 0.05f};
    // Two parameter arrays share one step counter, as the connections of a network do.
    sg::OptimiserState state(adam, {3, 2});
    std::vector<float> w0{1.0f, -0.5f, 0.25f}, w1{2.0f, 0.0f};
    auto reference = [&](bool epsilon_inside_sqrt, int step_offset) {
        AdamReference r{adam.lr, adam.beta1, adam.beta2, adam.epsilon, std::vector<double>(5, 0.0),
                        std::vector<double>(5, 0.0)};
        r.epsilon_inside_sqrt = epsilon_inside_sqrt;
        r.step_offset = step_offset;
        return r;
    };
    AdamReference exact = reference(false, 0), inside = reference(true, 0), from_two = reference(false, 1);
    std::vector<double> ref0{1.0, -0.5, 0.25}, ref1{2.0, 0.0};
    std::vector<double> inside0 = ref0, inside1 = ref1, late0 = ref0, late1 = ref1;
    double worst_inside = 0.0, worst_late = 0.0;
    for (int t = 1; t <= 6; ++t) {
        if (t == 4) {
            state.set_learning_rate(0.03f);
            exact.lr = inside.lr = from_two.lr = double(0.03f);
        }
        std::vector<double> g0(3), g1(2);
        for (std::size_t i = 0; i < 3; ++i) g0[i] = double(float(fixed_gradient(t, i)));
        for (std::size_t i = 0; i < 2; ++i) g1[i] = double(float(fixed_gradient(t, 3 + i)));
        const std::vector<float> gf0(g0.begin(), g0.end()), gf1(g1.begin(), g1.end());
        state.begin_step();
        state.update(0, w0, gf0);
        state.update(1, w1, gf1);
        for (AdamReference* r : {&exact, &inside, &from_two}) r->begin_step();
        exact.update(ref0, g0, 0);
        exact.update(ref1, g1, 3);
        inside.update(inside0, g0, 0);
        inside.update(inside1, g1, 3);
        from_two.update(late0, g0, 0);
        from_two.update(late1, g1, 3);
        INFO("step " << t);
        CHECK(state.steps() == std::uint64_t(t));
        CHECK(max_difference(w0, ref0) < 2e-6);
        CHECK(max_difference(w1, ref1) < 2e-6);
        worst_inside = std::max({worst_inside, max_difference(w0, inside0), max_difference(w1, inside1)});
        worst_late = std::max({worst_late, max_difference(w0, late0), max_difference(w1, late1)});
    }
    // The tolerance tells the formula from its likely mistakes.
    CHECK(worst_inside > 1e-3);
    CHECK(worst_late > 1e-3);
    CHECK(state.learning_rate() == 0.03f);
    CHECK(state.first_moments()[1][0] == Approx(exact.m[3]).epsilon(1e-6));
    CHECK(state.second_moments()[0][0] == Approx(exact.v[0]).epsilon(1e-6));
}

TEST_CASE("SGD with and without momentum follows its formula", "[optimiser]") {
    for (const float momentum : {0.0f, 0.9f}) {
        INFO("momentum " << momentum);
        sg::OptimiserState state(sg::SGD{.lr = 0.05f, .momentum = momentum}, {5});
        std::vector<float> w{0.5f, -1.0f, 0.0f, 2.0f, 0.125f};
        std::vector<double> ref(w.begin(), w.end()), velocity(5, 0.0);
        double lr = double(0.05f);
        for (int t = 1; t <= 6; ++t) {
            if (t == 3) {
                state.set_learning_rate(0.2f);
                lr = double(0.2f);
            }
            std::vector<float> g(5);
            for (std::size_t i = 0; i < 5; ++i) g[i] = float(fixed_gradient(t, i));
            state.begin_step();
            state.update(0, w, g);
            for (std::size_t i = 0; i < 5; ++i) {
                velocity[i] = double(momentum) * velocity[i] + double(g[i]);
                ref[i] -= lr * velocity[i];
            }
            INFO("step " << t);
            CHECK(max_difference(w, ref) < 2e-6);
        }
        CHECK(state.second_moments().empty());
    }
}

TEST_CASE("bad optimiser parameters are rejected naming the field", "[optimiser]") {
    using V = std::vector<std::size_t>;
    CHECK_THAT(invalid_message([] { sg::OptimiserState(sg::Adam{.beta1 = 1.0f}, V{3}); }), Contains("beta1"));
    CHECK_THAT(invalid_message([] { sg::OptimiserState(sg::Adam{.beta2 = -0.1f}, V{3}); }), Contains("beta2"));
    CHECK_THAT(invalid_message([] { sg::OptimiserState(sg::Adam{.lr = -0.001f}, V{3}); }), Contains("lr"));
    CHECK_THAT(invalid_message([] { sg::OptimiserState(sg::Adam{.epsilon = 0.0f}, V{3}); }), Contains("epsilon"));
    CHECK_THAT(invalid_message([] { sg::OptimiserState(sg::SGD{.lr = -1.0f}, V{3}); }), Contains("lr"));
    CHECK_THAT(invalid_message([] { sg::OptimiserState(sg::SGD{.momentum = 1.0f}, V{3}); }), Contains("momentum"));
    CHECK_THAT(invalid_message([] { sg::OptimiserState(sg::SGD{.lr = std::nanf("")}, V{3}); }), Contains("lr"));

    sg::OptimiserState state(sg::Adam{}, V{3});
    CHECK_THAT(invalid_message([&] { state.set_learning_rate(-0.5f); }), Contains("learning rate"));
    CHECK(state.learning_rate() == sg::Adam{}.lr);
    std::vector<float> w(2), g(2);
    CHECK_THAT(invalid_message([&] { state.update(0, w, g); }), Contains("2 weights") && Contains("expected 3"));
    CHECK_THAT(invalid_message([&] { state.update(1, w, g); }), Contains("no parameter array 1"));
    std::vector<float> w3{1.0f, 2.0f, 3.0f}, g3{0.5f, 0.5f, 0.5f};
    CHECK_THAT(invalid_message([&] { state.update_range(0, w3, g3, 2, 2); }), Contains("range [2, 4)") && Contains("outside"));
    CHECK(w3 == std::vector<float>{1.0f, 2.0f, 3.0f});
}

// update_range() over the parts of an array is update() over the whole.
TEST_CASE("the optimisers' update over ranges equals the update over the whole array", "[optimiser]") {
    for (const sg::Optimiser optimiser : {sg::Optimiser{sg::Adam{.lr = 0.1f}}, sg::Optimiser{sg::SGD{.lr = 0.1f, .momentum = 0.5f}}}) {
        sg::OptimiserState whole(optimiser, {7}), parts(optimiser, {7});
        std::vector<float> w(7, 0.5f), v(7, 0.5f);
        for (int t = 1; t <= 3; ++t) {
            std::vector<float> g(7);
            for (std::size_t i = 0; i < 7; ++i) g[i] = float(fixed_gradient(t, i % 5)) * float(i + 1);
            whole.begin_step();
            parts.begin_step();
            whole.update(0, w, g);
            parts.update_range(0, v, g, 4, 3);
            parts.update_range(0, v, g, 0, 4);
        }
        CHECK(v == w);
        CHECK(parts.first_moments() == whole.first_moments());
        CHECK(w != std::vector<float>(7, 0.5f));
    }
}

// ---------------------------------------------------------------------------
// Losses
// ---------------------------------------------------------------------------

// y values are multiples of 2^-4 and the step 2^-10, so y +- h is exact in float
// and the central difference is of the loss the library computes, in double.
constexpr double fd_step = 1.0 / 1024.0;

struct LossCall {
    sg::Loss loss;
    sg::LossContext context;
    std::size_t num_outputs;
    std::vector<std::int32_t> labels;
    std::size_t batch_size;

    double value(const std::vector<float>& y) const {
        std::vector<float> gradient(y.size());
        return sg::loss_and_gradient(loss, context, y, num_outputs, labels, batch_size, gradient);
    }
    std::vector<float> gradient(const std::vector<float>& y) const {
        std::vector<float> g(y.size());
        sg::loss_and_gradient(loss, context, y, num_outputs, labels, batch_size, g);
        return g;
    }
    // d(sum of losses / batch_size) / dy_i by central differences.
    double finite_difference(std::vector<float> y, std::size_t i) const {
        const float centre = y[i];
        y[i] = float(double(centre) + fd_step);
        const double up = value(y);
        y[i] = float(double(centre) - fd_step);
        const double down = value(y);
        return (up - down) / (2.0 * fd_step) / double(batch_size);
    }
};

void check_gradient_by_finite_differences(const LossCall& call, const std::vector<float>& y) {
    const std::vector<float> g = call.gradient(y);
    for (std::size_t i = 0; i < y.size(); ++i) {
        INFO("readout " << i);
        CHECK(double(g[i]) == Approx(call.finite_difference(y, i)).epsilon(1e-4).margin(1e-6));
    }
}

TEST_CASE("sparse categorical crossentropy on a variable readout", "[loss]") {
    // Three examples of four outputs; the batch holds five, so gradients are the sum over 5.
    const std::vector<float> y{0.5f, -1.25f, 2.0f, 0.0625f, 3.0f, 3.0f, -4.5f, 0.0f, -0.75f, 1.5f, 0.25f, -2.0f};
    const LossCall call{sg::SparseCategoricalCrossentropy{}, sg::LossContext{}, 4, {2, 0, 3}, 5};
    double expected = 0.0;
    for (std::size_t e = 0; e < 3; ++e) {
        double sum = 0.0;
        for (std::size_t k = 0; k < 4; ++k) sum += std::exp(double(y[e * 4 + k]));
        expected += std::log(sum) - double(y[e * 4 + std::size_t(call.labels[e])]);
    }
    CHECK(call.value(y) == Approx(expected).epsilon(1e-12));
    check_gradient_by_finite_differences(call, y);
    // Large readouts must not overflow (the softmax is shifted by its maximum).
    const std::vector<float> large{1000.0f, 990.0f};
    const LossCall two{sg::SparseCategoricalCrossentropy{}, sg::LossContext{}, 2, {1}, 1};
    CHECK(two.value(large) == Approx(10.0 + std::log1p(std::exp(-10.0))).epsilon(1e-12));
}

TEST_CASE("mean square error on a variable readout", "[loss]") {
    const std::vector<float> y{0.5f, -1.25f, 2.0f, 0.0625f, 1.0f, 0.0f};
    const LossCall call{sg::MeanSquareError{}, sg::LossContext{}, 3, {2, 1}, 4};
    double expected = 0.0;
    for (std::size_t e = 0; e < 2; ++e)
        for (std::size_t k = 0; k < 3; ++k) {
            const double target = k == std::size_t(call.labels[e]) ? 1.0 : 0.0;
            expected += (double(y[e * 3 + k]) - target) * (double(y[e * 3 + k]) - target) / 3.0;
        }
    CHECK(call.value(y) == Approx(expected).epsilon(1e-12));
    check_gradient_by_finite_differences(call, y);
}

TEST_CASE("first-spike-time loss: value, gradient in t, silent neurons", "[loss]") {
    // Parameters as the library holds them (float), so the formula sees the same numbers.
    const double T = 20.0, temperature = 0.5, alpha = double(0.05f);
    const sg::LossContext context{.first_spike_time = true,
                                  .example_time = float(T),
                                  .softmax_temperature = float(temperature),
                                  .ttfs_alpha = float(alpha)};
    auto formula = [&](const std::vector<double>& t, std::size_t label) {
        double sum = 0.0;
        for (double tk : t) sum += std::exp(-tk / temperature);
        return -(-t[label] / temperature - std::log(sum)) + alpha / (1.01 * T - t[label]);
    };
    constexpr float silent = std::numeric_limits<float>::lowest();

    SECTION("all neurons fired") {
        const std::vector<double> t0{3.5, 7.25, 12.0}, t1{15.0, 2.0, 2.5};
        const std::vector<float> y{-3.5f, -7.25f, -12.0f, -15.0f, -2.0f, -2.5f};  // y = -t
        const LossCall call{sg::SparseCategoricalCrossentropy{}, context, 3, {1, 2}, 2};
        CHECK(call.value(y) == Approx(formula(t0, 1) + formula(t1, 2)).epsilon(1e-12));
        check_gradient_by_finite_differences(call, y);
        // And directly in t: dL/dt = -dL/dy.
        const std::vector<float> g = call.gradient(y);
        std::vector<double> t_up = t0, t_down = t0;
        t_up[0] += 1e-4;
        t_down[0] -= 1e-4;
        CHECK(-double(g[0]) == Approx((formula(t_up, 1) - formula(t_down, 1)) / 2e-4 / 2.0).epsilon(1e-5));
    }
    SECTION("a silent neuron counts as firing at T; only a silent label neuron gets a push") {
        // Example 0: output 2 silent, label 0. Example 1: output 1 silent and the label.
        const std::vector<float> y{-3.5f, -7.25f, silent, -4.0f, silent, -9.0f};
        const std::vector<float> at_end{-3.5f, -7.25f, -float(T), -4.0f, -float(T), -9.0f};
        const LossCall call{sg::SparseCategoricalCrossentropy{}, context, 3, {0, 1}, 2};
        CHECK(call.value(y) == Approx(formula({3.5, 7.25, T}, 0) + formula({4.0, T, 9.0}, 1)).epsilon(1e-12));
        const std::vector<float> g = call.gradient(y), g_end = call.gradient(at_end);
        CHECK(g[0] == g_end[0]);
        CHECK(g[1] == g_end[1]);
        CHECK(g[2] == 0.0f);                                            // silent, not the label
        CHECK(g[4] == g_end[4]);                                        // silent label: as if it fired at T
        CHECK(double(g[4]) == Approx(call.finite_difference(at_end, 4)).epsilon(1e-4));
        CHECK(g[4] < 0.0f);                                             // dL/dV < 0: raise V, fire
    }
    SECTION("mean square error needs a variable readout") {
        const std::vector<float> y{-3.5f, -7.25f};
        const LossCall call{sg::MeanSquareError{}, context, 2, {0}, 1};
        CHECK_THAT(invalid_message([&] { call.value(y); }), Contains("mean_square_error"));
    }
    SECTION("readouts and gradient must fit labels x outputs") {
        std::vector<float> y(5), g(5);
        const std::vector<std::int32_t> labels{0, 1};
        CHECK_THAT(invalid_message([&] { sg::loss_and_gradient(sg::SparseCategoricalCrossentropy{}, context, y, 3, labels, 2, g); }),
                   Contains("5 readouts"));
    }
}

// ---------------------------------------------------------------------------
// A tiny timing task: every input neuron spikes once in both classes, so
// spike counts carry no information; class 0 has inputs 0-3 early (2-10 ms)
// and 4-7 late (14-22 ms), class 1 the reverse. Times jitter by up to 2 ms.
// ---------------------------------------------------------------------------

constexpr int example_timesteps = 30;  // dt = 1 ms
constexpr std::size_t num_inputs = 8;

sg::SpikeDataset timing_task(std::size_t n, std::uint64_t seed) {
    std::uint64_t state = seed * 0x9E3779B97F4A7C15ull + 1;
    auto uniform = [&] {  // 64-bit LCG, top 53 bits
        state = state * 6364136223846793005ull + 1442695040888963407ull;
        return double(state >> 11) / double(1ull << 53);
    };
    sg::SpikeDataset data;
    data.num_inputs = num_inputs;
    data.num_classes = 2;
    for (std::size_t e = 0; e < n; ++e) {
        const int label = int(e % 2);
        std::vector<float> times;
        std::vector<std::uint32_t> ids;
        for (std::uint32_t k = 0; k < 4; ++k) {
            times.push_back(float(2.0 + 2.0 * k + 2.0 * uniform()));
            ids.push_back(std::uint32_t(label) * 4 + k);
            times.push_back(float(14.0 + 2.0 * k + 2.0 * uniform()));
            ids.push_back(std::uint32_t(1 - label) * 4 + k);
        }
        data.examples.push_back(sg::make_spike_events(times, ids, num_inputs));
        data.labels.push_back(label);
    }
    return data;
}

// mlGeNN's EventProp neuron: absolute reset, scaled input.
constexpr sg::LeakyIntegrateFire lif{.v_thresh = 1.0f, .tau_mem = 20.0f, .relative_reset = false,
                                     .integrate_during_refrac = false, .scale_i = true};
constexpr sg::Exponential synapse{.tau = 5.0f, .scale_i = true};
constexpr auto input = sg::population<"input", num_inputs>(sg::SpikeInput{});
constexpr auto hidden = sg::population<"hidden", 12>(lif);
constexpr auto li_output = sg::population<"output", 2>(sg::LeakyIntegrate{.tau_mem = 20.0f, .scale_i = true},
                                                       sg::AvgVarExpWeight{});
constexpr auto lif_output = sg::population<"output", 2>(lif, sg::FirstSpikeTime{});

constexpr auto variable_net = sg::network(input >> sg::Dense{sg::Normal{1.5f, 0.8f}} >> synapse >> hidden,
                                          hidden >> sg::Dense{sg::Normal{0.0f, 0.5f}} >> synapse >> li_output);
constexpr auto first_spike_net = sg::network(input >> sg::Dense{sg::Normal{1.5f, 0.8f}} >> synapse >> hidden,
                                             hidden >> sg::Dense{sg::Normal{1.0f, 0.3f}} >> synapse >> lif_output);

sg::EventPropCompiler compiler(unsigned threads = 1, std::uint64_t seed = 3) {
    return sg::EventPropCompiler{.example_timesteps = example_timesteps,
                                 .optimiser = sg::Adam{.lr = 0.02f},
                                 .batch_size = 8,
                                 .seed = seed,
                                 .num_threads = threads,
                                 .verbose = false};
}

auto compile_variable(unsigned threads = 1, std::uint64_t seed = 3) {
    return compiler(threads, seed).compile<sg::cpu>(variable_net);
}
using VariableModel = decltype(compile_variable());

struct Snapshot {
    std::vector<float> input_hidden, hidden_output;
    bool operator==(const Snapshot&) const = default;
};
template <class Model>
Snapshot weights_of(const Model& model) {
    return {to_vector(model.template weights<"input_hidden">()), to_vector(model.template weights<"hidden_output">())};
}

double max_relative_difference(const std::vector<float>& a, const std::vector<float>& b) {
    double d = 0.0;
    for (std::size_t i = 0; i < a.size(); ++i)
        d = std::max(d, std::abs(double(a[i]) - double(b[i])) / std::max(1e-3, std::abs(double(b[i]))));
    return d;
}

const std::string accuracy = "sparse_categorical_accuracy";

TEST_CASE("EventProp learns a timing task with an LI output (AvgVarExpWeight)", "[training]") {
    const sg::SpikeDataset train = timing_task(64, 1), test = timing_task(32, 2);
    VariableModel model = compile_variable();
    const sg::Metrics before = model.evaluate_with_loss(test);
    CHECK(before.at(accuracy) <= 0.75);  // the initial weights do not solve it

    SECTION("validation_split: the last quarter validates") {
        const sg::History history = model.train(train, {.epochs = 10, .validation_split = 0.25});
        REQUIRE(history.epochs.size() == 10);
        for (const auto& key : {"loss", "sparse_categorical_accuracy", "val_loss", "val_sparse_categorical_accuracy"})
            CHECK(history.last().count(key) == 1);
        CHECK(history.last().at("loss") < history.epochs.front().at("loss"));
        CHECK(history.last().at(accuracy) == 1.0);
        // Validation metrics are those of the last 16 examples under the final weights.
        sg::SpikeDataset tail;
        tail.num_inputs = num_inputs;
        tail.num_classes = 2;
        tail.examples.assign(train.examples.begin() + 48, train.examples.end());
        tail.labels.assign(train.labels.begin() + 48, train.labels.end());
        const sg::Metrics validation = model.evaluate_with_loss(tail);
        CHECK(history.last().at("val_loss") == validation.at("loss"));
        CHECK(history.last().at("val_sparse_categorical_accuracy") == validation.at(accuracy));
        CHECK(model.epochs_done() == 10);
        CHECK(model.optimiser_state().steps() == 10 * 6);  // 48 training examples, batches of 8
    }
    SECTION("explicit validation data") {
        const sg::History history = model.train(train, test, {.epochs = 10});
        CHECK(history.last().count("val_loss") == 1);
        CHECK(history.last().at("val_loss") == model.evaluate_with_loss(test).at("loss"));
    }
    SECTION("no validation: no val_ keys") {
        const sg::History history = model.train(train, {.epochs = 10});
        CHECK(history.last().count("loss") == 1);
        CHECK(history.last().count("val_loss") == 0);
        CHECK(history.last().count("val_sparse_categorical_accuracy") == 0);
    }
    const sg::Metrics after = model.evaluate_with_loss(test);
    CHECK(after.at("loss") < before.at("loss"));
    CHECK(after.at(accuracy) == 1.0);
}

TEST_CASE("EventProp learns a timing task with a first-spike-time LIF output", "[training]") {
    const sg::SpikeDataset train = timing_task(64, 1), test = timing_task(32, 2);
    auto model = compiler().compile<sg::cpu>(first_spike_net);
    const sg::Metrics before = model.evaluate_with_loss(test);
    CHECK(before.at(accuracy) <= 0.75);
    const sg::History history = model.train(train, {.epochs = 6});
    CHECK(history.last().at("loss") < history.epochs.front().at("loss"));
    const sg::Metrics after = model.evaluate_with_loss(test);
    CHECK(after.at("loss") < before.at("loss") / 4);
    CHECK(after.at(accuracy) == 1.0);
    // The readout is -t of the first spike: every output fired within the example.
    const sg::Predictions p = model.predict(test);
    for (float y : p.values) {
        CHECK(y <= 0.0f);
        CHECK(y >= -float(example_timesteps));
    }
}

TEST_CASE("training is deterministic for a seed", "[training]") {
    const sg::SpikeDataset train = timing_task(40, 1);
    for (const bool shuffle : {false, true}) {
        INFO("shuffle " << shuffle);
        VariableModel a = compile_variable(), b = compile_variable();
        a.train(train, {.epochs = 3, .shuffle = shuffle, .shuffle_seed = 7});
        b.train(train, {.epochs = 3, .shuffle = shuffle, .shuffle_seed = 7});
        CHECK(weights_of(a) == weights_of(b));
    }
    // Another seed draws other initial weights.
    CHECK_FALSE(weights_of(compile_variable(1, 3)) == weights_of(compile_variable(1, 4)));
}

TEST_CASE("threads: forward pass identical, gradients equal up to summation order", "[training][threads]") {
    const sg::SpikeDataset train = timing_task(40, 1);
    VariableModel one = compile_variable(1), two = compile_variable(2);
    CHECK(one.predict(train).values == two.predict(train).values);

    // One batch of 8 lanes: the backward sums lanes in a different order per thread count.
    std::vector<std::size_t> lanes{0, 1, 2, 3, 4, 5, 6, 7};
    std::vector<std::vector<float>> gradients;
    for (VariableModel* model : {&one, &two}) {
        auto& sim = model->simulator();
        sim.set_input<0>(sg::make_input_batch(train, std::span<const std::size_t>(lanes)));
        sim.run();
        std::vector<float> y(16), dy(16);
        sim.readout<2>(y);
        const std::vector<std::int32_t> labels(train.labels.begin(), train.labels.begin() + 8);
        sg::loss_and_gradient(sg::SparseCategoricalCrossentropy{}, sg::LossContext{}, y, 2, labels, 8, dy);
        sim.zero_gradients();
        sim.backward<2>(dy);
        gradients.push_back(to_vector(sim.gradient<0>()));
    }
    CHECK(max_relative_difference(gradients[0], gradients[1]) < 1e-4);

    // After training, weights agree closely (float summation order only).
    one.train(train, {.epochs = 3});
    two.train(train, {.epochs = 3});
    CHECK(max_relative_difference(weights_of(one).input_hidden, weights_of(two).input_hidden) < 1e-4);
    CHECK(max_relative_difference(weights_of(one).hidden_output, weights_of(two).hidden_output) < 1e-4);
}

// EventPropSimulator::backward sums lanes in a fixed number of groups and the
// groups in a fixed order, so the thread count cannot change the result.
TEST_CASE("threads: 1 and 2 threads train bit-identical weights", "[training][threads]") {
    const sg::SpikeDataset train = timing_task(40, 1);
    VariableModel one = compile_variable(1), two = compile_variable(2);
    one.train(train, {.epochs = 3});
    two.train(train, {.epochs = 3});
    INFO("largest relative difference: " << max_relative_difference(weights_of(one).input_hidden, weights_of(two).input_hidden));
    CHECK(weights_of(one) == weights_of(two));
}

// Training hands each block of the gradient to the optimiser as the
// simulator sums the lanes' groups into it (for_each_gradient_block); that
// must be the step of update() on the whole summed gradient().
TEST_CASE("the optimiser's step over summed gradient blocks equals update() on gradient()", "[training][optimiser]") {
    const sg::SpikeDataset data = timing_task(8, 5);
    const std::vector<std::size_t> lanes{0, 1, 2, 3, 4, 5, 6, 7};
    for (const unsigned threads : {1u, 3u}) {
        INFO("threads " << threads);
        VariableModel trained = compile_variable(threads), reference = compile_variable(threads);
        REQUIRE(trained.simulator().gradient_groups() > 1);  // there is a sum to take
        std::vector<float> outputs;
        trained.train_on_batch(data, lanes, outputs);

        auto& sim = reference.simulator();
        sim.set_input<0>(sg::make_input_batch(data, std::span<const std::size_t>(lanes)));
        sim.run();
        std::vector<float> y(16), dy(16);
        sim.readout<2>(y);
        CHECK(y == outputs);
        const std::vector<std::int32_t> labels(data.labels.begin(), data.labels.end());
        sg::loss_and_gradient(sg::SparseCategoricalCrossentropy{}, reference.settings().loss_context, y, 2, labels, 8, dy);
        sim.zero_gradients();
        sim.backward<2>(dy);
        const std::vector<float> g0 = to_vector(sim.gradient<0>()), g1 = to_vector(sim.gradient<1>());
        CHECK(to_vector(sim.gradient<0>()) == g0);  // summed once: a second read gives the same
        CHECK(std::any_of(g0.begin(), g0.end(), [](float g) { return g != 0.0f; }));

        Snapshot expected = weights_of(reference);
        sg::OptimiserState adam(sg::Adam{.lr = 0.02f}, {expected.input_hidden.size(), expected.hidden_output.size()});
        adam.begin_step();
        adam.update(0, expected.input_hidden, g0);
        adam.update(1, expected.hidden_output, g1);
        CHECK(weights_of(trained) == expected);
        CHECK_FALSE(weights_of(reference) == expected);  // the step moved the weights
    }
}

// The CPU simulator's run_and_backward() runs each lane's backward pass right
// after its forward pass; training takes it where the lanes are independent
// and the threads no more than the gradient groups. It must change nothing.
template <class Model>
void check_run_and_backward_equals_run_then_backward(Model& fused, Model& reference, const sg::SpikeDataset& data,
                                                     const sg::LossContext& context) {
    std::vector<std::size_t> lanes{3, 0, 5, 6, 1, 2, 7};  // 7 of the batch's 8 lanes
    const std::vector<std::int32_t> labels = [&] {
        std::vector<std::int32_t> l;
        for (std::size_t i : lanes) l.push_back(data.labels[i]);
        return l;
    }();
    const std::size_t n = lanes.size();
    std::vector<float> y(n * 2), dy(n * 2);

    auto& a = reference.simulator();
    a.template set_input<0>(sg::make_input_batch(data, std::span<const std::size_t>(lanes)));
    a.run();
    a.template readout<2>(y);
    std::vector<double> losses(n);
    for (std::size_t lane = 0; lane < n; ++lane)
        losses[lane] = sg::loss_and_gradient(sg::SparseCategoricalCrossentropy{}, context, std::span<const float>(y).subspan(lane * 2, 2),
                                             2, std::span<const std::int32_t>(labels).subspan(lane, 1), n,
                                             std::span<float>(dy).subspan(lane * 2, 2));
    a.zero_gradients();
    a.template backward<2>(dy);

    auto& b = fused.simulator();
    REQUIRE(b.prefers_run_and_backward());
    b.template set_input<0>(sg::make_input_batch(data, std::span<const std::size_t>(lanes)));
    b.zero_gradients();
    std::vector<float> seen(n * 2, -1.0f);
    std::vector<int> calls(n, 0);
    b.template run_and_backward<2>([&](std::size_t lane, std::span<const float> readout, std::span<float> gradient) {
        REQUIRE(lane < n);
        REQUIRE(readout.size() == 2);
        REQUIRE(gradient.size() == 2);
        ++calls[lane];
        std::copy(readout.begin(), readout.end(), seen.begin() + std::ptrdiff_t(lane * 2));
        sg::loss_and_gradient(sg::SparseCategoricalCrossentropy{}, context, readout, 2,
                              std::span<const std::int32_t>(labels).subspan(lane, 1), n, gradient);
    });
    CHECK(calls == std::vector<int>(n, 1));
    CHECK(seen == y);
    std::vector<float> y_fused(n * 2);
    b.template readout<2>(y_fused);
    CHECK(y_fused == y);
    CHECK(to_vector(b.template gradient<0>()) == to_vector(a.template gradient<0>()));
    CHECK(to_vector(b.template gradient<1>()) == to_vector(a.template gradient<1>()));
    CHECK(b.stored_spikes() == a.stored_spikes());
    CHECK(b.synaptic_events() == a.synaptic_events());
    const auto totals = [](auto span) { return std::vector<std::uint64_t>(span.begin(), span.end()); };
    CHECK(totals(b.template spike_totals<1>()) == totals(a.template spike_totals<1>()));
    // The forward pass alone, after it, still gives the same readouts and backward() still works.
    b.run();
    b.template readout<2>(y_fused);
    CHECK(y_fused == y);
    // Not zero: the gradients compared above carry information.
    CHECK(std::any_of(a.template gradient<0>().begin(), a.template gradient<0>().end(), [](float g) { return g != 0.0f; }));
}

TEST_CASE("run_and_backward equals run then backward, bit for bit", "[training][fused]") {
    const sg::SpikeDataset data = timing_task(8, 5);
    for (const unsigned threads : {1u, 2u}) {
        INFO("threads " << threads);
        SECTION("LI output, AvgVarExpWeight") {
            VariableModel fused = compile_variable(threads), reference = compile_variable(threads);
            check_run_and_backward_equals_run_then_backward(fused, reference, data, fused.settings().loss_context);
        }
        SECTION("first-spike-time output") {
            auto fused = compiler(threads).compile<sg::cpu>(first_spike_net);
            auto reference = compiler(threads).compile<sg::cpu>(first_spike_net);
            check_run_and_backward_equals_run_then_backward(fused, reference, data, fused.settings().loss_context);
        }
    }
}

TEST_CASE("train() takes run_and_backward only where it may, and its weights are those of run() then train_batch()",
          "[training][fused]") {
    const sg::SpikeDataset train = timing_task(44, 1);  // 5 full batches of 8 and one of 4
    // Batch 8: 2 gradient groups. One thread fuses; four do not (more threads than groups).
    VariableModel fused = compile_variable(1), unfused = compile_variable(4), stepwise = compile_variable(1);
    CHECK(fused.simulator().prefers_run_and_backward());
    CHECK_FALSE(unfused.simulator().prefers_run_and_backward());
    fused.train(train, {.epochs = 2, .shuffle = false});
    unfused.train(train, {.epochs = 2, .shuffle = false});
    // The same steps by hand, each batch run() and then train_batch().
    std::vector<float> outputs;
    for (int epoch = 0; epoch < 2; ++epoch)
        for (std::size_t first = 0; first < train.size(); first += 8) {
            std::vector<std::size_t> indices;
            for (std::size_t i = first; i < std::min(train.size(), first + 8); ++i) indices.push_back(i);
            stepwise.simulator().set_input<0>(sg::make_input_batch(train, std::span<const std::size_t>(indices)));
            stepwise.simulator().run();
            stepwise.train_batch(train, indices, outputs);
        }
    CHECK(weights_of(fused) == weights_of(stepwise));
    CHECK(weights_of(unfused) == weights_of(stepwise));
    CHECK_FALSE(weights_of(fused) == weights_of(compile_variable(1)));  // it did train

    // train_on_batch is one such step.
    VariableModel one_step = compile_variable(1), by_hand = compile_variable(1);
    const std::vector<std::size_t> indices{4, 9, 2, 30, 31, 0, 7, 11};
    std::vector<float> fused_outputs, hand_outputs;
    const double fused_loss = one_step.train_on_batch(train, indices, fused_outputs);
    by_hand.simulator().set_input<0>(sg::make_input_batch(train, std::span<const std::size_t>(indices)));
    by_hand.simulator().run();
    const double hand_loss = by_hand.train_batch(train, indices, hand_outputs);
    CHECK(fused_outputs == hand_outputs);
    CHECK(fused_loss == Approx(hand_loss).epsilon(1e-12));
    CHECK(weights_of(one_step) == weights_of(by_hand));

    // Spike regularisation makes each lane's gradient depend on the batch's mean count.
    auto regularised = sg::EventPropCompiler{.example_timesteps = example_timesteps, .batch_size = 8, .num_threads = 1,
                                             .reg_lambda_upper = 1e-3f, .reg_nu_upper = 1.0f, .verbose = false}
                           .compile<sg::cpu>(variable_net);
    CHECK_FALSE(regularised.simulator().prefers_run_and_backward());
    CHECK_THAT(invalid_message([&] {
                   regularised.simulator().run_and_backward<2>([](std::size_t, std::span<const float>, std::span<float>) {});
               }),
               Contains("spike regularisation"));
}

// ---------------------------------------------------------------------------
// Checkpoints and resume
// ---------------------------------------------------------------------------

struct TrainingState {
    Snapshot weights;
    int epochs_done;
    float learning_rate;
    std::uint64_t steps;
    std::vector<std::vector<float>> first, second;
    bool operator==(const TrainingState&) const = default;
};
TrainingState state_of(const VariableModel& model) {
    return {weights_of(model), model.epochs_done(), model.learning_rate(), model.optimiser_state().steps(),
            model.optimiser_state().first_moments(), model.optimiser_state().second_moments()};
}

// Same population sizes and connection names, but the hidden population is called "h".
constexpr auto renamed_hidden = sg::population<"h", 12>(lif);
constexpr auto renamed_net =
    sg::network(sg::named<"input_hidden">(input >> sg::Dense{sg::Normal{1.5f, 0.8f}} >> synapse >> renamed_hidden),
                sg::named<"hidden_output">(renamed_hidden >> sg::Dense{sg::Normal{0.0f, 0.5f}} >> synapse >> li_output));

TEST_CASE("Checkpoint callback and resume continue training exactly", "[checkpoint]") {
    const sg::SpikeDataset train = timing_task(40, 1);
    const fs::path dir = fresh_dir("event_prop_resume");
    const sg::TrainOptions four{.epochs = 4, .shuffle = true, .shuffle_seed = 11};

    VariableModel first = compile_variable();
    first.train(train, {.epochs = 2, .shuffle = true, .shuffle_seed = 11}, sg::Checkpoint{dir});
    CHECK(fs::is_regular_file(dir / "epoch-1.npz"));
    CHECK(fs::is_regular_file(dir / "epoch-2.npz"));
    CHECK_FALSE(fs::exists(dir / "epoch-3.npz"));

    VariableModel resumed = compile_variable();
    REQUIRE(sg::resume_from_latest(resumed, dir));
    CHECK(state_of(resumed) == state_of(first));
    resumed.train(train, four);

    VariableModel uninterrupted = compile_variable();
    uninterrupted.train(train, four);
    CHECK(resumed.epochs_done() == 4);
    CHECK(state_of(resumed) == state_of(uninterrupted));

    // The epochs after the resume did change the weights (the comparison above is not vacuous).
    CHECK_FALSE(weights_of(resumed) == weights_of(first));

    SECTION("from an older checkpoint too") {
        VariableModel from_one = compile_variable();
        sg::resume_training(from_one, dir / "epoch-1.npz");
        CHECK(from_one.epochs_done() == 1);
        from_one.train(train, four);
        CHECK(state_of(from_one) == state_of(uninterrupted));
    }
    SECTION("epoch_interval") {
        const fs::path sparse_dir = fresh_dir("event_prop_interval");
        VariableModel model = compile_variable();
        model.train(train, {.epochs = 4}, sg::Checkpoint{sparse_dir, 2});
        CHECK_FALSE(fs::exists(sparse_dir / "epoch-1.npz"));
        CHECK(fs::is_regular_file(sparse_dir / "epoch-2.npz"));
        CHECK_FALSE(fs::exists(sparse_dir / "epoch-3.npz"));
        CHECK(fs::is_regular_file(sparse_dir / "epoch-4.npz"));
        fs::remove_all(sparse_dir);
    }
    SECTION("no checkpoint yet") {
        VariableModel model = compile_variable();
        const TrainingState before = state_of(model);
        CHECK_FALSE(sg::resume_from_latest(model, dir / "missing"));
        CHECK(state_of(model) == before);
    }
    fs::remove_all(dir);
}

TEST_CASE("a bad checkpoint leaves the model as it was", "[checkpoint]") {
    const sg::SpikeDataset train = timing_task(24, 1);
    const fs::path dir = fresh_dir("event_prop_bad_checkpoint");
    VariableModel source = compile_variable(1, 5);
    source.train(train, {.epochs = 2});
    sg::save_training_state(source, dir / "good.npz");
    const std::vector<std::uint8_t> good = file_bytes(dir / "good.npz");

    // A model in its own state: other weights, one epoch done, another rate.
    VariableModel model = compile_variable(1, 6);
    model.train(train, {.epochs = 1});
    model.set_learning_rate(0.0125f);
    const TrainingState before = state_of(model);
    REQUIRE_FALSE(before == state_of(source));

    SECTION("truncated") {
        for (const std::size_t length : {std::size_t{0}, std::size_t{10}, good.size() / 4, good.size() / 2,
                                         good.size() - 30, good.size() - 1}) {
            const fs::path cut = dir / ("cut-" + std::to_string(length) + ".npz");
            write_bytes(cut, good, length);
            INFO("length " << length);
            CHECK_THAT(invalid_message([&] { sg::resume_training(model, cut); }), Contains(cut.string()));
            CHECK(state_of(model) == before);
        }
        // resume_from_latest takes the newest file, here a truncated one.
        const fs::path latest_dir = fresh_dir("event_prop_bad_latest");
        write_bytes(latest_dir / "epoch-3.npz", good, good.size() / 2);
        CHECK_THAT(invalid_message([&] { sg::resume_from_latest(model, latest_dir); }), Contains("epoch-3.npz"));
        CHECK(state_of(model) == before);
        fs::remove_all(latest_dir);
    }
    SECTION("another graph") {
        auto other = compiler(1, 7).compile<sg::cpu>(renamed_net);
        sg::save_training_state(other, dir / "other.npz");
        const std::string message = invalid_message([&] { sg::resume_training(model, dir / "other.npz"); });
        CHECK_THAT(message, Contains((dir / "other.npz").string()) && Contains("population 'hidden'"));
        CHECK(state_of(model) == before);
    }
    SECTION("weights only (no optimiser state)") {
        sg::save_weights(source, dir / "weights.npz");
        const std::string message = invalid_message([&] { sg::resume_training(model, dir / "weights.npz"); });
        CHECK_THAT(message, Contains((dir / "weights.npz").string()) && Contains("training-state"));
        CHECK(state_of(model) == before);
    }
    // The good file itself restores the source's state.
    sg::resume_training(model, dir / "good.npz");
    CHECK(state_of(model) == state_of(source));
    fs::remove_all(dir);
}

// RLIMIT_FSIZE makes write() fail with EFBIG part way (works as root too, where
// directory permissions do not stop writes).
struct FileSizeLimit {
    rlimit saved{};
    void (*handler)(int) = nullptr;
    explicit FileSizeLimit(rlim_t limit) {
        getrlimit(RLIMIT_FSIZE, &saved);
        handler = std::signal(SIGXFSZ, SIG_IGN);
        rlimit lowered = saved;
        lowered.rlim_cur = limit;
        setrlimit(RLIMIT_FSIZE, &lowered);
    }
    ~FileSizeLimit() {
        setrlimit(RLIMIT_FSIZE, &saved);
        std::signal(SIGXFSZ, handler);
    }
};

TEST_CASE("a checkpoint save that cannot write throws and keeps the previous file", "[checkpoint]") {
    const sg::SpikeDataset train = timing_task(16, 1);
    const fs::path dir = fresh_dir("event_prop_unwritable");
    VariableModel previous = compile_variable(1, 8);
    previous.train(train, {.epochs = 1}, sg::Checkpoint{dir});
    const fs::path file = dir / "epoch-1.npz";
    const std::vector<std::uint8_t> old_bytes = file_bytes(file);
    REQUIRE_FALSE(old_bytes.empty());

    VariableModel model = compile_variable(1, 9);  // other weights: a successful save would change the file
    SECTION("the write fails half way") {
        {
            const FileSizeLimit limit(old_bytes.size() / 2);
            CHECK_THAT(invalid_message([&] { model.train(train, {.epochs = 1}, sg::Checkpoint{dir}); }),
                       Contains(file.string()));
        }
        CHECK(file_bytes(file) == old_bytes);
        CHECK_FALSE(has_temp_files(dir));
    }
    SECTION("the directory is read-only (only meaningful when not root)") {
        if (::geteuid() != 0) {
            fs::permissions(dir, fs::perms::owner_read | fs::perms::owner_exec);
            const std::string message =
                invalid_message([&] { model.train(train, {.epochs = 1}, sg::Checkpoint{dir}); });
            fs::permissions(dir, fs::perms::owner_all);
            CHECK_THAT(message, Contains(file.string()));
            CHECK(file_bytes(file) == old_bytes);
        }
    }
    SECTION("the directory cannot be created") {
        std::ofstream(dir / "not-a-directory") << "x";
        const fs::path below_file = dir / "not-a-directory" / "checkpoints";
        CHECK_THAT(invalid_message([&] { model.train(train, {.epochs = 1}, sg::Checkpoint{below_file}); }),
                   Contains(below_file.string()) && Contains("cannot create"));
        CHECK(file_bytes(file) == old_bytes);
    }
    fs::remove_all(dir);
}

// ---------------------------------------------------------------------------
// Learning-rate schedule
// ---------------------------------------------------------------------------

TEST_CASE("LearningRateSchedule sets the rate before each epoch", "[training]") {
    const sg::SpikeDataset train = timing_task(24, 1);
    auto rate = [](int epoch) { return 0.04f / float(1 + epoch); };
    std::vector<float> seen;  // the rate the schedule was given, i.e. the previous epoch's
    VariableModel scheduled = compile_variable();
    scheduled.train(train, {.epochs = 3},
                    sg::LearningRateSchedule{[&](int epoch, float lr) {
                        seen.push_back(lr);
                        return rate(epoch);
                    }});
    CHECK(scheduled.learning_rate() == rate(2));
    CHECK(seen == std::vector<float>{0.02f, rate(0), rate(1)});

    // The same rates set by hand, one epoch per train() call.
    VariableModel by_hand = compile_variable();
    for (int epoch = 0; epoch < 3; ++epoch) {
        by_hand.set_learning_rate(rate(epoch));
        by_hand.train(train, {.epochs = epoch + 1});
    }
    CHECK(weights_of(scheduled) == weights_of(by_hand));
    // A constant rate would have trained differently.
    VariableModel constant = compile_variable();
    constant.train(train, {.epochs = 3});
    CHECK_FALSE(weights_of(constant) == weights_of(scheduled));
}

// ---------------------------------------------------------------------------
// Errors of EventPropCompiler and train()
// ---------------------------------------------------------------------------

TEST_CASE("EventPropCompiler and train() reject what they cannot do", "[errors]") {
    const sg::SpikeDataset train = timing_task(16, 1);
    SECTION("a refractory hidden LIF") {
        constexpr auto refractory = sg::population<"hidden", 12>(sg::LeakyIntegrateFire{.tau_refrac = 2.0f});
        constexpr auto net = sg::network(input >> sg::Dense{sg::Normal{1.5f, 0.8f}} >> synapse >> refractory,
                                         refractory >> sg::Dense{sg::Normal{0.0f, 0.5f}} >> synapse >> li_output);
        CHECK_THAT(invalid_message([&] { compiler().compile<sg::cpu>(net); }),
                   Contains("'hidden'") && Contains("tau_refrac"));
    }
    SECTION("example_timesteps 0") {
        sg::EventPropCompiler c = compiler();
        c.example_timesteps = 0;
        CHECK_THAT(invalid_message([&] { c.compile<sg::cpu>(variable_net); }), Contains("example_timesteps"));
    }
    SECTION("bad optimiser, loss settings") {
        sg::EventPropCompiler c = compiler();
        c.optimiser = sg::Adam{.beta1 = 1.0f};
        CHECK_THAT(invalid_message([&] { c.compile<sg::cpu>(variable_net); }), Contains("beta1"));
        c = compiler();
        c.softmax_temperature = 0.0f;
        CHECK_THAT(invalid_message([&] { c.compile<sg::cpu>(first_spike_net); }), Contains("softmax_temperature"));
        c = compiler();
        c.loss = sg::MeanSquareError{};
        CHECK_THAT(invalid_message([&] { c.compile<sg::cpu>(first_spike_net); }),
                   Contains("mean_square_error") && Contains("'output'"));
    }
    SECTION("a label beyond the outputs") {
        sg::SpikeDataset bad = train;
        bad.labels[5] = 2;
        VariableModel model = compile_variable();
        const Snapshot before = weights_of(model);
        CHECK_THAT(invalid_message([&] { model.train(bad, {.epochs = 1}); }),
                   Contains("label 2") && Contains("'output'"));
        CHECK_THAT(invalid_message([&] { model.train(train, bad, {.epochs = 1}); }), Contains("'output'"));
        CHECK(weights_of(model) == before);
        CHECK(model.epochs_done() == 0);
    }
    SECTION("validation data and validation_split together") {
        VariableModel model = compile_variable();
        CHECK_THAT(invalid_message([&] { model.train(train, train, {.epochs = 1, .validation_split = 0.25}); }),
                   Contains("validation_split"));
        CHECK(model.epochs_done() == 0);
    }
}

}  // namespace

// ---------------------------------------------------------------------------
// Gradient groups: fixed by the network and batch size, capped for large nets
// ---------------------------------------------------------------------------

namespace {

constexpr auto group_input = sg::population<"input", 8192>(sg::SpikeInput{});
constexpr auto group_hidden = sg::population<"hidden", 8192>(sg::LeakyIntegrateFire{});
constexpr auto group_output = sg::population<"output", 2>(sg::LeakyIntegrate{}, sg::AvgVar{});
// 8192 x 8192 x 4 bytes = 256 MiB of weights, plus the output's 64 KiB: three copies fit in the 1 GiB cap.
constexpr auto large_net = sg::network(group_input >> sg::Dense{sg::Constant{0.0f}} >> sg::Exponential{} >> group_hidden,
                                       group_hidden >> sg::Dense{sg::Constant{0.0f}} >> sg::Exponential{} >> group_output);
constexpr auto small_net = sg::network(sg::population<"input", 4>(sg::SpikeInput{}) >> sg::Dense{} >> sg::Exponential{} >>
                                       sg::population<"output", 2>(sg::LeakyIntegrate{}, sg::AvgVar{}));

sg::EventPropCompiler group_compiler(std::size_t batch_size, unsigned threads) {
    return sg::EventPropCompiler{.example_timesteps = 2, .batch_size = batch_size, .num_threads = threads, .verbose = false};
}

}  // namespace

TEST_CASE("gradient groups: one per 8 lanes, 2 to 8, at most the batch, capped at 1 GiB of copies, never set by threads",
          "[event_prop][groups]") {
    CHECK(group_compiler(32, 1).compile<sg::cpu>(small_net).simulator().gradient_groups() == 4);
    CHECK(group_compiler(32, 2).compile<sg::cpu>(small_net).simulator().gradient_groups() == 4);
    CHECK(group_compiler(33, 2).compile<sg::cpu>(small_net).simulator().gradient_groups() == 5);
    CHECK(group_compiler(64, 2).compile<sg::cpu>(small_net).simulator().gradient_groups() == 8);
    CHECK(group_compiler(256, 8).compile<sg::cpu>(small_net).simulator().gradient_groups() == 8);
    CHECK(group_compiler(3, 2).compile<sg::cpu>(small_net).simulator().gradient_groups() == 2);
    CHECK(group_compiler(1, 2).compile<sg::cpu>(small_net).simulator().gradient_groups() == 1);
    CHECK(group_compiler(32, 2).compile<sg::cpu>(large_net).simulator().gradient_groups() == 3);
    CHECK(group_compiler(32, 1).compile<sg::cpu>(large_net).simulator().gradient_groups() == 3);
}

// ---------------------------------------------------------------------------
// e-prop checkpoints keep the running firing rates of the regulariser
// ---------------------------------------------------------------------------

namespace {

constexpr auto eprop_input = sg::population<"input", 20>(sg::SpikeInput{});
constexpr auto eprop_hidden = sg::population<"hidden", 30>(sg::AdaptiveLeakyIntegrateFire{.v_thresh = 0.6f, .beta = 0.1f});
constexpr auto eprop_output = sg::population<"output", 3>(sg::LeakyIntegrate{}, sg::SumVar{});
constexpr auto eprop_net = sg::network(eprop_input >> sg::Dense{sg::Normal{0.1f, 0.2f}} >> sg::Delta{} >> eprop_hidden,
                                       eprop_hidden >> sg::Dense{sg::Normal{0.0f, 0.1f}} >> sg::Delta{} >> eprop_hidden,
                                       eprop_hidden >> sg::Dense{sg::Normal{0.0f, 0.2f}} >> sg::Delta{} >> eprop_output);

auto compile_eprop() {
    return sg::EPropCompiler{.example_timesteps = 30, .optimiser = sg::Adam{.lr = 1e-2f}, .batch_size = 4,
                             .num_threads = 1, .c_reg = 0.1f, .verbose = false}
        .compile<sg::cpu>(eprop_net);
}

sg::SpikeDataset eprop_data() {
    std::mt19937 gen(4);
    sg::SpikeDataset data;
    data.num_inputs = 20;
    for (int e = 0; e < 12; ++e) {
        std::vector<float> times;
        std::vector<std::uint32_t> ids;
        for (int s = 0; s < 60; ++s) {
            times.push_back(float(gen() % 28));
            ids.push_back(std::uint32_t((gen() % 10) + 10 * (e % 2)));
        }
        data.examples.push_back(sg::make_spike_events(times, ids, 20));
        data.labels.push_back(e % 3);
    }
    return data;
}

template <class Model>
std::vector<float> eprop_weights(const Model& model) {
    std::vector<float> all = model.template weights<"input_hidden">();
    for (float w : model.template weights<"hidden_hidden">()) all.push_back(w);
    for (float w : model.template weights<"hidden_output">()) all.push_back(w);
    return all;
}

}  // namespace

TEST_CASE("e-prop: a run resumed from a checkpoint equals an uninterrupted one (running rates saved)",
          "[eprop][checkpoint]") {
    const sg::SpikeDataset data = eprop_data();
    const fs::path dir = fresh_dir("eprop_resume");
    auto uninterrupted = compile_eprop();
    uninterrupted.train(data, {.epochs = 2}, sg::Checkpoint{dir});
    REQUIRE(fs::is_regular_file(dir / "epoch-1.npz"));

    auto resumed = compile_eprop();
    sg::resume_training(resumed, dir / "epoch-1.npz");
    const auto saved_rates = resumed.simulator().training_state();
    REQUIRE(saved_rates.size() == 1);
    CHECK(saved_rates[0].first == "running-rate-hidden");
    CHECK(saved_rates[0].second.size() == 4 * 30);
    CHECK(*std::min_element(saved_rates[0].second.begin(), saved_rates[0].second.end()) >= 0.0f);  // all started
    CHECK(resumed.biases<"output">() != std::vector<float>(3, 0.0f));  // the trained output bias came back
    resumed.train(data, {.epochs = 2});
    CHECK(eprop_weights(resumed) == eprop_weights(uninterrupted));
    CHECK(resumed.biases<"output">() == uninterrupted.biases<"output">());

    // Control: the same resume with the rates restarted gives other weights,
    // so the equality above depends on the saved rates.
    auto restarted = compile_eprop();
    sg::resume_training(restarted, dir / "epoch-1.npz");
    restarted.simulator().set_training_state("running-rate-hidden", std::vector<float>(4 * 30, -1.0f));
    restarted.train(data, {.epochs = 2});
    CHECK_FALSE(eprop_weights(restarted) == eprop_weights(uninterrupted));

    CHECK(invalid_message([&] { restarted.simulator().set_training_state("running-rate-hidden", std::vector<float>(7)); })
              .find("expected 120 values (batch_size x neurons), got 7") != std::string::npos);
}

TEST_CASE("e-prop: the trained output bias reaches an inference model through save_weights", "[eprop][checkpoint]") {
    const sg::SpikeDataset data = eprop_data();
    const fs::path dir = fresh_dir("eprop_bias");
    auto trained = compile_eprop();
    trained.train(data, {.epochs = 2});
    const std::vector<float> biases = trained.biases<"output">();
    REQUIRE(biases != std::vector<float>(3, 0.0f));
    sg::save_weights(trained, dir / "trained.npz");

    auto inference = sg::InferenceCompiler{.example_timesteps = 30, .batch_size = 5, .num_threads = 2, .verbose = false}
                         .compile<sg::cpu>(eprop_net);
    const sg::Predictions without_bias = inference.predict(data);
    sg::load_weights(inference, dir / "trained.npz");
    CHECK(inference.biases<"output">() == biases);
    const sg::Predictions expected = trained.predict(data), got = inference.predict(data);
    REQUIRE(got.values.size() == expected.values.size());
    double difference = 0.0, control = 0.0;
    for (std::size_t i = 0; i < got.values.size(); ++i) {
        difference = std::max(difference, double(std::abs(got.values[i] - expected.values[i])));
        control = std::max(control, double(std::abs(without_bias.values[i] - expected.values[i])));
    }
    CHECK(difference <= 1e-5);
    CHECK(control > 1e-3);  // without the trained bias (and weights) the readouts differ

    // Bad bias arrays are refused, naming the file, and change nothing.
    auto rewrite = [&](const fs::path& path, auto&& edit) {
        sg::NpzWriter writer;
        writer.add("input_hidden-g", inference.weights<"input_hidden">(), {20, 30});
        writer.add("hidden_hidden-g", inference.weights<"hidden_hidden">(), {30, 30});
        writer.add("hidden_output-g", inference.weights<"hidden_output">(), {30, 3});
        edit(writer);
        writer.write(path);
    };
    rewrite(dir / "short.npz", [](sg::NpzWriter& w) { w.add("output-Bias", std::vector<float>{1.0f, 2.0f}, {2}); });
    CHECK_THAT(invalid_message([&] { sg::load_weights(inference, dir / "short.npz"); }),
               Contains("short.npz") && Contains("expected biases of shape (3,), got (2,)"));
    rewrite(dir / "nan.npz", [](sg::NpzWriter& w) { w.add("output-Bias", std::vector<float>{1.0f, std::nanf(""), 2.0f}, {3}); });
    CHECK_THAT(invalid_message([&] { sg::load_weights(inference, dir / "nan.npz"); }),
               Contains("neuron 1 has bias nan") && Contains("expected a finite value"));
    rewrite(dir / "lif.npz", [](sg::NpzWriter& w) { w.add("hidden-Bias", std::vector<float>(30, 1.0f), {30}); });
    CHECK_THAT(invalid_message([&] { sg::load_weights(inference, dir / "lif.npz"); }),
               Contains("'hidden-Bias'") && Contains("AdaptiveLeakyIntegrateFire has no bias"));
    CHECK(inference.biases<"output">() == biases);

    // A manifest that lists the biases needs them.
    auto model = compile_eprop();
    sg::save_weights_npy(model, dir / "npy", "1");
    REQUIRE(fs::is_regular_file(dir / "npy" / "1-output-Bias.npy"));  // mlGeNN's Checkpoint name
    fs::remove(dir / "npy" / "1-output-Bias.npy");
    CHECK_THAT(invalid_message([&] { sg::load_weights_npy(model, dir / "npy", "1"); }),
               Contains("expected array 'output-Bias' (the manifest lists it), got none"));
    CHECK_THAT(invalid_message([&] { model.set_biases<"output">(std::vector<float>{1.0f}); }),
               Contains("biases of population 'output': expected 3 values (one per neuron), got 1"));
}
