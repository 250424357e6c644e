// EventProp training throughput of the CPU backend on the reference net:
//   700 SpikeInput -> 256 LIF -> 20 LI (AvgVarExpWeight), Exponential 5 ms synapses,
// fed 10 Hz Poisson spike trains, batch 32, T = 100 and 1000 steps of 1 ms.
// A training step is forward + backward + Adam update; the figure is training
// examples per second (median over --repeats passes over the examples, after
// one warm-up pass, in as many trials from the initial weights as fill
// --seconds).
//
// Prints one JSON line per configuration (and peer) with samples/s, synaptic
// events/s (forward spike x synapse additions over the whole step's time), the
// spikes EventProp stored, the process's peak resident memory, and the ratio
// against mlGeNN's optimised CPU figure quoted by issue 4 (measured on this
// machine kind at batch 1: 528 samples/s at T = 100, 119 at T = 1000); that
// reference is a quoted number, not measured in this run, and is labelled so.
// Each --peer NAME=CMD (e.g. "snntorch=python3 benchmarks/peers/snntorch_peer.py")
// is run on the same spike trains (written for it to --inputs-dir or a temp
// directory) between two halves of spikegraph's measurement (--seconds each),
// and its line carries the peer's samples/s and ratio_vs_peer.
// --memory-bandwidth-gbs adds the roofline fields.
//
//   event_prop_benchmark [--timesteps 100,1000] [--batch 32] [--examples N] [--threads 0]
//                        [--repeats 3] [--seconds 3] [--peer NAME=CMD]... [--inputs-dir DIR] [--memory-bandwidth-gbs B]

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
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
constexpr float tau_mem = 20.0f, tau_syn = 5.0f;
constexpr float learning_rate = 1e-3f;

// Initial weights, Normal(mean, sd), that drive the hidden layer to about
// 10 Hz from 10 Hz input (hidden_rate_hz is printed). The peers draw theirs
// from the same distributions (network_json).
constexpr float input_weight_mean = 0.001f, input_weight_sd = 0.006f;
constexpr float output_weight_mean = 0.0f, output_weight_sd = 0.03f;

constexpr auto input = sg::population<"input", num_inputs>(sg::SpikeInput{});
constexpr auto hidden = sg::population<"hidden", num_hidden>(sg::LeakyIntegrateFire{.tau_mem = tau_mem});
constexpr auto output = sg::population<"output", num_outputs>(sg::LeakyIntegrate{.tau_mem = tau_mem}, sg::AvgVarExpWeight{});
constexpr auto net = sg::network(
    input >> sg::Dense{sg::Normal{input_weight_mean, input_weight_sd}} >> sg::Exponential{tau_syn} >> hidden,
    hidden >> sg::Dense{sg::Normal{output_weight_mean, output_weight_sd}} >> sg::Exponential{tau_syn} >> output);

// The net as the peers build it (benchmarks/peers/peer_support.py, network()).
std::string network_json() {
    using benchmark_support::JsonLine;
    JsonLine weights;
    weights.add_raw("input_hidden", JsonLine{}.add("mean", input_weight_mean).add("sd", input_weight_sd).str())
        .add_raw("hidden_output", JsonLine{}.add("mean", output_weight_mean).add("sd", output_weight_sd).str());
    return JsonLine{}
        .add("num_hidden", num_hidden)
        .add("num_outputs", num_outputs)
        .add("recurrent", false)
        .add_raw("hidden", JsonLine{}.add("model", "lif").add("tau_mem_ms", tau_mem).add("v_thresh", 1.0).str())
        .add_raw("output", JsonLine{}.add("model", "li").add("tau_mem_ms", tau_mem).str())
        .add_raw("synapse", JsonLine{}.add("model", "exponential").add("tau_ms", tau_syn).str())
        .add("readout", "avg_var_exp_weight")
        .add("peer_loss", "cross_entropy")
        .add_raw("weights", weights.str())
        .str();
}

struct Options {
    std::vector<int> timesteps{100, 1000};
    std::size_t batch = 32;
    std::size_t examples = 0;  // 0: 256 at T = 100, 64 at T = 1000
    unsigned threads = 0;
    unsigned repeats = 3;
    double seconds = 3.0;  // trials repeat until this much time has passed
    benchmark_support::CommonOptions common;
};

double quoted_mlgenn_samples_per_second(int timesteps) {
    return timesteps == 100 ? 528.0 : timesteps == 1000 ? 119.0 : 0.0;
}

sg::EventPropCompiler make_compiler(int timesteps, const Options& options) {
    sg::EventPropCompiler compiler;
    compiler.example_timesteps = timesteps;
    compiler.batch_size = options.batch;
    compiler.dt = dt;
    compiler.seed = 1;
    compiler.num_threads = options.threads;
    compiler.optimiser = sg::Adam{.lr = learning_rate};
    compiler.verbose = false;
    return compiler;
}

struct Figures {
    double samples_per_s = 0, synaptic_events_per_s = 0, hidden_rate_hz = 0, initial_hidden_rate_hz = 0;
    std::uint64_t stored_spikes = 0, synaptic_events = 0;
    unsigned trials = 0;
};

// One trial: a model fresh from the same initial weights, a warm-up pass
// over the examples and options.repeats timed passes, each a training step
// per batch; appends the passes' seconds. Every trial does the same work, bit
// for bit, so the figures are those of any one trial.
Figures trial(const sg::SpikeDataset& data, int timesteps, const Options& options, std::vector<double>& seconds) {
    const std::size_t examples = data.size();
    auto model = make_compiler(timesteps, options).compile<sg::cpu>(net);
    auto& sim = model.simulator();
    std::uint64_t events = 0, stored = 0, hidden_spikes = 0, initial_hidden_spikes = 0;
    std::size_t initial_lanes = 0;
    std::vector<std::size_t> order(examples);
    for (std::size_t i = 0; i < examples; ++i) order[i] = i;
    std::vector<float> outputs;
    for (unsigned repeat = 0; repeat < options.repeats + 1; ++repeat) {  // the first pass warms up
        events = stored = hidden_spikes = 0;
        const auto start = std::chrono::steady_clock::now();
        for (std::size_t first = 0; first < examples; first += options.batch) {
            const std::size_t lanes = std::min(options.batch, examples - first);
            const std::span<const std::size_t> indices = std::span<const std::size_t>(order).subspan(first, lanes);
            model.train_on_batch(data, indices, outputs);  // forward, backward and Adam; the figures below are its run's
            events += sim.synaptic_events();
            stored = std::max<std::uint64_t>(stored, sim.stored_spikes());
            for (auto n : sim.spike_totals<1>()) hidden_spikes += n;
            if (repeat == 0 && first == 0) {  // the first batch runs at the initial weights
                initial_hidden_spikes = hidden_spikes;
                initial_lanes = lanes;
            }
        }
        const double elapsed = benchmark_support::seconds_since(start);
        if (repeat > 0) seconds.push_back(elapsed);
    }
    // The counts are those of the last pass; the passes differ only by the weights' training.
    Figures f;
    f.synaptic_events = events;
    f.hidden_rate_hz = double(hidden_spikes) / double(examples * num_hidden) / (timesteps * dt * 1e-3);
    f.initial_hidden_rate_hz = double(initial_hidden_spikes) / double(initial_lanes * num_hidden) / (timesteps * dt * 1e-3);
    f.stored_spikes = stored;
    return f;
}

// Trials until options.seconds have passed (at least one), their timed
// passes appended to seconds: a pass at T = 100 takes tens of milliseconds,
// where a busy host's hiccups move a median of three passes by a third.
Figures measure(const sg::SpikeDataset& data, int timesteps, const Options& options, std::vector<double>& seconds) {
    return benchmark_support::repeat_trials(options.seconds, [&] { return trial(data, timesteps, options, seconds); });
}

// The figure: the median over all timed passes (the peers report the median
// over about ten seconds of steps).
void set_speed(Figures& f, const std::vector<double>& seconds, std::size_t examples, unsigned repeats) {
    f.trials = unsigned(seconds.size() / repeats);
    const double median = benchmark_support::median(seconds);
    f.samples_per_s = double(examples) / median;
    f.synaptic_events_per_s = double(f.synaptic_events) / median;
}

}  // namespace

int main(int argc, char** argv) try {
    Options options;
    const std::optional<int> status = benchmark_support::parse_arguments(
        argc, argv, std::string("[--timesteps 100,1000] [--batch 32] [--examples N] [--threads 0] [--repeats 3] [--seconds 3] ") +
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
    if (options.batch == 0 || options.repeats == 0) throw sg::InvalidArgument("--batch and --repeats must be at least 1");
    const unsigned threads = benchmark_support::resolved_threads(options.threads);

    for (int timesteps : options.timesteps) {
        const std::size_t examples = options.examples ? options.examples : (timesteps <= 100 ? 256 : 64);
        constexpr std::uint64_t data_seed = 7;
        const sg::SpikeDataset data =
            benchmark_support::poisson_dataset(examples, num_inputs, num_outputs, timesteps, dt, input_rate_hz, data_seed);
        std::fprintf(stderr, "event_prop_benchmark: T = %d, %zu examples, batch %zu, %u threads\n", timesteps, examples,
                     options.batch, threads);
        // spikegraph is timed before and after the peers, so that a host
        // whose speed drifts over the minutes of a run cannot favour either
        // side; the models are gone before any peer runs.
        std::vector<double> seconds;
        Figures f = measure(data, timesteps, options, seconds);
        const std::vector<benchmark_support::PeerResult> peers = benchmark_support::run_peers_on(
            options.common, "event_prop", "event_prop_T" + std::to_string(timesteps), data, timesteps, dt, options.batch,
            input_rate_hz, data_seed, learning_rate, network_json(), threads);
        if (!options.common.peers.empty()) measure(data, timesteps, options, seconds);
        set_speed(f, seconds, examples, options.repeats);

        benchmark_support::JsonLine line;
        line.add("benchmark", "event_prop_train")
            .add("backend", "cpu")
            .add("net", "700-256-20")
            .add("timesteps", timesteps)
            .add("batch", options.batch)
            .add("threads", threads)
            .add("examples", examples)
            .add("repeats", options.repeats)
            .add("trials", f.trials)
            .add("samples_per_s", f.samples_per_s, 5)
            .add("synaptic_events_per_s", f.synaptic_events_per_s, 4)
            .add("forward_synaptic_events_per_s", f.synaptic_events_per_s, 4)
            .add("hidden_rate_hz", f.hidden_rate_hz, 3)
            .add("initial_hidden_rate_hz", f.initial_hidden_rate_hz, 3)
            .add("stored_spikes_per_batch", f.stored_spikes)
            .add("stored_spike_bytes_per_batch", f.stored_spikes * 16)
            .add("peak_memory_mib", benchmark_support::peak_resident_mib(), 5)
            .add("peak_rss_mib", benchmark_support::peak_resident_mib(), 5)
            .add("weights_mib", double((num_inputs + num_outputs) * num_hidden * sizeof(float)) / (1 << 20), 4);
        benchmark_support::add_roofline(line, f.synaptic_events_per_s, options.common.memory_bandwidth_gb_s);
        if (const double mlgenn = quoted_mlgenn_samples_per_second(timesteps); mlgenn > 0.0)
            line.add("mlgenn_cpu_quoted_samples_per_s", mlgenn, 4)
                .add("mlgenn_quoted_note", "issue 4, batch 1, not measured here")
                .add("ratio_vs_mlgenn_quoted", f.samples_per_s / mlgenn, 3);
        benchmark_support::print_with_peers(line, peers, f.samples_per_s);
    }
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "event_prop_benchmark: %s\n", e.what());
    return 1;
}
