// Neuron, synapse and input models against analytic solutions computed here
// (closed forms per inter-spike interval, binomial statistics), not against
// the library's own update code. docs/dynamics.md states each rule and names
// the TEST_CASE that checks it.
//
// The step order these derivations rely on (GeNN/mlGeNN): in step n every
// population updates (synapses inject, neurons integrate, threshold, reset),
// then spikes of step n are added to in_syn. So an input spike emitted in
// step s reaches the target's V in step s + 1, and a BinarySpikeInput that
// fires every step gives its target a constant current from step 1 on.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include <spikegraph/spikegraph.hpp>

namespace sg = spikegraph;
using Catch::Matchers::Contains;

namespace {

sg::InferenceCompiler options(int timesteps, float dt = 1.0f, std::uint64_t seed = 0) {
    return sg::InferenceCompiler{.example_timesteps = timesteps,
                                 .batch_size = 1,
                                 .dt = dt,
                                 .seed = seed,
                                 .num_threads = 1,
                                 .metrics = {},
                                 .verbose = false};
}

// What one neuron did in one example: a recorded variable per step (after the
// step's reset) and the steps it spiked in.
struct Trace {
    std::vector<double> values;
    std::vector<int> spikes;
};

template <sg::FixedString Pop, sg::FixedString Var = "", class Net, class Data>
Trace run_single(const Net& net, const Data& data, int timesteps, float dt = 1.0f) {
    auto model = options(timesteps, dt).compile<sg::cpu>(net);
    sg::VarRecorder<Pop, Var> vars;
    sg::SpikeRecorder<Pop> spikes;
    model.predict(data, vars, spikes);
    Trace trace;
    trace.values.assign(vars.values.at(0).begin(), vars.values.at(0).end());
    for (float t : spikes.spike_times.at(0)) trace.spikes.push_back(int(std::lround(t / dt)));
    return trace;
}

// One example, one input neuron with value 1: a BinarySpikeInput fires in every step.
sg::ValueDataset constant_drive() {
    sg::ValueDataset data;
    data.num_inputs = 1;
    data.values = {1.0f};
    return data;
}

// Constant current into one neuron: input >> OneToOne{w} >> Delta >> neuron.
auto lif_net(const sg::LeakyIntegrateFire& lif, float w) {
    return sg::network(sg::population<"in", 1>(sg::BinarySpikeInput{}) >> sg::OneToOne{sg::Constant{w}} >>
                       sg::Delta{} >> sg::population<"lif", 1>(lif, sg::SpikeCount{}));
}
auto alif_net(const sg::AdaptiveLeakyIntegrateFire& alif, float w) {
    return sg::network(sg::population<"in", 1>(sg::BinarySpikeInput{}) >> sg::OneToOne{sg::Constant{w}} >>
                       sg::Delta{} >> sg::population<"alif", 1>(alif, sg::SpikeCount{}));
}
auto if_net(const sg::IntegrateFire& neuron, float w) {
    return sg::network(sg::population<"in", 1>(sg::BinarySpikeInput{}) >> sg::OneToOne{sg::Constant{w}} >>
                       sg::Delta{} >> sg::population<"if", 1>(neuron, sg::SpikeCount{}));
}
// One spike source into two leaky integrators, one through each synapse model.
auto li_net(const sg::LeakyIntegrate& li, float w, const sg::Exponential& syn) {
    const auto in = sg::population<"in", 1>(sg::SpikeInput{});
    const auto li_delta = sg::population<"li_delta", 1>(li, sg::SumVar{});
    const auto li_exp = sg::population<"li_exp", 1>(li);
    return sg::network(in >> sg::OneToOne{sg::Constant{w}} >> sg::Delta{} >> li_delta,
                       in >> sg::OneToOne{sg::Constant{w}} >> syn >> li_exp);
}

sg::SpikeDataset one_spike_train(std::vector<float> times, std::vector<std::uint32_t> ids, std::size_t num_inputs) {
    sg::SpikeDataset data;
    data.num_inputs = num_inputs;
    data.examples.push_back(sg::make_spike_events(std::move(times), std::move(ids), num_inputs));
    return data;
}

// Under a constant per-step current I (already scaled) from a value r at step s,
// V(s + m) = c + (r - c) alpha^m with c = I / (1 - alpha). The threshold is first
// reached after m = ceil(log((c - vth) / (c - r)) / log(alpha)) steps (c > vth > r).
// `margin` is how far that logarithm is from an integer, in steps: when it is
// tiny, float rounding could legitimately move the spike by a step.
struct Crossing {
    int steps;
    double margin;
};
Crossing steps_to_threshold(double r, double current, double alpha, double vth) {
    const double c = current / (1.0 - alpha);
    const double x = std::log((c - vth) / (c - r)) / std::log(alpha);
    return {std::max(1, int(std::ceil(x))), std::abs(x - std::round(x))};
}

// The whole closed-form LIF response to constant current from step 1 on (no
// refractoriness): spike steps and the V recorded each step (after reset).
struct LifSolution {
    std::vector<int> spikes;
    std::vector<double> v;
    double min_margin = 1.0;
};
LifSolution lif_constant_current(double current, double alpha, double vth, double v_reset, bool relative_reset,
                                 double v0, int timesteps) {
    LifSolution out;
    out.v.assign(std::size_t(timesteps), 0.0);
    const double c = current / (1.0 - alpha);
    // Step 0 gets no input (the input's first spike arrives in step 1), so V_0 = alpha v0;
    // from there V_n = c + (alpha v0 - c) alpha^n.
    int s = 0;
    double r = alpha * v0;
    out.v[0] = r;
    while (true) {
        const Crossing crossing = steps_to_threshold(r, current, alpha, vth);
        out.min_margin = std::min(out.min_margin, crossing.margin);
        const int next = s + crossing.steps;
        for (int n = s + 1; n < std::min(next, timesteps); ++n) out.v[std::size_t(n)] = c + (r - c) * std::pow(alpha, n - s);
        if (next >= timesteps) break;
        const double peak = c + (r - c) * std::pow(alpha, crossing.steps);
        r = relative_reset ? peak - (vth - v_reset) : v_reset;
        out.v[std::size_t(next)] = r;
        out.spikes.push_back(next);
        s = next;
    }
    return out;
}

void check_trace(const std::vector<double>& got, const std::vector<double>& expected, double tolerance) {
    REQUIRE(got.size() == expected.size());
    for (std::size_t n = 0; n < got.size(); ++n) {
        INFO("step " << n);
        CHECK(got[n] == Approx(expected[n]).margin(tolerance).epsilon(tolerance));
    }
}

double decay(double dt, double tau) { return std::exp(-dt / tau); }

// The message of the InvalidArgument that f throws; another exception type
// propagates and fails the test.
template <class F>
std::string invalid_argument_message(F&& f) {
    try {
        f();
    } catch (const sg::InvalidArgument& e) {
        return e.what();
    }
    return "(no exception thrown)";
}

}  // namespace

// ---------------------------------------------------------------------------
// LIF
// ---------------------------------------------------------------------------

TEST_CASE("LIF membrane follows the geometric series until the closed-form first spike", "[lif]") {
    const float w = 0.08f, tau = 20.0f;
    const double alpha = decay(1.0, tau);
    constexpr int T = 40;
    const Trace trace = run_single<"lif">(lif_net(sg::LeakyIntegrateFire{.tau_mem = tau}, w), constant_drive(), T);

    // V_n = w (1 - alpha^n) / (1 - alpha); first spike at n* = ceil(log(1 - vth (1 - alpha) / w) / log(alpha)).
    const double x = std::log(1.0 - 1.0 * (1.0 - alpha) / w) / std::log(alpha);
    REQUIRE(std::abs(x - std::round(x)) > 0.05);  // parameters chosen far from a rounding tie
    const int first = int(std::ceil(x));
    REQUIRE(first == 19);
    REQUIRE_FALSE(trace.spikes.empty());
    CHECK(trace.spikes.front() == first);
    for (int n = 0; n < first; ++n) {
        INFO("step " << n);
        CHECK(trace.values[std::size_t(n)] == Approx(w * (1.0 - std::pow(alpha, n)) / (1.0 - alpha)).epsilon(1e-5).margin(1e-7));
    }
    // The spike step's V is read after the (relative) reset by 1.
    const double peak = w * (1.0 - std::pow(alpha, first)) / (1.0 - alpha);
    CHECK(trace.values[std::size_t(first)] == Approx(peak - 1.0).margin(1e-6));  // small after cancellation
}

TEST_CASE("LIF initial voltage decays one step before the first input arrives", "[lif]") {
    const float w = 0.06f, v0 = 0.5f;
    const double alpha = decay(1.0, 20.0);
    constexpr int T = 150;
    const Trace trace = run_single<"lif">(lif_net(sg::LeakyIntegrateFire{.v = v0, .relative_reset = false}, w),
                                          constant_drive(), T);
    const LifSolution expected = lif_constant_current(w, alpha, 1.0, 0.0, false, v0, T);
    REQUIRE(expected.min_margin > 0.05);
    CHECK(trace.spikes == expected.spikes);
    check_trace(trace.values, expected.v, 1e-5);
    CHECK(trace.values[0] == Approx(alpha * v0).epsilon(1e-6));
}

TEST_CASE("LIF relative and absolute reset give their closed-form spike trains", "[lif]") {
    const float w = 0.08f, v_reset = 0.2f;
    const double alpha = decay(1.0, 20.0);
    constexpr int T = 150;

    SECTION("absolute: V = v_reset after each spike, constant interval") {
        const Trace trace = run_single<"lif">(
            lif_net(sg::LeakyIntegrateFire{.v_reset = v_reset, .relative_reset = false}, w), constant_drive(), T);
        const LifSolution expected = lif_constant_current(w, alpha, 1.0, v_reset, false, 0.0, T);
        REQUIRE(expected.min_margin > 0.05);
        REQUIRE(expected.spikes == std::vector<int>{19, 36, 53, 70, 87, 104, 121, 138});
        CHECK(trace.spikes == expected.spikes);
        check_trace(trace.values, expected.v, 1e-5);
        for (int s : trace.spikes) CHECK(trace.values[std::size_t(s)] == v_reset);
    }
    SECTION("relative: V -= v_thresh - v_reset keeps the overshoot") {
        const Trace trace = run_single<"lif">(
            lif_net(sg::LeakyIntegrateFire{.v_reset = v_reset, .relative_reset = true}, w), constant_drive(), T);
        const LifSolution expected = lif_constant_current(w, alpha, 1.0, v_reset, true, 0.0, T);
        REQUIRE(expected.min_margin > 0.05);
        // The kept overshoot shortens some intervals compared with the absolute reset.
        REQUIRE(expected.spikes == std::vector<int>{19, 36, 52, 69, 85, 102, 118, 135});
        CHECK(trace.spikes == expected.spikes);
        check_trace(trace.values, expected.v, 1e-5);
    }
}

TEST_CASE("LIF threshold is V >= v_thresh", "[lif]") {
    // tau_mem huge enough that alpha rounds to 1.0f: V_n = n * 0.25 exactly, reaching
    // 1.0 in step 4 exactly; a strict '>' would fire in step 5.
    REQUIRE(float(std::exp(-1.0 / 1e9)) == 1.0f);
    const Trace trace = run_single<"lif">(
        lif_net(sg::LeakyIntegrateFire{.tau_mem = 1e9f, .relative_reset = false}, 0.25f), constant_drive(), 10);
    CHECK(trace.spikes == std::vector<int>{4, 8});
}

TEST_CASE("LIF scale_i scales the input by 1 - alpha", "[lif]") {
    // With scale_i, V_n = w (1 - alpha^n) -> w; first spike at ceil(log(1 - vth / w) / log(alpha)).
    const float w = 2.0f;
    const double alpha = decay(1.0, 20.0);
    constexpr int T = 60;
    const Trace trace = run_single<"lif">(
        lif_net(sg::LeakyIntegrateFire{.relative_reset = false, .scale_i = true}, w), constant_drive(), T);
    const double x = std::log(1.0 - 1.0 / w) / std::log(alpha);
    REQUIRE(std::abs(x - std::round(x)) > 0.05);
    const int first = int(std::ceil(x));
    REQUIRE(first == 14);
    for (int n = 0; n < first; ++n) {
        INFO("step " << n);
        CHECK(trace.values[std::size_t(n)] == Approx(w * (1.0 - std::pow(alpha, n))).epsilon(1e-5).margin(1e-7));
    }
    const LifSolution expected = lif_constant_current(w * (1.0 - alpha), alpha, 1.0, 0.0, false, 0.0, T);
    CHECK(trace.spikes == expected.spikes);
    CHECK(trace.spikes == std::vector<int>{14, 28, 42, 56});
}

TEST_CASE("LIF refractory period blocks spikes for tau_refrac / dt steps", "[lif][refractory]") {
    // w = 1.5 >= v_thresh with absolute reset to 0: without refractoriness the neuron
    // fires in every step from step 1. RefracTime = tau_refrac at the spike and drops
    // by dt in each later step's integration; the threshold needs RefracTime <= 0.
    //  - integrate_during_refrac: V keeps integrating, so the next spike comes as soon
    //    as RefracTime reaches 0, tau_refrac / dt steps after the last one;
    //  - otherwise V stays frozen (at 0) in every step that starts refractory, including
    //    the one in which RefracTime reaches 0, so the interval is tau_refrac / dt + 1.
    const float w = 1.5f;
    auto expected_spikes = [](int first, int interval, int timesteps) {
        std::vector<int> steps;
        for (int s = first; s < timesteps; s += interval) steps.push_back(s);
        return steps;
    };
    constexpr int T = 30;

    SECTION("tau_refrac = 0 means none (mlGeNN's None)") {
        const Trace trace = run_single<"lif">(
            lif_net(sg::LeakyIntegrateFire{.tau_refrac = 0.0f, .relative_reset = false}, w), constant_drive(), T);
        CHECK(trace.spikes == expected_spikes(1, 1, T));
    }
    SECTION("integrating during the refractory period") {
        const double alpha = decay(1.0, 20.0);
        const Trace trace = run_single<"lif">(
            lif_net(sg::LeakyIntegrateFire{.tau_refrac = 3.0f, .relative_reset = false, .integrate_during_refrac = true},
                    w),
            constant_drive(), T);
        CHECK(trace.spikes == expected_spikes(1, 3, T));
        // Between spikes V rises from 0 as under constant current: w (1 - alpha^k) / (1 - alpha).
        CHECK(trace.values[2] == Approx(w).epsilon(1e-6));
        CHECK(trace.values[3] == Approx(w * (1.0 + alpha)).epsilon(1e-6));
        CHECK(trace.values[4] == 0.0);
    }
    SECTION("frozen during the refractory period") {
        const Trace trace = run_single<"lif">(
            lif_net(sg::LeakyIntegrateFire{.tau_refrac = 3.0f, .relative_reset = false, .integrate_during_refrac = false},
                    w),
            constant_drive(), T);
        CHECK(trace.spikes == expected_spikes(1, 4, T));
        for (int n = 1; n <= 4; ++n) CHECK(trace.values[std::size_t(n)] == 0.0);
        CHECK(trace.values[5] == 0.0);  // spiked again, reset
    }
    SECTION("dt = 0.5: tau_refrac = 1.5 ms is 3 steps") {
        const Trace during = run_single<"lif">(
            lif_net(sg::LeakyIntegrateFire{.tau_refrac = 1.5f, .relative_reset = false, .integrate_during_refrac = true},
                    w),
            constant_drive(), T, 0.5f);
        CHECK(during.spikes == expected_spikes(1, 3, T));
        const Trace frozen = run_single<"lif">(
            lif_net(sg::LeakyIntegrateFire{.tau_refrac = 1.5f, .relative_reset = false, .integrate_during_refrac = false},
                    w),
            constant_drive(), T, 0.5f);
        CHECK(frozen.spikes == expected_spikes(1, 4, T));
    }
    SECTION("RefracTime counts down by dt") {
        const Trace trace = run_single<"lif", "RefracTime">(
            lif_net(sg::LeakyIntegrateFire{.tau_refrac = 3.0f, .relative_reset = false}, w), constant_drive(), 8);
        CHECK(trace.values == std::vector<double>{0, 3, 2, 1, 3, 2, 1, 3});
    }
}

// ---------------------------------------------------------------------------
// ALIF
// ---------------------------------------------------------------------------

TEST_CASE("ALIF adaptation raises the threshold by beta * A", "[alif]") {
    const float w = 0.1f, tau_mem = 20.0f, tau_adapt = 100.0f, beta = 0.2f;
    constexpr int T = 200;
    const auto neuron = sg::AdaptiveLeakyIntegrateFire{.beta = beta, .tau_mem = tau_mem, .tau_adapt = tau_adapt};
    const Trace v = run_single<"alif">(alif_net(neuron, w), constant_drive(), T);
    const Trace a = run_single<"alif", "A">(alif_net(neuron, w), constant_drive(), T);
    REQUIRE(v.spikes == a.spikes);

    // Independent double-precision reference in the GeNN order (input from step 1).
    const double alpha = decay(1.0, tau_mem), rho = decay(1.0, tau_adapt);
    std::vector<int> spikes;
    std::vector<double> v_ref(T), a_ref(T);
    double V = 0.0, A = 0.0, min_gap = 1.0;
    for (int n = 0; n < T; ++n) {
        V = alpha * V + (n >= 1 ? double(w) : 0.0);
        A *= rho;
        const double threshold = 1.0 + beta * A;
        min_gap = std::min(min_gap, std::abs(V - threshold));
        if (V >= threshold) {
            V -= 1.0;
            A += 1.0;
            spikes.push_back(n);
        }
        v_ref[std::size_t(n)] = V;
        a_ref[std::size_t(n)] = A;
    }
    REQUIRE(min_gap > 1e-4);  // no threshold decision within float error
    REQUIRE(spikes.size() >= 5);
    CHECK(v.spikes == spikes);
    // Adaptation lengthens the intervals (an LIF under constant drive would be periodic).
    CHECK(spikes[2] - spikes[1] > spikes[1] - spikes[0]);
    CHECK(spikes.back() - spikes[spikes.size() - 2] > spikes[1] - spikes[0]);
    check_trace(v.values, v_ref, 1e-4);

    // A closed form given the spikes: A_n = sum over spikes s <= n of rho^(n - s).
    std::vector<double> a_closed(T, 0.0);
    for (int n = 0; n < T; ++n)
        for (int s : v.spikes)
            if (s <= n) a_closed[std::size_t(n)] += std::pow(rho, n - s);
    check_trace(a.values, a_closed, 1e-5);

    SECTION("with beta = 0 it fires as an LIF") {
        const Trace plain =
            run_single<"alif">(alif_net(sg::AdaptiveLeakyIntegrateFire{.beta = 0.0f, .tau_mem = tau_mem}, w),
                               constant_drive(), T);
        const LifSolution lif = lif_constant_current(w, alpha, 1.0, 0.0, true, 0.0, T);
        REQUIRE(lif.min_margin > 0.01);
        CHECK(plain.spikes == lif.spikes);
    }
}

// ---------------------------------------------------------------------------
// IF
// ---------------------------------------------------------------------------

TEST_CASE("IF integrates perfectly and resets to v_reset", "[if]") {
    // w = 0.25 and thresholds in quarters are exact in float: V_n = v0 + n w until
    // V >= v_thresh, first spike at ceil((v_thresh - v0) / w), then V = v_reset and
    // the next spike comes ceil((v_thresh - v_reset) / w) steps later.
    constexpr int T = 30;
    SECTION("from v = 0, reset to -0.5") {
        const Trace trace =
            run_single<"if">(if_net(sg::IntegrateFire{.v_thresh = 1.0f, .v_reset = -0.5f}, 0.25f), constant_drive(), T);
        CHECK(trace.spikes == std::vector<int>{4, 10, 16, 22, 28});
        std::vector<double> expected(T);
        double V = 0.0;
        for (int n = 0; n < T; ++n) {
            int last = -1;
            for (int s : std::vector<int>{4, 10, 16, 22, 28})
                if (s <= n) last = s;
            V = last < 0 ? 0.25 * n : (n == last ? -0.5 : -0.5 + 0.25 * (n - last));
            expected[std::size_t(n)] = V;
        }
        CHECK(trace.values == expected);
    }
    SECTION("initial v counts without decay") {
        const Trace trace = run_single<"if">(
            if_net(sg::IntegrateFire{.v_thresh = 2.0f, .v_reset = 0.0f, .v = 0.5f}, 0.25f), constant_drive(), 12);
        // ceil((2 - 0.5) / 0.25) = 6, then every 8 steps.
        CHECK(trace.spikes == std::vector<int>{6});
        CHECK(trace.values[0] == 0.5);
        CHECK(trace.values[5] == 0.5 + 5 * 0.25);
        CHECK(trace.values[11] == 5 * 0.25);
    }
}

// ---------------------------------------------------------------------------
// LI and the synapse models
// ---------------------------------------------------------------------------

TEST_CASE("LI impulse response through Delta and Exponential synapses", "[li][synapse]") {
    // One input spike at step s0 adds w to in_syn at the end of step s0.
    //   Delta:        V_{s0+k} = w alpha^(k-1)                                  (k >= 1)
    //   Exponential:  I_{s0+k} = w beta^(k-1) IScale, so
    //                 V_{s0+k} = IScale w sum_{j=1..k} alpha^(k-j) beta^(j-1)
    //                          = IScale w (alpha^k - beta^k) / (alpha - beta)
    // and LI's scale_i multiplies both by (1 - alpha).
    constexpr int T = 100;
    const float w = 0.7f, tau_mem = 20.0f, tau_syn = 5.0f;
    auto check = [&](float dt, bool li_scale, bool syn_scale) {
        const double alpha = decay(dt, tau_mem), beta = decay(dt, tau_syn);
        const double li_factor = li_scale ? 1.0 - alpha : 1.0;
        const double iscale = syn_scale ? (tau_syn / dt) * (1.0 - std::exp(-dt / tau_syn)) : 1.0;
        const float t0 = 3.0f * dt;  // step 3
        const auto net = li_net(sg::LeakyIntegrate{.tau_mem = tau_mem, .scale_i = li_scale}, w,
                                sg::Exponential{.tau = tau_syn, .scale_i = syn_scale});
        const auto data = one_spike_train({t0}, {0}, 1);
        const Trace delta = run_single<"li_delta">(net, data, T, dt);
        const Trace exponential = run_single<"li_exp">(net, data, T, dt);
        std::vector<double> delta_ref(T, 0.0), exp_ref(T, 0.0);
        for (int n = 4; n < T; ++n) {
            const int k = n - 3;
            delta_ref[std::size_t(n)] = li_factor * w * std::pow(alpha, k - 1);
            exp_ref[std::size_t(n)] =
                li_factor * iscale * w * (std::pow(alpha, k) - std::pow(beta, k)) / (alpha - beta);
        }
        check_trace(delta.values, delta_ref, 1e-5);
        check_trace(exponential.values, exp_ref, 1e-5);
        CHECK(delta.spikes.empty());
        // First step after arrival: the whole scaled input.
        CHECK(exponential.values[4] == Approx(li_factor * iscale * w).epsilon(1e-6));
    };
    SECTION("dt = 1") { check(1.0f, false, false); }
    SECTION("LI scale_i") { check(1.0f, true, false); }
    SECTION("Exponential scale_i") { check(1.0f, false, true); }
    SECTION("dt = 0.5, both scaled") { check(0.5f, true, true); }
}

TEST_CASE("Exponential scale_i makes IScale = (tau / dt)(1 - exp(-dt / tau))", "[synapse]") {
    // Into an LI whose alpha rounds to 1.0f (a perfect integrator), one input spike at
    // step 0 gives V_n = w IScale sum_{j<n} beta^j = w IScale (1 - beta^n) / (1 - beta)
    // = w (tau / dt)(1 - beta^n): with scale_i the total charge, w tau / dt, does not
    // depend on how fast the current decays.
    REQUIRE(float(std::exp(-1.0 / 1e9)) == 1.0f);
    constexpr int T = 400;
    const float w = 0.5f;
    for (float tau : {2.0f, 5.0f, 10.0f}) {
        for (float dt : {1.0f, 0.25f}) {
            INFO("tau " << tau << " dt " << dt);
            const auto net =
                li_net(sg::LeakyIntegrate{.tau_mem = 1e9f}, w, sg::Exponential{.tau = tau, .scale_i = true});
            const Trace exponential = run_single<"li_exp">(net, one_spike_train({0.0f}, {0}, 1), T, dt);
            const double beta = decay(dt, tau);
            const double iscale = (double(tau) / dt) * (1.0 - beta);
            CHECK(exponential.values[0] == 0.0);
            CHECK(exponential.values[1] == Approx(w * iscale).epsilon(1e-6));
            std::vector<double> expected(T);
            for (int n = 0; n < T; ++n) expected[std::size_t(n)] = w * (double(tau) / dt) * (1.0 - std::pow(beta, n));
            check_trace(exponential.values, expected, 1e-4);
            CHECK(exponential.values.back() == Approx(w * tau / dt).epsilon(1e-4));
        }
    }
}

TEST_CASE("LI bias drives V to bias / (1 - alpha)", "[li]") {
    // No input: V_n = bias sum_{j=0..n} alpha^j = bias (1 - alpha^(n+1)) / (1 - alpha).
    constexpr int T = 200;
    const float bias = 0.2f, tau = 5.0f;
    const double alpha = decay(1.0, tau);
    const auto net = li_net(sg::LeakyIntegrate{.bias = bias, .tau_mem = tau}, 1.0f, sg::Exponential{});
    const Trace trace = run_single<"li_delta">(net, one_spike_train({}, {}, 1), T);
    std::vector<double> expected(T);
    for (int n = 0; n < T; ++n) expected[std::size_t(n)] = bias * (1.0 - std::pow(alpha, n + 1)) / (1.0 - alpha);
    check_trace(trace.values, expected, 1e-5);
    CHECK(trace.values.back() == Approx(bias / (1.0 - alpha)).epsilon(1e-5));
}

TEST_CASE("Decay factors are exp(-dt / tau) computed in double, rounded to float", "[li][synapse][precision]") {
    // LI from v = 1 with no input: V_0 = alpha * 1 is alpha's float value exactly.
    // Through Exponential into a perfect integrator (alpha = 1.0f), an impulse of
    // weight 1 at step 0 gives V_1 = 1 and V_2 = 1 + beta in float arithmetic.
    for (float tau : {3.0f, 7.0f, 20.0f, 123.4f}) {
        for (float dt : {1.0f, 0.1f, 0.7f}) {
            INFO("tau " << tau << " dt " << dt);
            const float rounded = static_cast<float>(std::exp(-double(dt) / double(tau)));
            const Trace leak = run_single<"li_delta">(li_net(sg::LeakyIntegrate{.v = 1.0f, .tau_mem = tau}, 1.0f,
                                                             sg::Exponential{}),
                                                      one_spike_train({}, {}, 1), 2, dt);
            CHECK(float(leak.values[0]) == rounded);
            const Trace syn = run_single<"li_exp">(
                li_net(sg::LeakyIntegrate{.tau_mem = 1e9f}, 1.0f, sg::Exponential{.tau = tau}),
                one_spike_train({0.0f}, {0}, 1), 3, dt);
            CHECK(float(syn.values[1]) == 1.0f);
            CHECK(float(syn.values[2]) == 1.0f + rounded);
        }
    }
}

#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__) || defined(__aarch64__)
TEST_CASE("CPU simulation flushes denormal results to zero", "[li][precision]") {
    // alpha = exp(-1) and v just above the smallest normal float: alpha * v is
    // denormal (~5.5e-39) in IEEE arithmetic and 0 with flush-to-zero.
    const float v = 1.5e-38f;
    REQUIRE(std::fpclassify(float(std::exp(-1.0)) * v) == FP_SUBNORMAL);  // test thread: IEEE mode
    const Trace trace = run_single<"li_delta">(
        li_net(sg::LeakyIntegrate{.v = v, .tau_mem = 1.0f}, 1.0f, sg::Exponential{}), one_spike_train({}, {}, 1), 3);
    CHECK(trace.values[0] == 0.0);
    // The calling thread's floating-point mode is restored after the run.
    volatile float tiny = v;
    CHECK(std::fpclassify(tiny * float(std::exp(-1.0))) == FP_SUBNORMAL);
}
#endif

// ---------------------------------------------------------------------------
// Input models
// ---------------------------------------------------------------------------

namespace {
auto spike_input_net() {
    return sg::network(sg::population<"in", 3>(sg::SpikeInput{}) >> sg::OneToOne{} >>
                       sg::population<"out", 3>(sg::LeakyIntegrate{}, sg::SumVar{}));
}
// Spikes of population "in" as (step, id) pairs per example.
template <class Net, class Data>
std::vector<std::vector<std::pair<int, std::uint32_t>>> input_spikes(const Net& net, const Data& data, int timesteps,
                                                                     float dt = 1.0f, std::uint64_t seed = 0) {
    auto model = options(timesteps, dt, seed).compile<sg::cpu>(net);
    sg::SpikeRecorder<"in"> recorder;
    model.predict(data, recorder);
    std::vector<std::vector<std::pair<int, std::uint32_t>>> out;
    for (std::size_t e = 0; e < recorder.spike_times.size(); ++e) {
        std::vector<std::pair<int, std::uint32_t>> spikes;
        for (std::size_t i = 0; i < recorder.spike_times[e].size(); ++i)
            spikes.emplace_back(int(std::lround(recorder.spike_times[e][i] / dt)), recorder.spike_ids[e][i]);
        std::sort(spikes.begin(), spikes.end());
        out.push_back(std::move(spikes));
    }
    return out;
}

// GeNN's SpikeSourceArray: each neuron emits its events in order, at most one a
// step, the k-th in step max(ceil(t_k / dt), step of the (k-1)-th + 1); steps
// >= timesteps never happen.
std::vector<std::pair<int, std::uint32_t>> spike_source_array(const std::vector<float>& times,
                                                              const std::vector<std::uint32_t>& ids,
                                                              std::size_t neurons, double dt, int timesteps) {
    std::vector<std::pair<int, std::uint32_t>> out;
    for (std::uint32_t id = 0; id < neurons; ++id) {
        std::vector<double> own;
        for (std::size_t i = 0; i < times.size(); ++i)
            if (ids[i] == id) own.push_back(times[i]);
        std::sort(own.begin(), own.end());
        int previous = -1;
        for (double t : own) {
            const int step = std::max(int(std::ceil(t / dt - 1e-9)), previous + 1);
            if (step < timesteps) out.emplace_back(step, id);
            previous = step;
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}
}  // namespace

TEST_CASE("SpikeInput emits events at ceil(t / dt), one per neuron per step", "[input][spike_input]") {
    constexpr int T = 20;
    // Neuron 0: three events in step 3's window and one exactly at 4 ms queue up
    // into steps 3, 4, 5, 6. Neuron 1: an event exactly on a step, one just after,
    // one at the last step and one after the end. Neuron 2: two events in the last
    // step, the second would be carried past the end.
    const std::vector<float> times = {2.5f, 2.6f, 2.7f, 4.0f, 0.0f, 7.0f, 7.2f, 19.0f, 25.0f, 18.5f, 18.9f};
    const std::vector<std::uint32_t> ids = {0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2};

    SECTION("dt = 1") {
        const auto got = input_spikes(spike_input_net(), one_spike_train(times, ids, 3), T);
        const auto expected = spike_source_array(times, ids, 3, 1.0, T);
        REQUIRE(expected == std::vector<std::pair<int, std::uint32_t>>{
                                {0, 1}, {3, 0}, {4, 0}, {5, 0}, {6, 0}, {7, 1}, {8, 1}, {19, 1}, {19, 2}});
        CHECK(got.at(0) == expected);
    }
    SECTION("dt = 0.5") {
        const auto got = input_spikes(spike_input_net(), one_spike_train(times, ids, 3), T, 0.5f);
        const auto expected = spike_source_array(times, ids, 3, 0.5, T);
        CHECK(got.at(0) == expected);
    }
    SECTION("events left over at the end do not leak into the next example") {
        sg::SpikeDataset data;
        data.num_inputs = 3;
        data.examples.push_back(sg::make_spike_events(times, ids, 3));
        data.examples.push_back(sg::make_spike_events({5.0f}, {2}, 3));
        const auto got = input_spikes(spike_input_net(), data, T);
        REQUIRE(got.size() == 2);
        CHECK(got[0] == spike_source_array(times, ids, 3, 1.0, T));
        CHECK(got[1] == std::vector<std::pair<int, std::uint32_t>>{{5, 2}});
    }
}

TEST_CASE("PoissonInput fires with probability 1 - exp(-rate dt) per step", "[input][poisson]") {
    // 4 groups of 250 neurons: rates 0.05 and 0.5 spikes/ms, 0 and -0.3 (never).
    constexpr std::size_t N = 1000, group = 250;
    constexpr int T = 200;
    const auto net = sg::network(sg::population<"in", N>(sg::PoissonInput{}) >> sg::Dense{sg::Constant{0.0f}} >>
                                 sg::population<"out", 1>(sg::LeakyIntegrate{}, sg::Var{}));
    const std::vector<float> rates = {0.05f, 0.5f, 0.0f, -0.3f};
    sg::ValueDataset data;
    data.num_inputs = N;
    for (float r : rates) data.values.insert(data.values.end(), group, r);

    for (float dt : {1.0f, 0.5f}) {
        INFO("dt " << dt);
        const auto spikes = input_spikes(net, data, T, dt, 1234).at(0);
        std::vector<double> counts(rates.size(), 0.0);
        for (const auto& [step, id] : spikes) counts[id / group] += 1.0;
        for (std::size_t g = 0; g < rates.size(); ++g) {
            INFO("rate " << rates[g]);
            if (rates[g] <= 0.0f) {
                CHECK(counts[g] == 0.0);
                continue;
            }
            const double p = 1.0 - std::exp(-double(rates[g]) * dt);
            const double trials = double(group) * T;
            const double sd = std::sqrt(trials * p * (1.0 - p));
            CHECK(std::abs(counts[g] - trials * p) < 5.0 * sd);
        }
    }

    SECTION("same seed, same spikes; another seed, other spikes") {
        const auto a = input_spikes(net, data, 50, 1.0f, 7).at(0);
        const auto b = input_spikes(net, data, 50, 1.0f, 7).at(0);
        const auto c = input_spikes(net, data, 50, 1.0f, 8).at(0);
        REQUIRE(a.size() > 100);
        CHECK(a == b);
        CHECK(a != c);
    }
}

TEST_CASE("BinarySpikeInput fires every step iff value > 0", "[input][binary]") {
    constexpr int T = 12;
    const auto net = sg::network(sg::population<"in", 4>(sg::BinarySpikeInput{}) >> sg::OneToOne{} >>
                                 sg::population<"out", 4>(sg::LeakyIntegrate{}, sg::SumVar{}));
    sg::ValueDataset data;
    data.num_inputs = 4;
    data.values = {1.0f, 0.0f, -1.0f, 1e-6f, 0.0f, 0.0f, 0.0f, 3.0f};
    const auto got = input_spikes(net, data, T);
    REQUIRE(got.size() == 2);
    std::vector<std::pair<int, std::uint32_t>> first, second;
    for (int s = 0; s < T; ++s) {
        first.emplace_back(s, 0);
        first.emplace_back(s, 3);
        second.emplace_back(s, 3);
    }
    CHECK(got[0] == first);
    CHECK(got[1] == second);
}

// ---------------------------------------------------------------------------
// Parameter validation
// ---------------------------------------------------------------------------

TEST_CASE("compile rejects NaN and out-of-range parameters, naming population and parameter", "[validation]") {
    const float nan = std::numeric_limits<float>::quiet_NaN();
    const float inf = std::numeric_limits<float>::infinity();
    auto compile = [](const auto& net) { (void)options(10).compile<sg::cpu>(net); };

    CHECK_THAT(invalid_argument_message([&] { compile(lif_net(sg::LeakyIntegrateFire{.tau_mem = nan}, 1.0f)); }),
               Contains("'lif'") && Contains("tau_mem"));
    CHECK_THAT(invalid_argument_message([&] { compile(lif_net(sg::LeakyIntegrateFire{.tau_mem = -1.0f}, 1.0f)); }),
               Contains("'lif'") && Contains("tau_mem"));
    CHECK_THAT(invalid_argument_message([&] { compile(lif_net(sg::LeakyIntegrateFire{.tau_mem = 0.0f}, 1.0f)); }),
               Contains("'lif'") && Contains("tau_mem"));
    CHECK_THAT(invalid_argument_message([&] { compile(lif_net(sg::LeakyIntegrateFire{.tau_refrac = -1.0f}, 1.0f)); }),
               Contains("'lif'") && Contains("tau_refrac"));
    CHECK_THAT(invalid_argument_message([&] { compile(lif_net(sg::LeakyIntegrateFire{.v_thresh = nan}, 1.0f)); }),
               Contains("'lif'") && Contains("v_thresh"));
    CHECK_THAT(invalid_argument_message([&] { compile(alif_net(sg::AdaptiveLeakyIntegrateFire{.tau_adapt = -1.0f}, 1.0f)); }),
               Contains("'alif'") && Contains("tau_adapt"));
    CHECK_THAT(invalid_argument_message([&] { compile(alif_net(sg::AdaptiveLeakyIntegrateFire{.beta = inf}, 1.0f)); }),
               Contains("'alif'") && Contains("beta"));
    CHECK_THAT(invalid_argument_message([&] { compile(if_net(sg::IntegrateFire{.v_reset = nan}, 1.0f)); }),
               Contains("'if'") && Contains("v_reset"));
    CHECK_THAT(invalid_argument_message([&] { compile(li_net(sg::LeakyIntegrate{.tau_mem = nan}, 1.0f, sg::Exponential{})); }),
               Contains("'li_delta'") && Contains("tau_mem"));
    CHECK_THAT(invalid_argument_message([&] { compile(li_net(sg::LeakyIntegrate{.bias = -inf}, 1.0f, sg::Exponential{})); }),
               Contains("'li_delta'") && Contains("bias"));
    CHECK_THAT(invalid_argument_message([&] { compile(li_net(sg::LeakyIntegrate{}, 1.0f, sg::Exponential{.tau = -1.0f})); }),
               Contains("'in_li_exp'") && Contains("tau"));
    CHECK_THAT(invalid_argument_message([&] { compile(lif_net(sg::LeakyIntegrateFire{}, nan)); }),
               Contains("'in_lif'") && Contains("Constant.value"));
    // Valid parameters compile.
    CHECK_NOTHROW(compile(lif_net(sg::LeakyIntegrateFire{}, 1.0f)));
}

// detail::exp_polynomial (EventProp's per-spike decays) against double exp.
TEST_CASE("exp_polynomial is within 2 ulp of e^x on its domain, 0 below it, and keeps NaN", "[exp]") {
    auto ulps = [](float a, float b) {
        std::int32_t ia = 0, ib = 0;
        std::memcpy(&ia, &a, sizeof a);
        std::memcpy(&ib, &b, sizeof b);
        return std::abs(std::int64_t(ia) - std::int64_t(ib));
    };
    std::int64_t worst = 0;
    float worst_x = 0.0f;
    // Every 101st float in [-87.3, 88] (about 2.3 million), the ends included.
    std::size_t n = 0;
    for (float x = -87.3f; x <= 88.0f; x = std::nextafter(x, 100.0f)) {
        if (n++ % 101 != 0 && x != 88.0f) continue;
        const std::int64_t d = ulps(sg::detail::exp_polynomial(x), float(std::exp(double(x))));
        if (d > worst) worst = d, worst_x = x;
    }
    INFO("worst at x = " << worst_x);
    CHECK(worst <= 2);
    CHECK(sg::detail::exp_polynomial(0.0f) == 1.0f);
    CHECK(sg::detail::exp_polynomial(-100.0f) == 0.0f);
    CHECK(sg::detail::exp_polynomial(-std::numeric_limits<float>::infinity()) == 0.0f);
    CHECK(std::isnan(sg::detail::exp_polynomial(std::numeric_limits<float>::quiet_NaN())));
}
