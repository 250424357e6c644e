// Every readout against values computed here from the analytic trace of the
// neuron it reads, over several examples run in one batch, in consecutive
// batches and with both CPU scheduling modes (lane-parallel and step-parallel),
// so readouts must start afresh for each example.
//
// Timing (GeNN/mlGeNN order, see docs/dynamics.md): an input spike in step s
// reaches its target in step s + 1; readouts see a variable after the step's
// integration and before its reset.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include <spikegraph/spikegraph.hpp>

namespace sg = spikegraph;

namespace {

constexpr int T = 50;

sg::InferenceCompiler options(std::size_t batch_size, unsigned threads, float dt = 1.0f) {
    return sg::InferenceCompiler{.example_timesteps = T,
                                 .batch_size = batch_size,
                                 .dt = dt,
                                 .seed = 0,
                                 .num_threads = threads,
                                 .metrics = {},
                                 .verbose = false};
}

// Spike times (ms) of the single input neuron, one list per example. Example 3
// repeats example 0, so a readout that leaked from one example into the next
// would show as a difference between them.
std::vector<std::vector<float>> li_examples() { return {{2.0f, 10.0f, 11.0f}, {30.0f}, {}, {2.0f, 10.0f, 11.0f}}; }
// For the spiking readouts: spikes at 3, 4, 21; input too late to cause a spike
// (arrives in step T); input whose spike lands in the last step; example 0 again.
std::vector<std::vector<float>> spiking_examples() {
    return {{2.0f, 3.0f, 20.0f}, {float(T - 1)}, {float(T - 2)}, {2.0f, 3.0f, 20.0f}};
}

sg::SpikeDataset dataset(const std::vector<std::vector<float>>& trains, float time_scale = 1.0f) {
    sg::SpikeDataset data;
    data.num_inputs = 1;
    for (const auto& train : trains) {
        std::vector<float> times;
        for (float t : train) times.push_back(t * time_scale);
        data.examples.push_back(sg::make_spike_events(times, std::vector<std::uint32_t>(times.size(), 0), 1));
    }
    return data;
}

// Every example's input steps here are integers in ms with dt = 1 (or scaled
// with dt), so the input neuron fires in step t / dt.
std::vector<int> input_steps(const std::vector<float>& train) {
    std::vector<int> steps;
    for (float t : train) steps.push_back(int(t));
    return steps;
}

// LI (tau_mem) fed through an Exponential (tau_syn) synapse of weight w by input
// spikes in steps s_i: superposition of impulse responses,
//   V_n = sum_i w (alpha^k - beta^k) / (alpha - beta),  k = n - s_i >= 1.
std::vector<double> li_trace(const std::vector<int>& steps, double w, double tau_mem, double tau_syn) {
    const double alpha = std::exp(-1.0 / tau_mem), beta = std::exp(-1.0 / tau_syn);
    std::vector<double> v(T, 0.0);
    for (int n = 0; n < T; ++n)
        for (int s : steps)
            if (n > s) v[std::size_t(n)] += w * (std::pow(alpha, n - s) - std::pow(beta, n - s)) / (alpha - beta);
    return v;
}

constexpr float w_li = 0.8f, tau_mem = 20.0f, tau_syn = 5.0f;

auto li_readout_net() {
    const auto in = sg::population<"in", 1>(sg::SpikeInput{});
    const sg::LeakyIntegrate li{.tau_mem = tau_mem};
    const auto conn = sg::OneToOne{sg::Constant{w_li}};
    const auto syn = sg::Exponential{.tau = tau_syn};
    return sg::network(in >> conn >> syn >> sg::population<"var", 1>(li, sg::Var{}),
                       in >> conn >> syn >> sg::population<"sum", 1>(li, sg::SumVar{}),
                       in >> conn >> syn >> sg::population<"sum_v", 1>(li, sg::SumVar<"V">{}),
                       in >> conn >> syn >> sg::population<"avg", 1>(li, sg::AvgVar{}),
                       in >> conn >> syn >> sg::population<"exp_avg", 1>(li, sg::AvgVarExpWeight{}),
                       in >> conn >> syn >> sg::population<"max", 1>(li, sg::MaxVar{}));
}

// w = 1.5 >= v_thresh with an absolute reset to 0 and no other input: each input
// spike in step s makes the neuron spike in step s + 1 with V = 1.5 before the
// reset; V is 0 at every other step.
constexpr float w_spike = 1.5f;
auto spiking_readout_net() {
    const auto in = sg::population<"in", 1>(sg::SpikeInput{});
    const sg::LeakyIntegrateFire lif{.relative_reset = false};
    const sg::AdaptiveLeakyIntegrateFire alif{.relative_reset = false};
    const auto conn = sg::OneToOne{sg::Constant{w_spike}};
    return sg::network(in >> conn >> sg::population<"count", 1>(lif, sg::SpikeCount{}),
                       in >> conn >> sg::population<"first", 1>(lif, sg::FirstSpikeTime{}),
                       in >> conn >> sg::population<"lif_max", 1>(lif, sg::MaxVar{}),
                       in >> conn >> sg::population<"lif_var", 1>(lif, sg::Var{}),
                       in >> conn >> sg::population<"adapt_sum", 1>(alif, sg::SumVar<"A">{}));
}

// Output spike steps of the spiking populations for one example.
std::vector<int> output_spike_steps(const std::vector<float>& train) {
    std::vector<int> out;
    for (int s : input_steps(train))
        if (s + 1 < T) out.push_back(s + 1);
    return out;
}

struct Schedule {
    std::size_t batch_size;
    unsigned threads;
};
// (1, 1): consecutive batches; (4, 1): all examples in one batch, a thread per lane;
// (2, 4): fewer lanes than threads, every step split over neuron chunks; (3, 2): a
// full batch then a one-lane batch, switching modes between batches.
const std::vector<Schedule> schedules = {{1, 1}, {4, 1}, {2, 4}, {3, 2}};

}  // namespace

TEST_CASE("LI readouts match sums over the analytic V trace", "[readout]") {
    const auto trains = li_examples();
    const auto data = dataset(trains);
    for (const Schedule schedule : schedules) {
        INFO("batch_size " << schedule.batch_size << ", threads " << schedule.threads);
        auto model = options(schedule.batch_size, schedule.threads).compile<sg::cpu>(li_readout_net());
        const auto var = model.predict<"var">(data).values;
        const auto sum = model.predict<"sum">(data).values;
        const auto sum_v = model.predict<"sum_v">(data).values;
        const auto avg = model.predict<"avg">(data).values;
        const auto exp_avg = model.predict<"exp_avg">(data).values;
        const auto max = model.predict<"max">(data).values;
        REQUIRE(var.size() == trains.size());

        for (std::size_t e = 0; e < trains.size(); ++e) {
            INFO("example " << e);
            const auto v = li_trace(input_steps(trains[e]), w_li, tau_mem, tau_syn);
            double total = 0.0, weighted = 0.0, peak = 0.0;
            for (int n = 0; n < T; ++n) {
                total += v[std::size_t(n)];
                weighted += std::exp(-double(n) / T) / T * v[std::size_t(n)];
                peak = std::max(peak, v[std::size_t(n)]);
            }
            CHECK(var[e] == Approx(v.back()).epsilon(1e-5).margin(1e-7));
            CHECK(sum[e] == Approx(total).epsilon(1e-5).margin(1e-7));
            CHECK(sum_v[e] == sum[e]);  // naming the output variable changes nothing
            CHECK(avg[e] == Approx(total / T).epsilon(1e-5).margin(1e-7));
            CHECK(exp_avg[e] == Approx(weighted).epsilon(1e-5).margin(1e-7));
            CHECK(max[e] == Approx(peak).epsilon(1e-5).margin(1e-7));
        }
        // No input: every readout is exactly its initial 0; a repeated example repeats exactly.
        CHECK(var[2] == 0.0f);
        CHECK(sum[2] == 0.0f);
        CHECK(exp_avg[2] == 0.0f);
        CHECK(max[2] == 0.0f);
        CHECK(sum[3] == sum[0]);
        CHECK(exp_avg[3] == exp_avg[0]);
        CHECK(max[3] == max[0]);
    }
}

TEST_CASE("MaxVar starts from 0, so it reads 0 for a neuron that only goes negative", "[readout]") {
    const auto data = dataset(li_examples());
    auto model = options(2, 1).compile<sg::cpu>(li_readout_net());
    model.set_weights<"in_max">(std::vector<float>{-w_li});
    model.set_weights<"in_sum">(std::vector<float>{-w_li});
    const auto max = model.predict<"max">(data).values;
    const auto sum = model.predict<"sum">(data).values;
    for (std::size_t e = 0; e < max.size(); ++e) CHECK(max[e] == 0.0f);
    CHECK(sum[0] < -1.0f);  // the neuron really was driven negative
    const auto v = li_trace(input_steps(li_examples()[0]), -w_li, tau_mem, tau_syn);
    double total = 0.0;
    for (double x : v) total += x;
    CHECK(sum[0] == Approx(total).epsilon(1e-5));
}

TEST_CASE("Spike readouts: SpikeCount, FirstSpikeTime, and Var/MaxVar see V before the reset", "[readout]") {
    const auto trains = spiking_examples();
    const auto data = dataset(trains);
    const float lowest = std::numeric_limits<float>::lowest();
    for (const Schedule schedule : schedules) {
        INFO("batch_size " << schedule.batch_size << ", threads " << schedule.threads);
        auto model = options(schedule.batch_size, schedule.threads).compile<sg::cpu>(spiking_readout_net());
        const auto count = model.predict<"count">(data).values;
        const auto first = model.predict<"first">(data).values;
        const auto max = model.predict<"lif_max">(data).values;
        const auto var = model.predict<"lif_var">(data).values;
        REQUIRE(count.size() == trains.size());

        for (std::size_t e = 0; e < trains.size(); ++e) {
            INFO("example " << e);
            const auto spikes = output_spike_steps(trains[e]);
            CHECK(count[e] == float(spikes.size()));
            CHECK(first[e] == (spikes.empty() ? lowest : -float(spikes.front())));
            // The state V is 0 after every reset; the readouts see the 1.5 before it.
            CHECK(max[e] == (spikes.empty() ? 0.0f : w_spike));
            CHECK(var[e] == (!spikes.empty() && spikes.back() == T - 1 ? w_spike : 0.0f));
        }
        // The cases the examples were built for.
        CHECK(count[0] == 3.0f);
        CHECK(first[0] == -3.0f);
        CHECK(first[1] == lowest);
        CHECK(count[1] == 0.0f);
        CHECK(var[2] == w_spike);
        CHECK(first[2] == -float(T - 1));
        CHECK(first[3] == first[0]);
        CHECK(count[3] == count[0]);
    }
}

TEST_CASE("FirstSpikeTime is -(step * dt) of the first spike", "[readout]") {
    // dt = 0.5 with the input times halved: the same steps, half the times.
    const auto trains = spiking_examples();
    auto model = options(2, 1, 0.5f).compile<sg::cpu>(spiking_readout_net());
    const auto first = model.predict<"first">(dataset(trains, 0.5f)).values;
    REQUIRE(first.size() == trains.size());
    for (std::size_t e = 0; e < trains.size(); ++e) {
        INFO("example " << e);
        const auto spikes = output_spike_steps(trains[e]);
        CHECK(first[e] == (spikes.empty() ? std::numeric_limits<float>::lowest() : -0.5f * float(spikes.front())));
    }
    CHECK(first[0] == -1.5f);
}

TEST_CASE("A readout of a named variable: SumVar<\"A\"> on ALIF", "[readout]") {
    // ALIF with beta = 0.0174 and A of a few units keeps its threshold below 1.5,
    // so it spikes exactly as the LIF. A decays by rho each step and jumps by 1 at
    // the reset, after the readout has seen it, so the readout sums
    //   A_n = sum over spikes sigma < n of rho^(n - sigma).
    const auto trains = spiking_examples();
    const auto data = dataset(trains);
    const double rho = std::exp(-1.0 / 2000.0);
    for (const Schedule schedule : schedules) {
        INFO("batch_size " << schedule.batch_size << ", threads " << schedule.threads);
        auto model = options(schedule.batch_size, schedule.threads).compile<sg::cpu>(spiking_readout_net());
        const auto adapt_sum = model.predict<"adapt_sum">(data).values;
        REQUIRE(adapt_sum.size() == trains.size());
        for (std::size_t e = 0; e < trains.size(); ++e) {
            INFO("example " << e);
            double expected = 0.0;
            for (int n = 0; n < T; ++n)
                for (int sigma : output_spike_steps(trains[e]))
                    if (sigma < n) expected += std::pow(rho, n - sigma);
            CHECK(adapt_sum[e] == Approx(expected).epsilon(1e-5).margin(1e-7));
        }
        CHECK(adapt_sum[1] == 0.0f);
        CHECK(adapt_sum[3] == adapt_sum[0]);
        // Had the readout seen A after the reset, example 0 would read 3 more (one per spike).
        CHECK(adapt_sum[0] == Approx(117.748).epsilon(1e-4));
    }
}
