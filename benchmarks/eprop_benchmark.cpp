// e-prop training throughput of the CPU backend on issue 5's reference net:
//   700 SpikeInput -> 256 ALIF (recurrent) -> 20 LI (SumVar), Delta synapses,
// fed 10 Hz Poisson spike trains, batch 32, T = 100 steps of 1 ms.
// A training step is forward + e-prop learning (eligibility sums and the
// learning signal) + Adam update; the figure is training examples per second:
// the median over the timed passes of trials (a model fresh from the same
// initial weights, one warm-up pass over the examples, --repeats timed
// passes) repeated for --seconds (default 3) before the peers run and again
// after them, as event_prop_benchmark.cpp does. "trials" gives their count.
//
// Prints one JSON line per --timesteps value with samples/s, forward synaptic
// events/s (over the timed passes), the hidden firing rate (over the timed passes, and at
// the initial weights), the process's peak resident memory and the
// ratio against mlGeNN's CPU e-prop figure quoted by issue 5 (17.6 samples/s at
// T = 100, batch 1, flush-to-zero on, this machine kind). That reference is a
// quoted number, not measured in this run, and is labelled so; it is only
// given for T = 100. The simulator flushes denormals to zero itself.
// Each --peer NAME=CMD runs BPTT on the same net and the same spike trains
// after spikegraph's measurement (see event_prop_benchmark.cpp and
// benchmarks/peers/README.md); --memory-bandwidth-gbs adds the roofline fields.
//
//   eprop_benchmark [--timesteps 100] [--batch 32] [--examples 256] [--threads 0] [--repeats 3] [--seconds 3]
//                   [--peer NAME=CMD]... [--inputs-dir DIR] [--memory-bandwidth-gbs B]

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <numeric>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <spikegraph/spikegraph.hpp>

#include "benchmark_support.hpp"

namespace sg = spikegraph;

namespace {

constexpr std::size_t num_inputs = 700;
constexpr std::size_t num_hidden = 256;
constexpr std::size_t num_outputs = 20;
constexpr double input_rate_hz = 10.0;
constexpr float dt = 1.0f;
constexpr float learning_rate = 1e-3f;

// mlGeNN's SHD e-prop network: ALIF(v_thresh 0.6, tau_refrac 5 ms), weights
// Normal(0, 1/sqrt(fan-in)). From 10 Hz input these give a hidden rate of
// 10-30 Hz (printed), about where e-prop's regulariser keeps a trained network.
constexpr sg::AdaptiveLeakyIntegrateFire alif{.v_thresh = 0.6f, .tau_refrac = 5.0f};
constexpr sg::LeakyIntegrate readout_neuron{.tau_mem = 20.0f};
constexpr float input_weight_sd = 0.0378f, recurrent_weight_sd = 0.0625f, output_weight_sd = 0.0625f;
constexpr auto input = sg::population<"input", num_inputs>(sg::SpikeInput{});
constexpr auto hidden = sg::population<"hidden", num_hidden>(alif);
constexpr auto output = sg::population<"output", num_outputs>(readout_neuron, sg::SumVar{});
constexpr auto net = sg::network(input >> sg::Dense{sg::Normal{0.0f, input_weight_sd}} >> sg::Delta{} >> hidden,
                                 hidden >> sg::Dense{sg::Normal{0.0f, recurrent_weight_sd}} >> sg::Delta{} >> hidden,
                                 hidden >> sg::Dense{sg::Normal{0.0f, output_weight_sd}} >> sg::Delta{} >> output);
constexpr std::size_t hidden_index = std::size_t(decltype(net)::population_index("hidden"));

constexpr double mlgenn_quoted_samples_per_s = 17.6;  // issue 5: T = 100, batch 1
constexpr int mlgenn_quoted_timesteps = 100;

// The net as the peers build it (benchmarks/peers/peer_support.py, network()).
std::string network_json() {
    using benchmark_support::JsonLine;
    auto normal = [](float sd) { return JsonLine{}.add("mean", 0.0).add("sd", sd).str(); };
    return JsonLine{}
        .add("num_hidden", num_hidden)
        .add("num_outputs", num_outputs)
        .add("recurrent", true)
        .add_raw("hidden", JsonLine{}
                               .add("model", "alif")
                               .add("tau_mem_ms", alif.tau_mem)
                               .add("v_thresh", alif.v_thresh)
                               .add("tau_refrac_ms", alif.tau_refrac)
                               .add("beta", alif.beta)
                               .add("tau_adapt_ms", alif.tau_adapt)
                               .str())
        .add_raw("output", JsonLine{}.add("model", "li").add("tau_mem_ms", readout_neuron.tau_mem).str())
        .add_raw("synapse", JsonLine{}.add("model", "delta").str())
        .add("readout", "sum_var")
        .add("peer_loss", "cross_entropy")
        .add_raw("weights", JsonLine{}
                                .add_raw("input_hidden", normal(input_weight_sd))
                                .add_raw("hidden_hidden", normal(recurrent_weight_sd))
                                .add_raw("hidden_output", normal(output_weight_sd))
                                .str())
        .str();
}

struct Options {
    std::vector<int> timesteps{100};
    std::size_t batch = 32;
    std::size_t examples = 256;
    unsigned threads = 0;
    unsigned repeats = 3;
    double seconds = 3.0;  // trials repeat until this much time has passed
    benchmark_support::CommonOptions common;
};

struct Figures {
    double samples_per_s = 0, synaptic_events_per_s = 0, hidden_rate_hz = 0, initial_hidden_rate_hz = 0;
    double events_per_pass = 0;
    unsigned trials = 0;
};

// One trial; appends the seconds of its timed passes. Its figures but the
// speed: the counts over its timed passes.
Figures trial(const sg::SpikeDataset& data, int timesteps, const Options& options, std::vector<double>& seconds) {
    auto model = sg::EPropCompiler{.example_timesteps = timesteps,
                                   .loss = sg::SparseCategoricalCrossentropy{},
                                   .optimiser = sg::Adam{.lr = learning_rate},
                                   .batch_size = options.batch,
                                   .dt = dt,
                                   .seed = 1,
                                   .num_threads = options.threads,
                                   .verbose = false}
                     .compile<sg::cpu>(net);
    auto& sim = model.simulator();
    std::vector<std::size_t> order(options.examples);
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::vector<float> outputs;
    // Training moves the hidden rate, so it is reported at the initial
    // weights (the first batch, run before any update) and over the timed passes.
    std::uint64_t events = 0, initial_hidden_spikes = 0, hidden_spikes = 0;
    std::size_t initial_lanes = 0;
    for (unsigned pass = 0; pass <= options.repeats; ++pass) {  // pass 0 warms up
        std::uint64_t pass_events = 0, pass_hidden_spikes = 0;
        const auto start = std::chrono::steady_clock::now();
        for (std::size_t first = 0; first < options.examples; first += options.batch) {
            const std::size_t lanes = std::min(options.batch, options.examples - first);
            const auto indices = std::span<const std::size_t>(order).subspan(first, lanes);
            sim.set_input<0>(sg::make_input_batch(data, indices));
            sim.run();
            pass_events += sim.synaptic_events();
            for (auto n : sim.spike_totals<hidden_index>()) pass_hidden_spikes += n;
            if (pass == 0 && first == 0) {
                initial_hidden_spikes = pass_hidden_spikes;
                initial_lanes = lanes;
            }
            model.train_batch(data, indices, outputs);  // e-prop learning + Adam on the run above
        }
        const double elapsed = benchmark_support::seconds_since(start);
        if (pass == 0) continue;
        seconds.push_back(elapsed);
        events += pass_events;
        hidden_spikes += pass_hidden_spikes;
    }
    const double neuron_seconds = double(options.examples * num_hidden) * double(timesteps) * dt * 1e-3;
    Figures f;
    f.events_per_pass = double(events) / double(options.repeats);
    f.hidden_rate_hz = double(hidden_spikes) / (neuron_seconds * double(options.repeats));
    f.initial_hidden_rate_hz = double(initial_hidden_spikes) / (double(initial_lanes * num_hidden) * timesteps * dt * 1e-3);
    return f;
}

}  // namespace

int main(int argc, char** argv) try {
    Options options;
    const std::optional<int> status = benchmark_support::parse_arguments(
        argc, argv, std::string("[--timesteps 100[,T2...]] [--batch 32] [--examples 256] [--threads 0 (all)] [--repeats 3] [--seconds 3] ") +
            benchmark_support::CommonOptions::usage, [&](std::string_view arg, auto& value) {
            if (options.common.parse(arg, value)) return true;
            if (arg == "--timesteps") options.timesteps = benchmark_support::parse_int_list(arg, value());
            else if (arg == "--batch") options.batch = benchmark_support::parse_count(arg, value());
            else if (arg == "--examples") options.examples = benchmark_support::parse_count(arg, value());
            else if (arg == "--threads") options.threads = unsigned(benchmark_support::parse_count(arg, value()));
            else if (arg == "--repeats") options.repeats = unsigned(benchmark_support::parse_count(arg, value()));
            else if (arg == "--seconds") options.seconds = benchmark_support::parse_number(arg, value(), true);
            else return false;
            return true;
        });
    if (status) return *status;
    if (options.batch == 0 || options.examples == 0 || options.repeats == 0)
        throw sg::InvalidArgument("--batch, --examples and --repeats must be at least 1");
    const unsigned threads = benchmark_support::resolved_threads(options.threads);

    for (int timesteps : options.timesteps) {
        constexpr std::uint64_t data_seed = 7;
        const sg::SpikeDataset data = benchmark_support::poisson_dataset(options.examples, num_inputs, num_outputs,
                                                                         timesteps, dt, input_rate_hz, data_seed);
        std::fprintf(stderr, "eprop_benchmark: T = %d, %zu examples, batch %zu, %u threads\n", timesteps,
                     options.examples, options.batch, threads);
        // Timed before and after the peers (a host whose speed drifts favours
        // neither side); the models are gone before any peer runs.
        std::vector<double> seconds;
        auto measure = [&] { return benchmark_support::repeat_trials(options.seconds, [&] { return trial(data, timesteps, options, seconds); }); };
        Figures f = measure();
        const std::vector<benchmark_support::PeerResult> peers = benchmark_support::run_peers_on(
            options.common, "eprop", "eprop_T" + std::to_string(timesteps), data, timesteps, dt, options.batch,
            input_rate_hz, data_seed, learning_rate, network_json(), threads);
        if (!peers.empty()) (void)measure();
        const double median = benchmark_support::median(seconds);
        f.samples_per_s = double(options.examples) / median;
        f.synaptic_events_per_s = f.events_per_pass / median;
        f.trials = unsigned(seconds.size() / options.repeats);

        benchmark_support::JsonLine line;
        line.add("benchmark", "eprop_train")
            .add("backend", "cpu")
            .add("net", "700-256r-20 ALIF Delta SumVar")
            .add("timesteps", timesteps)
            .add("batch", options.batch)
            .add("threads", threads)
            .add("examples", options.examples)
            .add("repeats", options.repeats)
            .add("trials", f.trials)
            .add("samples_per_s", f.samples_per_s, 5)
            .add("synaptic_events_per_s", f.synaptic_events_per_s, 4)
            .add("forward_synaptic_events_per_s", f.synaptic_events_per_s, 4)
            .add("hidden_rate_hz", f.hidden_rate_hz, 3)
            .add("initial_hidden_rate_hz", f.initial_hidden_rate_hz, 3)
            .add("peak_memory_mib", benchmark_support::peak_resident_mib(), 5)
            .add("peak_rss_mib", benchmark_support::peak_resident_mib(), 5)
            .add("weights_mib", double((num_inputs + num_hidden + num_outputs) * num_hidden * sizeof(float)) / (1 << 20), 4);
        benchmark_support::add_roofline(line, f.synaptic_events_per_s, options.common.memory_bandwidth_gb_s);
        if (timesteps == mlgenn_quoted_timesteps)
            line.add("mlgenn_cpu_quoted_samples_per_s", mlgenn_quoted_samples_per_s, 4)
                .add("mlgenn_quoted_note", "issue 5, batch 1, flush-to-zero, not measured here")
                .add("ratio_vs_mlgenn_quoted", f.samples_per_s / mlgenn_quoted_samples_per_s, 3);
        benchmark_support::print_with_peers(line, peers, f.samples_per_s);
    }
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "eprop_benchmark: %s\n", e.what());
    return 1;
}
