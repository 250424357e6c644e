// The CUDA backend against the CPU backend, spike for spike (label gpu; the
// Catch2 main skips loudly where there is no CUDA device). The same file also
// runs on the host emulation of CUDA (tests/cuda_backend_emulated_test.cpp),
// on every machine.
//
// Both backends run the same model functions, replay input spikes in the same
// queue order and add weights into each in_syn in the same order, and this
// file is compiled with --fmad=false -ftz=true (spikegraph::cuda). So spikes,
// recorded voltages and readouts must be identical, bit for bit. The one
// exception is AvgVarExpWeight, whose weight exp(-t/T) comes from the
// device's expf (up to 2 ulp from the host's); its readout is compared to 1e-5.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <spikegraph/spikegraph.hpp>

#include "../batching_network.hpp"

namespace sg = spikegraph;

namespace {

constexpr std::size_t kExamples = 5;

// The batching test's network (3000 neurons: twelve update blocks).
using namespace batching_network;

constexpr auto poisson_input = sg::population<"input", 300>(sg::PoissonInput{});
constexpr auto poisson_net = sg::network(
    poisson_input >> sg::Dense{sg::Normal{0.01f, 0.01f}} >> sg::Exponential{5.0f} >> small,
    small >> sg::Dense{sg::Normal{0.0f, 0.3f}} >> sg::Exponential{5.0f} >> readout);

constexpr auto binary_input = sg::population<"input", 40>(sg::BinarySpikeInput{});
constexpr auto binary_hidden = sg::population<"small", 30>(sg::IntegrateFire{}, sg::SpikeCount{});
constexpr auto binary_net = sg::network(
    binary_input >> sg::Dense{sg::Normal{0.1f, 0.2f}} >> binary_hidden,
    binary_hidden >> sg::Dense{sg::Normal{0.0f, 0.3f}} >> sg::Exponential{5.0f} >> readout);

// Every other neuron model and readout, refractoriness, absolute reset,
// scale_i, a one-to-one connection, and T = 600, longer than one captured
// graph (256 steps), with long silences where in_syn decays into denormals.
// 300 inputs that all fire in one step (more spikes than one block's threads)
// feed a one-to-one connection (pre-parallel over that many spikes).
constexpr std::size_t kZooInputs = 300;
constexpr auto zoo_input = sg::population<"input", kZooInputs>(sg::SpikeInput{});
constexpr auto adaptive = sg::population<"adaptive", 300>(
    sg::AdaptiveLeakyIntegrateFire{.v_thresh = 0.6f, .beta = 0.1f, .tau_refrac = 3.0f}, sg::MaxVar<"A">{});
constexpr auto absolute = sg::population<"absolute", 300>(
    sg::LeakyIntegrateFire{.tau_mem = 15.0f, .tau_refrac = 2.0f, .relative_reset = false, .scale_i = true},
    sg::FirstSpikeTime{});
constexpr auto mirror = sg::population<"mirror", 300>(sg::LeakyIntegrateFire{.tau_mem = 8.0f}, sg::SpikeCount{});
constexpr auto zoo_sum = sg::population<"sum", 7>(sg::LeakyIntegrate{.tau_mem = 20.0f, .scale_i = true}, sg::SumVar{});
constexpr auto zoo_last = sg::population<"last", 7>(sg::LeakyIntegrate{.tau_mem = 30.0f}, sg::Var{});
constexpr auto zoo_exp = sg::population<"exp", 7>(sg::LeakyIntegrate{.tau_mem = 20.0f}, sg::AvgVarExpWeight{});
constexpr auto zoo_net = sg::network(
    zoo_input >> sg::Dense{sg::Normal{0.015f, 0.02f}} >> sg::Exponential{5.0f, true} >> adaptive,
    zoo_input >> sg::FixedProbability{0.05f, sg::Normal{0.3f, 0.2f}} >> sg::Exponential{3.0f} >> absolute,
    sg::named<"input_absolute_one_to_one">(zoo_input >> sg::OneToOne{sg::Constant{0.05f}} >> sg::Exponential{3.0f} >> absolute),
    adaptive >> sg::OneToOne{sg::Constant{0.8f}} >> mirror,
    adaptive >> sg::Dense{sg::Normal{0.0f, 0.05f}} >> sg::Exponential{5.0f} >> adaptive,
    absolute >> sg::Dense{sg::Normal{0.0f, 0.2f}} >> mirror,
    mirror >> sg::Dense{sg::Normal{0.0f, 0.1f}} >> sg::Exponential{5.0f} >> zoo_sum,
    mirror >> sg::Dense{sg::Normal{0.0f, 0.1f}} >> sg::Exponential{5.0f} >> zoo_last,
    mirror >> sg::Dense{sg::Normal{0.0f, 0.1f}} >> sg::Exponential{5.0f} >> zoo_exp);

// Sparse connections whose warp units (sparse_row_split.hpp) are 32, 64 and
// 512 targets wide: 94, 47 and 6 units over 3000 targets, so each spike's row
// is shared among many warps and blocks; two of them end in one population.
constexpr auto split_input = sg::population<"input", 100>(sg::SpikeInput{});
constexpr auto split_wide = sg::population<"wide", 3000>(sg::LeakyIntegrateFire{.tau_mem = 20.0f});
constexpr auto split_net = sg::network(
    split_input >> sg::FixedProbability{1.0f, sg::Normal{-0.003f, 0.01f}} >> sg::Exponential{5.0f} >> split_wide,
    sg::named<"input_wide_p03">(split_input >> sg::FixedProbability{0.3f, sg::Normal{0.01f, 0.03f}} >>
                                sg::Exponential{5.0f} >> split_wide),
    split_wide >> sg::FixedProbability{0.05f, sg::Normal{0.0f, 0.05f}} >> sg::Exponential{5.0f} >> split_wide,
    split_wide >> sg::Dense{sg::Normal{0.0f, 0.02f}} >> sg::Exponential{5.0f} >> readout);

struct Outcome {
    std::vector<float> predictions;
    std::vector<std::vector<float>> input_times, hidden_times;
    std::vector<std::vector<std::uint32_t>> input_ids, hidden_ids;
    std::vector<float> voltages;  // the hidden population's V, [example][step][neuron]
    std::uint64_t last_batch_events = 0;
    std::vector<std::uint64_t> last_batch_spikes;
};

// Non-template: GCC 12 crashes on this designated initialiser inside a template.
sg::InferenceCompiler compiler(int steps, std::size_t batch_size, std::size_t sparse_unit_width = 0) {
    return sg::InferenceCompiler{.example_timesteps = steps, .batch_size = batch_size, .seed = 42, .num_threads = 2,
                                 .cuda_sparse_unit_width = sparse_unit_width, .verbose = false};
}

template <class Backend, sg::FixedString Output, sg::FixedString Hidden, class Net, class Dataset>
Outcome simulate(const Net& net, const Dataset& data, int steps, std::size_t batch_size,
                 std::size_t sparse_unit_width = 0) {
    auto model = compiler(steps, batch_size, sparse_unit_width).compile<Backend>(net);
    sg::SpikeRecorder<"input"> input;
    sg::SpikeRecorder<Hidden> hidden;
    sg::VarRecorder<Hidden, "V"> voltage;
    Outcome out;
    out.predictions = model.template predict<Output>(data, input, hidden, voltage).values;
    out.input_times = input.spike_times;
    out.input_ids = input.spike_ids;
    out.hidden_times = hidden.spike_times;
    out.hidden_ids = hidden.spike_ids;
    for (const auto& trace : voltage.values) out.voltages.insert(out.voltages.end(), trace.begin(), trace.end());
    out.last_batch_events = model.simulator().synaptic_events();
    constexpr std::size_t hidden_index = std::size_t(Net::population_index(sg::name_view<Hidden>));
    const auto totals = model.simulator().template spike_totals<hidden_index>();
    out.last_batch_spikes.assign(totals.begin(), totals.end());
    return out;
}

void check_same(const Outcome& gpu, const Outcome& cpu, float readout_tolerance = 0.0f) {
    REQUIRE(gpu.predictions.size() == cpu.predictions.size());
    for (std::size_t i = 0; i < gpu.predictions.size(); ++i) {
        INFO("readout value " << i);
        if (readout_tolerance == 0.0f) CHECK(gpu.predictions[i] == cpu.predictions[i]);
        else CHECK(gpu.predictions[i] == Approx(cpu.predictions[i]).epsilon(readout_tolerance).margin(readout_tolerance / 10));
    }
    REQUIRE(gpu.hidden_ids.size() == cpu.hidden_ids.size());
    for (std::size_t e = 0; e < cpu.hidden_ids.size(); ++e) {
        INFO("example " << e);
        CHECK(gpu.input_ids[e] == cpu.input_ids[e]);
        CHECK(gpu.input_times[e] == cpu.input_times[e]);
        CHECK(gpu.hidden_ids[e] == cpu.hidden_ids[e]);
        CHECK(gpu.hidden_times[e] == cpu.hidden_times[e]);
    }
    REQUIRE(gpu.voltages.size() == cpu.voltages.size());
    std::size_t differing = 0;
    for (std::size_t i = 0; i < cpu.voltages.size(); ++i) differing += gpu.voltages[i] != cpu.voltages[i];
    CHECK(differing == 0);
    CHECK(gpu.last_batch_events == cpu.last_batch_events);
    CHECK(gpu.last_batch_spikes == cpu.last_batch_spikes);
}

std::size_t count_spikes(const std::vector<std::vector<std::uint32_t>>& ids) {
    std::size_t total = 0;
    for (const auto& example : ids) total += example.size();
    return total;
}

sg::SpikeDataset make_spike_data(std::size_t inputs, int steps, std::size_t base_count, bool burst = false) {
    std::mt19937 gen(5);
    std::uniform_real_distribution<float> time(0.0f, float(steps - 3));
    sg::SpikeDataset data;
    data.num_inputs = inputs;
    for (std::size_t e = 0; e < kExamples; ++e) {
        const std::size_t count = base_count + 60 * e;
        std::vector<float> times;
        std::vector<std::uint32_t> ids;
        for (std::size_t s = 0; s < count; ++s) {
            // Quantised times put several events of one neuron in one step:
            // the carried-over spikes whose queue order matters.
            times.push_back(std::floor(time(gen) * 0.5f) * 2.0f);
            ids.push_back(std::uint32_t(gen() % inputs));
        }
        if (burst)  // every input at 10 ms
            for (std::size_t i = 0; i < inputs; ++i) {
                times.push_back(10.0f);
                ids.push_back(std::uint32_t(i));
            }
        data.examples.push_back(sg::make_spike_events(times, ids, inputs));
        data.labels.push_back(std::int32_t(e % 7));
    }
    return data;
}

sg::ValueDataset make_value_data(std::size_t inputs, float scale) {
    sg::ValueDataset data;
    data.num_inputs = inputs;
    for (std::size_t e = 0; e < kExamples; ++e)
        for (std::size_t i = 0; i < inputs; ++i)
            data.values.push_back(scale * (0.02f + 0.002f * float((i + 7 * e) % inputs)) - (i % 5 == 0 ? 1.0f : 0.0f));
    return data;
}

}  // namespace

TEST_CASE("cuda equals cpu on the batching network, batch sizes 1, 4 (partial last batch) and 5", "[cuda]") {
    const sg::SpikeDataset data = make_spike_data(100, 25, 150);
    const Outcome cpu = simulate<sg::cpu, "output", "big">(spike_net, data, 25, 4);
    REQUIRE(count_spikes(cpu.hidden_ids) > 100);
    for (std::size_t batch_size : {std::size_t{1}, std::size_t{4}, kExamples}) {
        INFO("batch_size " << batch_size);
        const Outcome gpu = simulate<sg::cuda, "output", "big">(spike_net, data, 25, batch_size);
        if (batch_size == 4) check_same(gpu, cpu);
        else check_same(Outcome{gpu.predictions, gpu.input_times, gpu.hidden_times, gpu.input_ids, gpu.hidden_ids,
                                gpu.voltages, cpu.last_batch_events, cpu.last_batch_spikes},
                        cpu);  // per-batch statistics compare only at equal batch size
    }
    const Outcome cpu_small = simulate<sg::cpu, "output", "small">(spike_net, data, 25, 4);
    REQUIRE(count_spikes(cpu_small.hidden_ids) > 20);
    check_same(simulate<sg::cuda, "output", "small">(spike_net, data, 25, 4), cpu_small);
}

TEST_CASE("cuda equals cpu with Poisson and binary value inputs", "[cuda]") {
    const sg::ValueDataset rates = make_value_data(300, 0.2f);
    const Outcome cpu = simulate<sg::cpu, "output", "small">(poisson_net, rates, 40, 2);
    REQUIRE(count_spikes(cpu.input_ids) > 100);
    check_same(simulate<sg::cuda, "output", "small">(poisson_net, rates, 40, 2), cpu);

    const sg::ValueDataset values = make_value_data(40, 1.0f);
    const Outcome cpu_binary = simulate<sg::cpu, "small", "small">(binary_net, values, 30, 3);
    REQUIRE(count_spikes(cpu_binary.hidden_ids) > 20);
    check_same(simulate<sg::cuda, "small", "small">(binary_net, values, 30, 3), cpu_binary);
}

TEST_CASE("sparse rows split into warp units: widths and starts", "[cuda]") {
    namespace cb = sg::cuda_backend;
    // The widest power of two whose share of an average row is at most 32 synapses.
    CHECK(cb::sparse_unit_width(100, 3000, 100 * 3000) == 32);        // p = 1
    CHECK(cb::sparse_unit_width(100, 3000, 100 * 900) == 64);         // p = 0.3
    CHECK(cb::sparse_unit_width(3000, 3000, 3000 * 150) == 512);      // p = 0.05
    CHECK(cb::sparse_unit_width(16384, 16384, 16384 * 164) == 2048);  // p = 0.01
    CHECK(cb::sparse_unit_width(3000, 3000, 3000 * 30) == 2048);      // p = 0.01: two units
    CHECK(cb::sparse_unit_width(3000, 3000, 3000 * 10) == 4096);      // short rows: whole rows, one unit
    CHECK(cb::sparse_unit_width(10, 20, 0) == 32);
    CHECK(cb::sparse_unit_width(10, 33, 0) == 64);

    // Random CSR rows (some empty): every start is the lower bound of its unit's first column.
    constexpr std::size_t pre = 50, post = 1000;
    std::mt19937 gen(3);
    sg::detail::ConnectionStorage storage;
    storage.row_start.push_back(0);
    for (std::size_t i = 0; i < pre; ++i) {
        const double p = (i % 7 == 0) ? 0.0 : 0.02 * double(i % 5 + 1);
        for (std::uint32_t j = 0; j < post; ++j)
            if (std::uniform_real_distribution<double>(0.0, 1.0)(gen) < p) storage.columns.push_back(j);
        storage.row_start.push_back(std::uint32_t(storage.columns.size()));
    }
    const cb::SparseRowSplit split = cb::split_sparse_rows(storage, pre, post);
    CHECK(split.unit_width == cb::sparse_unit_width(pre, post, storage.columns.size()));
    REQUIRE(split.units == (post + split.unit_width - 1) / split.unit_width);
    REQUIRE(split.units > 1);
    REQUIRE(split.starts.size() == pre * (split.units + 1));
    for (std::size_t i = 0; i < pre; ++i)
        for (std::size_t u = 0; u <= split.units; ++u) {
            const auto row_begin = storage.columns.begin() + storage.row_start[i];
            const auto row_end = storage.columns.begin() + storage.row_start[i + 1];
            const std::size_t expected =
                u == split.units ? storage.row_start[i + 1]
                                 : std::size_t(std::lower_bound(row_begin, row_end, std::uint32_t(u * split.unit_width)) -
                                               storage.columns.begin());
            INFO("row " << i << ", unit " << u);
            CHECK(split.starts[i * (split.units + 1) + u] == expected);
        }
}

TEST_CASE("cuda equals cpu with sparse rows shared among many warps", "[cuda]") {
    const sg::SpikeDataset data = make_spike_data(100, 20, 120);
    const Outcome cpu = simulate<sg::cpu, "output", "wide">(split_net, data, 20, 4);
    REQUIRE(count_spikes(cpu.hidden_ids) > 200);
    check_same(simulate<sg::cuda, "output", "wide">(split_net, data, 20, 4), cpu);
    // Any width gives the same result: one target per thread, and whole rows.
    for (std::size_t width : {std::size_t{32}, std::size_t{4096}}) {
        INFO("cuda_sparse_unit_width " << width);
        check_same(simulate<sg::cuda, "output", "wide">(split_net, data, 20, 4, width), cpu);
    }
    CHECK_THROWS_WITH(compiler(20, 4, 48).compile<sg::cuda>(split_net),
                      Catch::Contains("cuda_sparse_unit_width must be 0 (chosen per connection) or a power of two >= 32, got 48"));
}

TEST_CASE("cuda equals cpu on every model and readout over 600 steps", "[cuda]") {
    const sg::SpikeDataset data = make_spike_data(kZooInputs, 600, 2000, true);
    const Outcome cpu_adaptive = simulate<sg::cpu, "adaptive", "adaptive">(zoo_net, data, 600, 4);
    REQUIRE(count_spikes(cpu_adaptive.hidden_ids) > 100);
    check_same(simulate<sg::cuda, "adaptive", "adaptive">(zoo_net, data, 600, 4), cpu_adaptive);

    const Outcome cpu_absolute = simulate<sg::cpu, "absolute", "absolute">(zoo_net, data, 600, 4);
    REQUIRE(count_spikes(cpu_absolute.hidden_ids) > 100);
    check_same(simulate<sg::cuda, "absolute", "absolute">(zoo_net, data, 600, 4), cpu_absolute);

    const Outcome cpu_mirror = simulate<sg::cpu, "mirror", "mirror">(zoo_net, data, 600, 4);
    REQUIRE(count_spikes(cpu_mirror.hidden_ids) > 100);
    check_same(simulate<sg::cuda, "mirror", "mirror">(zoo_net, data, 600, 4), cpu_mirror);

    check_same(simulate<sg::cuda, "sum", "mirror">(zoo_net, data, 600, 4),
               simulate<sg::cpu, "sum", "mirror">(zoo_net, data, 600, 4));
    check_same(simulate<sg::cuda, "last", "mirror">(zoo_net, data, 600, 4),
               simulate<sg::cpu, "last", "mirror">(zoo_net, data, 600, 4));
    check_same(simulate<sg::cuda, "exp", "mirror">(zoo_net, data, 600, 4),
               simulate<sg::cpu, "exp", "mirror">(zoo_net, data, 600, 4), 1e-5f);
}

TEST_CASE("cuda: set_weights reaches the device", "[cuda]") {
    const sg::SpikeDataset data = make_spike_data(100, 25, 150);
    auto gpu = compiler(25, 4).compile<sg::cuda>(spike_net);
    auto cpu = compiler(25, 4).compile<sg::cpu>(spike_net);
    REQUIRE(gpu.weights<"input_big">() == cpu.weights<"input_big">());
    std::vector<float> doubled = cpu.weights<"input_big">();
    for (float& w : doubled) w = 2.0f * w + 0.001f;
    gpu.set_weights<"input_big">(doubled);
    cpu.set_weights<"input_big">(doubled);
    CHECK(gpu.predict(data).values == cpu.predict(data).values);
    const sg::Metrics gpu_metrics = gpu.evaluate(data);
    const sg::Metrics cpu_metrics = cpu.evaluate(data);
    CHECK(gpu_metrics.at("sparse_categorical_accuracy") == cpu_metrics.at("sparse_categorical_accuracy"));
}

TEST_CASE("cuda: per-neuron biases reach the device, as on the cpu", "[cuda]") {
    const sg::SpikeDataset data = make_spike_data(100, 25, 150);
    auto gpu = compiler(25, 4).compile<sg::cuda>(spike_net);
    auto cpu = compiler(25, 4).compile<sg::cpu>(spike_net);
    const std::vector<float> before = cpu.predict(data).values;
    std::vector<float> biases = cpu.biases<"output">();
    for (std::size_t k = 0; k < biases.size(); ++k) biases[k] += 0.01f * float(k + 1);
    gpu.set_biases<"output">(biases);
    cpu.set_biases<"output">(biases);
    CHECK(gpu.biases<"output">() == biases);
    const std::vector<float> after = cpu.predict(data).values;
    CHECK(gpu.predict(data).values == after);
    CHECK(after != before);
    CHECK_THROWS_WITH(gpu.set_biases<"output">(std::vector<float>(biases.size() + 1, 0.0f)),
                      Catch::Contains("expected " + std::to_string(biases.size()) + " values (one per neuron)"));
    CHECK(gpu.biases<"output">() == biases);  // a refused set changes nothing
}
