// The event-driven CPU simulator against a plain dense reference simulation
// written here from the documented dynamics: every step, every neuron and
// every (pre, post) pair is visited. Only the weights are taken from the
// library, so both sides simulate the same synapses.
#include <catch2/catch.hpp>

#include <spikegraph/spikegraph.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <random>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace sg = spikegraph;

namespace {

constexpr int kSteps = 60;
constexpr float kDt = 1.0f;
constexpr std::size_t kExamples = 3;

// ---------------------------------------------------------------------------
// Reference simulator
// ---------------------------------------------------------------------------

struct RefPopulation {
    enum Kind { input, lif, li } kind;
    std::size_t size;
    float tau_mem = 20.0f;
    float v_thresh = 1.0f;
    float v_reset = 0.0f;
    float tau_refrac = 0.0f;
    bool relative_reset = true;
    bool integrate_during_refrac = true;
};

enum class Layout { dense, sparse, one_to_one };

struct RefConnection {
    std::size_t pre, post;          // population indices in the reference
    std::size_t num_pre, num_post;
    std::vector<float> w;           // dense [pre][post]
    std::vector<char> present;      // [pre][post]: is there a synapse
    float tau_syn;                  // > 0: Exponential, 0: Delta
};

using SpikeTrain = std::vector<std::pair<int, std::uint32_t>>;  // (step, id), step-major, ids ascending

struct RefRun {
    std::vector<SpikeTrain> spikes;  // per population
    std::vector<float> readout;      // SumVar of V of the readout population
    std::uint64_t synaptic_events = 0;
};

// input_spikes[step]: ids of the input population (index 0) firing in that step.
RefRun simulate_reference(const std::vector<RefPopulation>& pops, const std::vector<RefConnection>& conns,
                          const std::vector<std::vector<std::uint32_t>>& input_spikes, std::size_t readout_pop,
                          int steps) {
    const std::size_t np = pops.size();
    std::vector<std::vector<float>> v(np), refrac(np);
    std::vector<float> alpha(np);
    for (std::size_t p = 0; p < np; ++p) {
        v[p].assign(pops[p].size, 0.0f);
        refrac[p].assign(pops[p].size, 0.0f);
        alpha[p] = float(std::exp(-double(kDt) / double(pops[p].tau_mem)));
    }
    std::vector<std::vector<float>> in_syn(conns.size());
    std::vector<float> decay(conns.size());
    for (std::size_t c = 0; c < conns.size(); ++c) {
        in_syn[c].assign(conns[c].num_post, 0.0f);
        decay[c] = conns[c].tau_syn > 0.0f ? float(std::exp(-double(kDt) / double(conns[c].tau_syn))) : 0.0f;
    }
    RefRun run;
    run.spikes.resize(np);
    run.readout.assign(pops[readout_pop].size, 0.0f);

    std::vector<std::vector<char>> fired(np);
    for (int step = 0; step < steps; ++step) {
        for (std::size_t p = 0; p < np; ++p) {
            const RefPopulation& pop = pops[p];
            fired[p].assign(pop.size, 0);
            if (pop.kind == RefPopulation::input) {
                for (std::uint32_t id : input_spikes[std::size_t(step)]) fired[p][id] = 1;
            } else {
                for (std::size_t i = 0; i < pop.size; ++i) {
                    // Synaptic current: sum over incoming connections in declaration order.
                    float isyn = 0.0f;
                    for (std::size_t c = 0; c < conns.size(); ++c) {
                        if (conns[c].post != p) continue;
                        const float current = in_syn[c][i];
                        in_syn[c][i] = conns[c].tau_syn > 0.0f ? in_syn[c][i] * decay[c] : 0.0f;
                        isyn += current;
                    }
                    float& vi = v[p][i];
                    if (pop.kind == RefPopulation::li) {
                        vi = alpha[p] * vi + isyn;
                    } else {
                        float& r = refrac[p][i];
                        const bool refractory = r > 0.0f;
                        if (pop.integrate_during_refrac || !refractory) vi = alpha[p] * vi + isyn;
                        if (refractory) r -= kDt;
                    }
                    if (p == readout_pop) run.readout[i] += vi;  // SumVar, before any reset
                    if (pop.kind == RefPopulation::lif && vi >= pop.v_thresh && refrac[p][i] <= 0.0f) {
                        fired[p][i] = 1;
                        if (pop.relative_reset) vi -= pop.v_thresh - pop.v_reset;
                        else vi = pop.v_reset;
                        refrac[p][i] = pop.tau_refrac;
                    }
                }
            }
            for (std::size_t i = 0; i < pop.size; ++i)
                if (fired[p][i]) run.spikes[p].emplace_back(step, std::uint32_t(i));
        }
        // Propagation: every pair, every step.
        for (std::size_t c = 0; c < conns.size(); ++c) {
            const RefConnection& conn = conns[c];
            for (std::size_t j = 0; j < conn.num_post; ++j)
                for (std::size_t i = 0; i < conn.num_pre; ++i)
                    if (fired[conn.pre][i] && conn.present[i * conn.num_post + j]) {
                        in_syn[c][j] += conn.w[i * conn.num_post + j];
                        ++run.synaptic_events;
                    }
        }
    }
    return run;
}

// GeNN SpikeSourceArray replay written from its description: an event is due
// in the first step whose start time is >= the event time; a neuron fires at
// most once per step, so surplus due events wait one step each.
std::vector<std::vector<std::uint32_t>> replay_events(const sg::SpikeEvents& events, std::size_t n, int steps) {
    std::vector<int> pending(n, 0);
    std::size_t next = 0;
    std::vector<std::vector<std::uint32_t>> out(static_cast<std::size_t>(steps));
    for (int step = 0; step < steps; ++step) {
        const double t = double(step) * kDt;
        while (next < events.size() && double(events.times[next]) <= t) ++pending[events.ids[next++]];
        for (std::size_t i = 0; i < n; ++i)
            if (pending[i] > 0) {
                --pending[i];
                out[std::size_t(step)].push_back(std::uint32_t(i));
            }
    }
    return out;
}

// The synapses of connection C as a dense matrix, read from the library's storage.
template <std::size_t C, class Model>
RefConnection take_connection(const Model& model, std::string_view name, Layout layout, std::size_t pre,
                              std::size_t post, std::size_t num_pre, std::size_t num_post, float tau_syn) {
    using Net = std::remove_cvref_t<decltype(model.simulator().network())>;
    REQUIRE(Net::connection_names[C] == name);
    const sg::detail::ConnectionStorage& s = model.simulator().template connection_storage<C>();
    RefConnection conn{pre, post, num_pre, num_post, std::vector<float>(num_pre * num_post, 0.0f),
                       std::vector<char>(num_pre * num_post, 0), tau_syn};
    switch (layout) {
        case Layout::dense:
            REQUIRE(s.weights.size() == num_pre * num_post);
            conn.w = s.weights;
            conn.present.assign(num_pre * num_post, 1);
            break;
        case Layout::one_to_one:
            REQUIRE(num_pre == num_post);
            REQUIRE(s.weights.size() == num_pre);
            for (std::size_t i = 0; i < num_pre; ++i) {
                conn.w[i * num_post + i] = s.weights[i];
                conn.present[i * num_post + i] = 1;
            }
            break;
        case Layout::sparse:
            REQUIRE(s.row_start.size() == num_pre + 1);
            REQUIRE(s.columns.size() == s.weights.size());
            REQUIRE(s.row_start.back() == s.columns.size());
            for (std::size_t i = 0; i < num_pre; ++i)
                for (std::uint32_t k = s.row_start[i]; k < s.row_start[i + 1]; ++k) {
                    REQUIRE(s.columns[k] < num_post);
                    conn.w[i * num_post + s.columns[k]] = s.weights[k];
                    conn.present[i * num_post + s.columns[k]] = 1;
                }
            break;
    }
    return conn;
}

SpikeTrain to_train(const std::vector<float>& times, const std::vector<std::uint32_t>& ids) {
    REQUIRE(times.size() == ids.size());
    SpikeTrain train;
    for (std::size_t s = 0; s < times.size(); ++s) {
        const float step = times[s] / kDt;
        REQUIRE(step == std::round(step));
        train.emplace_back(int(step), ids[s]);
    }
    return train;
}

std::vector<std::vector<std::uint32_t>> per_step(const SpikeTrain& train, int steps) {
    std::vector<std::vector<std::uint32_t>> out(static_cast<std::size_t>(steps));
    for (const auto& [step, id] : train) out.at(std::size_t(step)).push_back(id);
    return out;
}

// Spike inputs at whole-ms times, at most one event per neuron and step, so
// that the input spikes of a step reach the hidden layer in ascending id order
// in both simulations (the float sums are then bit-identical).
sg::SpikeDataset make_spike_data(std::size_t num_inputs, double rate, unsigned seed) {
    std::mt19937 gen(seed);
    std::bernoulli_distribution fire(rate);
    sg::SpikeDataset data;
    data.num_inputs = num_inputs;
    for (std::size_t e = 0; e < kExamples; ++e) {
        std::vector<float> times;
        std::vector<std::uint32_t> ids;
        for (int step = 0; step < kSteps - 5; ++step)
            for (std::size_t i = 0; i < num_inputs; ++i)
                if (fire(gen)) {
                    times.push_back(float(step));
                    ids.push_back(std::uint32_t(i));
                }
        data.examples.push_back(sg::make_spike_events(times, ids, num_inputs));
    }
    return data;
}

template <class Model, class Dataset>
void check_against_reference(Model& model, const Dataset& data, const std::vector<RefPopulation>& pops,
                             const std::vector<RefConnection>& conns) {
    constexpr std::size_t hidden = 1, output = 2;  // reference population indices
    sg::SpikeRecorder<"input"> input_recorder;
    sg::SpikeRecorder<"hidden"> hidden_recorder;
    const sg::Predictions predictions = model.predict(data, input_recorder, hidden_recorder);
    const std::uint64_t events = model.simulator().synaptic_events();  // one batch holds every example

    REQUIRE(predictions.size() == kExamples);
    REQUIRE(hidden_recorder.spike_ids.size() == kExamples);
    std::uint64_t hidden_spikes = 0, input_spikes = 0, reference_events = 0;
    for (std::size_t e = 0; e < kExamples; ++e) {
        INFO("example " << e);
        const SpikeTrain recorded_input = to_train(input_recorder.spike_times[e], input_recorder.spike_ids[e]);
        std::vector<std::vector<std::uint32_t>> input = per_step(recorded_input, kSteps);
        if constexpr (std::is_same_v<Dataset, sg::SpikeDataset>) {
            // Spike inputs: the reference replays the dataset itself.
            input = replay_events(data.examples[e], pops[0].size, kSteps);
        }
        const RefRun ref = simulate_reference(pops, conns, input, output, kSteps);
        CHECK(recorded_input == ref.spikes[0]);
        CHECK(to_train(hidden_recorder.spike_times[e], hidden_recorder.spike_ids[e]) == ref.spikes[hidden]);
        const auto readout = predictions.example(e);
        REQUIRE(readout.size() == ref.readout.size());
        for (std::size_t k = 0; k < readout.size(); ++k) {
            INFO("output " << k);
            CHECK(readout[k] == Approx(ref.readout[k]).epsilon(1e-4).margin(1e-5));
        }
        hidden_spikes += ref.spikes[hidden].size();
        input_spikes += ref.spikes[0].size();
        reference_events += ref.synaptic_events;
    }
    // Not vacuous: the hidden layer is active, but not saturated.
    INFO("input spikes " << input_spikes << ", hidden spikes " << hidden_spikes);
    CHECK(input_spikes > 0);
    CHECK(hidden_spikes > 20 * kExamples);
    CHECK(hidden_spikes < kExamples * pops[hidden].size * kSteps / 2);
    CHECK(events == reference_events);
}

sg::InferenceCompiler compiler(std::uint64_t seed) {
    return sg::InferenceCompiler{.example_timesteps = kSteps, .batch_size = kExamples, .seed = seed,
                                 .num_threads = 1, .verbose = false};
}

constexpr auto input50 = sg::population<"input", 50>(sg::SpikeInput{});
constexpr auto hidden40 = sg::population<"hidden", 40>(sg::LeakyIntegrateFire{.tau_mem = 20.0f});
constexpr auto output5 = sg::population<"output", 5>(sg::LeakyIntegrate{.tau_mem = 20.0f}, sg::SumVar{});

}  // namespace

TEST_CASE("dense connections match the dense reference", "[propagation]") {
    const auto net = sg::network(
        input50 >> sg::Dense{sg::Normal{0.012f, 0.03f}} >> sg::Exponential{5.0f} >> hidden40,
        hidden40 >> sg::Dense{sg::Normal{0.0f, 0.08f}} >> sg::Exponential{5.0f} >> hidden40,
        hidden40 >> sg::Dense{sg::Normal{0.0f, 0.3f}} >> sg::Exponential{5.0f} >> output5);
    auto model = compiler(11).compile<sg::cpu>(net);
    const std::vector<RefPopulation> pops{{RefPopulation::input, 50}, {RefPopulation::lif, 40}, {RefPopulation::li, 5}};
    const std::vector<RefConnection> conns{
        take_connection<0>(model, "input_hidden", Layout::dense, 0, 1, 50, 40, 5.0f),
        take_connection<1>(model, "hidden_hidden", Layout::dense, 1, 1, 40, 40, 5.0f),
        take_connection<2>(model, "hidden_output", Layout::dense, 1, 2, 40, 5, 5.0f)};
    check_against_reference(model, make_spike_data(50, 0.1, 1), pops, conns);
}

TEST_CASE("sparse FixedProbability connections match the dense reference", "[propagation]") {
    // Absolute reset and a refractory period, so those paths are compared as well.
    const auto hidden = sg::population<"hidden", 40>(sg::LeakyIntegrateFire{
        .v_thresh = 1.0f, .v_reset = -0.2f, .tau_mem = 15.0f, .tau_refrac = 3.0f, .relative_reset = false});
    const auto net = sg::network(
        input50 >> sg::FixedProbability{0.2f, sg::Normal{0.1f, 0.1f}} >> sg::Exponential{5.0f} >> hidden,
        hidden >> sg::FixedProbability{0.2f, sg::Normal{0.0f, 0.3f}} >> sg::Exponential{4.0f} >> hidden,
        hidden >> sg::FixedProbability{0.2f, sg::Normal{0.0f, 0.5f}} >> sg::Exponential{8.0f} >> output5);
    auto model = compiler(12).compile<sg::cpu>(net);
    RefPopulation lif{RefPopulation::lif, 40};
    lif.v_reset = -0.2f;
    lif.tau_mem = 15.0f;
    lif.tau_refrac = 3.0f;
    lif.relative_reset = false;
    const std::vector<RefPopulation> pops{{RefPopulation::input, 50}, lif, {RefPopulation::li, 5}};
    const std::vector<RefConnection> conns{
        take_connection<0>(model, "input_hidden", Layout::sparse, 0, 1, 50, 40, 5.0f),
        take_connection<1>(model, "hidden_hidden", Layout::sparse, 1, 1, 40, 40, 4.0f),
        take_connection<2>(model, "hidden_output", Layout::sparse, 1, 2, 40, 5, 8.0f)};
    // FixedProbability(0.2) really is sparse here (and not empty).
    std::size_t synapses = 0;
    for (char present : conns[0].present) synapses += std::size_t(present);
    CHECK(synapses > 200);
    CHECK(synapses < 600);
    check_against_reference(model, make_spike_data(50, 0.1, 2), pops, conns);
}

TEST_CASE("one-to-one and delta connections match the dense reference", "[propagation]") {
    // Input spikes with several events per neuron in one step exercise the
    // SpikeSourceArray carry-over (one spike per neuron per step).
    constexpr auto input = sg::population<"input", 40>(sg::SpikeInput{});
    const auto hidden = sg::population<"hidden", 40>(
        sg::LeakyIntegrateFire{.tau_mem = 10.0f, .tau_refrac = 2.0f, .integrate_during_refrac = false});
    const auto net = sg::network(
        input >> sg::OneToOne{sg::Normal{0.6f, 0.2f}} >> sg::Exponential{3.0f} >> hidden,
        hidden >> sg::Dense{sg::Normal{0.0f, 0.1f}} >> sg::Exponential{5.0f} >> hidden,
        hidden >> sg::Dense{sg::Normal{0.0f, 0.3f}} >> output5);  // Delta synapse
    auto model = compiler(13).compile<sg::cpu>(net);
    RefPopulation lif{RefPopulation::lif, 40};
    lif.tau_mem = 10.0f;
    lif.tau_refrac = 2.0f;
    lif.integrate_during_refrac = false;
    const std::vector<RefPopulation> pops{{RefPopulation::input, 40}, lif, {RefPopulation::li, 5}};
    const std::vector<RefConnection> conns{
        take_connection<0>(model, "input_hidden", Layout::one_to_one, 0, 1, 40, 40, 3.0f),
        take_connection<1>(model, "hidden_hidden", Layout::dense, 1, 1, 40, 40, 5.0f),
        take_connection<2>(model, "hidden_output", Layout::dense, 1, 2, 40, 5, 0.0f)};

    sg::SpikeDataset data = make_spike_data(40, 0.15, 3);
    // Example 0: bursts (the same neuron three times at one time, at
    // fractional times) replayed one spike per step. With one-to-one input
    // weights the order of input spikes within a step does not change any sum.
    {
        std::vector<float> times{2.0f, 2.0f, 2.0f, 2.5f, 7.25f, 7.25f, 30.0f};
        std::vector<std::uint32_t> ids{5, 5, 5, 6, 5, 39, 0};
        data.examples[0] = sg::make_spike_events(times, ids, 40);
    }
    check_against_reference(model, data, pops, conns);
}

TEST_CASE("Poisson-driven network matches the dense reference fed the recorded input spikes", "[propagation]") {
    constexpr auto input = sg::population<"input", 50>(sg::PoissonInput{});
    const auto net = sg::network(
        input >> sg::Dense{sg::Normal{0.012f, 0.03f}} >> sg::Exponential{5.0f} >> hidden40,
        hidden40 >> sg::Dense{sg::Normal{0.0f, 0.08f}} >> sg::Exponential{5.0f} >> hidden40,
        hidden40 >> sg::Dense{sg::Normal{0.0f, 0.3f}} >> sg::Exponential{5.0f} >> output5);
    auto model = compiler(14).compile<sg::cpu>(net);
    const std::vector<RefPopulation> pops{{RefPopulation::input, 50}, {RefPopulation::lif, 40}, {RefPopulation::li, 5}};
    const std::vector<RefConnection> conns{
        take_connection<0>(model, "input_hidden", Layout::dense, 0, 1, 50, 40, 5.0f),
        take_connection<1>(model, "hidden_hidden", Layout::dense, 1, 1, 40, 40, 5.0f),
        take_connection<2>(model, "hidden_output", Layout::dense, 1, 2, 40, 5, 5.0f)};

    // Rates in spikes/ms: 0 for the first ten neurons (they must never fire), up to 0.2.
    sg::ValueDataset data;
    data.num_inputs = 50;
    for (std::size_t e = 0; e < kExamples; ++e)
        for (std::size_t i = 0; i < 50; ++i) data.values.push_back(i < 10 ? 0.0f : 0.004f * float(i));
    check_against_reference(model, data, pops, conns);

    // The recorded Poisson input itself: silent neurons silent, and the spike
    // count of the active ones within 5 sigma of its Binomial expectation.
    sg::SpikeRecorder<"input"> recorder;
    (void)model.predict(data, recorder);
    double expected = 0.0, variance = 0.0;
    for (std::size_t i = 10; i < 50; ++i) {
        const double p = 1.0 - std::exp(-0.004 * double(i) * kDt);
        expected += kExamples * kSteps * p;
        variance += kExamples * kSteps * p * (1.0 - p);
    }
    std::size_t count = 0;
    for (const auto& ids : recorder.spike_ids)
        for (std::uint32_t id : ids) {
            CHECK(id >= 10);
            ++count;
        }
    CHECK(std::abs(double(count) - expected) < 5.0 * std::sqrt(variance));
}
