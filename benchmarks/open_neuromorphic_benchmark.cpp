// The task of Open Neuromorphic's SNN library benchmark (open-neuromorphic.org,
// "SNN library benchmarks": one Linear(n, n) + LIF layer, batch 16, 500 steps,
// n = 4096, 8192, 16384, forward + backward) on spikegraph's CPU backend:
//   n SpikeInput -> Dense -> Exponential 5 ms -> n LIF (tau_mem 20 ms), FirstSpikeTime readout,
// trained by EventProp with the time-to-first-spike cross-entropy and Adam:
// the one EventProp net that is exactly one Linear + LIF. The input is 10 Hz
// Poisson spike trains (the published benchmark feeds Gaussian noise, which
// is not spikes). The labels cycle over the n neurons.
//
// A training step is forward (run), backward (loss, EventProp adjoint, weight
// gradients) and the Adam update; each phase is timed on its own, so
// forward_s + backward_s is the published benchmark's "forward + backward".
// The figure is training examples per second (median over --repeats passes
// over the examples, after one warm-up pass unless --no-warm-up).
//
// Prints one JSON line per n (and peer). Each --peer NAME=CMD
// (benchmarks/peers/) runs Linear(n, n) + LIF forward + backward + Adam on the
// same spike trains after spikegraph's measurement; see benchmarks/peers/README.md.
// --memory-bandwidth-gbs adds the roofline fields (benchmark_support.hpp).
//
// Memory: the weights are n^2 floats (1 GiB at n = 16384), plus Adam's two
// moments and the gradient buffers (one per group of lanes, up to 8).
//
//   open_neuromorphic_benchmark [--n 4096,8192,16384] [--timesteps 500] [--batch 16] [--examples 16]
//                               [--threads 0] [--repeats 2] [--no-warm-up]
//                               [--peer NAME=CMD]... [--inputs-dir DIR] [--memory-bandwidth-gbs B]

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <numeric>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <spikegraph/spikegraph.hpp>

#include "benchmark_support.hpp"

namespace sg = spikegraph;

namespace {

constexpr double input_rate_hz = 10.0;
constexpr float dt = 1.0f;
constexpr float tau_mem = 20.0f, tau_syn = 5.0f;
// Adam moves every weight by about lr per step whatever its gradient, and the
// weights here are of order 1/sqrt(n): lr = 1e-3 would change the network,
// and with it the spikes and spikegraph's work, from one timed step to the
// next. This lr moves them by under 1 % of their spread per step.
constexpr float learning_rate = 1e-5f;
constexpr std::uint64_t data_seed = 11;

constexpr double inverse_square_root(double x) {  // Newton's method: std::sqrt is not constexpr in C++20
    double r = 1.0 / x;
    for (int i = 0; i < 200; ++i) r = r * (1.5 - 0.5 * x * r * r);
    return r;
}

// Initial weights Normal(mean_scale / n, sd_scale / sqrt(n)): the mean input
// and its fluctuations are then the same for every n, and 10 Hz input drives
// the LIF layer to the rate printed as hidden_rate_hz.
constexpr double weight_mean_scale = 0.6, weight_sd_scale = 0.25;

template <std::size_t N>
struct OpenNeuromorphicNet {
    static constexpr float weight_mean = float(weight_mean_scale / double(N));
    static constexpr float weight_sd = float(weight_sd_scale * inverse_square_root(double(N)));
    static constexpr auto input = sg::population<"input", N>(sg::SpikeInput{});
    static constexpr auto lif = sg::population<"lif", N>(sg::LeakyIntegrateFire{.tau_mem = tau_mem}, sg::FirstSpikeTime{});
    static constexpr auto net =
        sg::network(input >> sg::Dense{sg::Normal{weight_mean, weight_sd}} >> sg::Exponential{tau_syn} >> lif);
};

// The net as the peers build it (benchmarks/peers/peer_support.py, network()):
// its LIF layer is the output, and the peers' loss is the published
// benchmark's sum of the output spikes.
template <std::size_t N>
std::string network_json() {
    using benchmark_support::JsonLine;
    using Net = OpenNeuromorphicNet<N>;
    return JsonLine{}
        .add("num_hidden", N)
        .add("num_outputs", 0)
        .add("recurrent", false)
        .add_raw("hidden", JsonLine{}.add("model", "lif").add("tau_mem_ms", tau_mem).add("v_thresh", 1.0).str())
        .add_raw("synapse", JsonLine{}.add("model", "exponential").add("tau_ms", tau_syn).str())
        .add("readout", "output_spikes")
        .add("peer_loss", "sum_of_output_spikes")
        .add_raw("weights",
                 JsonLine{}
                     .add_raw("input_hidden", JsonLine{}.add("mean", Net::weight_mean, 8).add("sd", Net::weight_sd, 8).str())
                     .str())
        .str();
}

struct Options {
    std::vector<int> sizes{4096, 8192, 16384};
    int timesteps = 500;
    std::size_t batch = 16;
    std::size_t examples = 16;
    unsigned threads = 0;
    unsigned repeats = 2;
    bool warm_up = true;
    benchmark_support::CommonOptions common;
};

struct Figures {
    double samples_per_s = 0, synaptic_events_per_s = 0, hidden_rate_hz = 0, initial_hidden_rate_hz = 0;
    double forward_s = 0, backward_s = 0, update_s = 0;  // per batch, medians
    std::uint64_t stored_spikes = 0;
};

template <std::size_t N>
Figures measure(const sg::SpikeDataset& data, const Options& options) {
    using Net = OpenNeuromorphicNet<N>;
    auto model = sg::EventPropCompiler{.example_timesteps = options.timesteps,
                                       .loss = sg::SparseCategoricalCrossentropy{},
                                       .optimiser = sg::Adam{.lr = learning_rate},
                                       .batch_size = options.batch,
                                       .dt = dt,
                                       .seed = 1,
                                       .num_threads = options.threads,
                                       .verbose = false}
                     .compile<sg::cpu>(Net::net);
    auto& sim = model.simulator();
    constexpr std::size_t output_index = 1;
    std::vector<std::size_t> order(data.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::vector<float> outputs, gradient;
    std::vector<double> pass_seconds, forward, backward, update;
    std::uint64_t events = 0, spikes = 0, first_pass_spikes = 0, stored = 0;
    for (unsigned pass = options.warm_up ? 0 : 1; pass <= options.repeats; ++pass) {  // pass 0 warms up
        std::uint64_t pass_events = 0, pass_spikes = 0;
        double seconds = 0;
        for (std::size_t first = 0; first < data.size(); first += options.batch) {
            const std::size_t lanes = std::min(options.batch, data.size() - first);
            const auto indices = std::span<const std::size_t>(order).subspan(first, lanes);
            std::vector<std::int32_t> labels(lanes);
            for (std::size_t i = 0; i < lanes; ++i) labels[i] = data.labels[indices[i]];
            // The steps of model.train_batch, timed one by one.
            const auto start = std::chrono::steady_clock::now();
            sim.template set_input<0>(sg::make_input_batch(data, indices));
            sim.run();
            const double forward_seconds = benchmark_support::seconds_since(start);
            const auto backward_start = std::chrono::steady_clock::now();
            sim.zero_gradients();
            outputs.resize(lanes * N);
            gradient.resize(lanes * N);
            sim.template readout<output_index>(outputs);
            const auto& settings = model.settings();
            sg::loss_and_gradient(settings.loss, settings.loss_context, outputs, N, labels, lanes, gradient);
            sim.template backward<output_index>(gradient);
            const double backward_seconds = benchmark_support::seconds_since(backward_start);
            const auto update_start = std::chrono::steady_clock::now();
            auto& optimiser = model.optimiser_state();
            optimiser.begin_step();
            optimiser.update(0, sim.template mutable_weights<0>(), sim.template gradient<0>());
            const double update_seconds = benchmark_support::seconds_since(update_start);
            seconds += benchmark_support::seconds_since(start);

            pass_events += sim.synaptic_events();
            for (auto n : sim.template spike_totals<output_index>()) pass_spikes += n;
            stored = std::max<std::uint64_t>(stored, sim.stored_spikes());
            if (pass > 0) {
                forward.push_back(forward_seconds);
                backward.push_back(backward_seconds);
                update.push_back(update_seconds);
            }
            std::fprintf(stderr, "  pass %u, examples %zu-%zu: forward %.2f s, backward %.2f s, update %.2f s\n", pass,
                         first, first + lanes - 1, forward_seconds, backward_seconds, update_seconds);
        }
        if (pass == (options.warm_up ? 0u : 1u)) first_pass_spikes = pass_spikes;  // at the initial weights
        if (pass == 0) continue;
        pass_seconds.push_back(seconds);
        events += pass_events;
        spikes += pass_spikes;
    }
    const double timed_seconds = std::accumulate(pass_seconds.begin(), pass_seconds.end(), 0.0);
    Figures f;
    f.samples_per_s = double(data.size()) / benchmark_support::median(pass_seconds);
    f.synaptic_events_per_s = double(events) / timed_seconds;
    const double neuron_seconds = double(data.size() * N) * options.timesteps * dt * 1e-3;
    f.hidden_rate_hz = double(spikes) / (neuron_seconds * options.repeats);
    f.initial_hidden_rate_hz = double(first_pass_spikes) / neuron_seconds;
    f.forward_s = benchmark_support::median(forward);
    f.backward_s = benchmark_support::median(backward);
    f.update_s = benchmark_support::median(update);
    f.stored_spikes = stored;
    return f;
}

template <std::size_t N>
void run_size(const Options& options, unsigned threads) {
    const sg::SpikeDataset data =
        benchmark_support::poisson_dataset(options.examples, N, N, options.timesteps, dt, input_rate_hz, data_seed + N);
    std::fprintf(stderr, "open_neuromorphic_benchmark: n = %zu, T = %d, %zu examples, batch %zu, %u threads\n", N,
                 options.timesteps, options.examples, options.batch, threads);
    const Figures f = measure<N>(data, options);  // the model is gone before any peer runs

    benchmark_support::JsonLine line;
    line.add("benchmark", "open_neuromorphic_train")
        .add("backend", "cpu")
        .add("net", "n-n LIF FirstSpikeTime, EventProp")
        .add("n", N)
        .add("timesteps", options.timesteps)
        .add("batch", options.batch)
        .add("threads", threads)
        .add("examples", options.examples)
        .add("repeats", options.repeats)
        .add("warm_up", options.warm_up)
        .add("samples_per_s", f.samples_per_s, 5)
        .add("synaptic_events_per_s", f.synaptic_events_per_s, 4)
        .add("forward_s", f.forward_s, 4)
        .add("backward_s", f.backward_s, 4)
        .add("update_s", f.update_s, 4)
        .add("hidden_rate_hz", f.hidden_rate_hz, 3)
        .add("initial_hidden_rate_hz", f.initial_hidden_rate_hz, 3)
        .add("stored_spikes_per_batch", f.stored_spikes)
        .add("peak_memory_mib", benchmark_support::peak_resident_mib(), 5)
        .add("weights_mib", double(N * N * sizeof(float)) / (1 << 20), 4);
    benchmark_support::add_roofline(line, f.synaptic_events_per_s, options.common.memory_bandwidth_gb_s);

    const std::vector<benchmark_support::PeerResult> peers = benchmark_support::run_peers_on(
        options.common, "open_neuromorphic", "open_neuromorphic_n" + std::to_string(N), data, options.timesteps, dt,
        options.batch, input_rate_hz, data_seed + N, learning_rate, network_json<N>(), threads);
    benchmark_support::print_with_peers(line, peers, f.samples_per_s);
}

}  // namespace

int main(int argc, char** argv) try {
    Options options;
    const std::optional<int> status = benchmark_support::parse_arguments(
        argc, argv, std::string("[--n 4096,8192,16384] [--timesteps 500] [--batch 16] [--examples 16] [--threads 0] [--repeats 2] "
                        "[--no-warm-up] ") +
            benchmark_support::CommonOptions::usage, [&](std::string_view arg, auto& value) {
            if (options.common.parse(arg, value)) return true;
            if (arg == "--n") options.sizes = benchmark_support::parse_int_list(arg, value());
            else if (arg == "--timesteps") options.timesteps = int(benchmark_support::parse_count(arg, value()));
            else if (arg == "--batch") options.batch = benchmark_support::parse_count(arg, value());
            else if (arg == "--examples") options.examples = benchmark_support::parse_count(arg, value());
            else if (arg == "--threads") options.threads = unsigned(benchmark_support::parse_count(arg, value()));
            else if (arg == "--repeats") options.repeats = unsigned(benchmark_support::parse_count(arg, value()));
            else if (arg == "--no-warm-up") options.warm_up = false;
            else return false;
            return true;
        });
    if (status) return *status;
    if (options.batch == 0 || options.examples == 0 || options.repeats == 0 || options.timesteps < 1)
        throw sg::InvalidArgument("--batch, --examples, --repeats and --timesteps must be at least 1");
    const unsigned threads = benchmark_support::resolved_threads(options.threads);
    for (int n : options.sizes) {
        // Population sizes are part of the network's type: one instantiation per size offered.
        if (n == 4096) run_size<4096>(options, threads);
        else if (n == 8192) run_size<8192>(options, threads);
        else if (n == 16384) run_size<16384>(options, threads);
        else if (n == 256) run_size<256>(options, threads);  // for quick checks and the smoke test
        else throw sg::InvalidArgument("--n: sizes are 4096, 8192, 16384 (and 256 for quick checks), got " + std::to_string(n));
    }
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "open_neuromorphic_benchmark: %s\n", e.what());
    return 1;
}
