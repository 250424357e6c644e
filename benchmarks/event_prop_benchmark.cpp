// EventProp training throughput of the CPU backend on the reference net:
//   700 SpikeInput -> 256 LIF -> 20 LI (AvgVarExpWeight), Exponential 5 ms synapses,
// fed 10 Hz Poisson spike trains, batch 32, T = 100 and 1000 steps of 1 ms.
// A training step is forward + backward + Adam update; the figure is training
// examples per second (median over --repeats passes over the examples).
//
// Prints one JSON line per configuration with samples/s, synaptic events/s,
// the spikes EventProp stored, the process's peak resident memory, and the
// ratio against mlGeNN's optimised CPU figure quoted by issue 4 (measured on
// this machine kind at batch 1: 528 samples/s at T = 100, 119 at T = 1000);
// that reference is a quoted number, not measured in this run, and is labelled so.
// With --peer CMD, each line also carries the samples/s that CMD prints as its
// last line for "--timesteps T --batch B" (e.g. benchmarks/peers/snntorch_bptt.py),
// measured in this same run, and the ratio.
//
//   event_prop_benchmark [--timesteps 100,1000] [--batch 32] [--examples N] [--threads 0]
//                        [--repeats 3] [--peer "python3 benchmarks/peers/snntorch_bptt.py"]

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <random>
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
constexpr double input_rate_per_ms = 0.01;  // 10 Hz
constexpr float dt = 1.0f;

// Weights that drive the hidden layer to a few tens of Hz from 10 Hz input
// (hidden_rate_hz is printed).
constexpr auto input = sg::population<"input", num_inputs>(sg::SpikeInput{});
constexpr auto hidden = sg::population<"hidden", num_hidden>(sg::LeakyIntegrateFire{.tau_mem = 20.0f});
constexpr auto output = sg::population<"output", num_outputs>(sg::LeakyIntegrate{.tau_mem = 20.0f}, sg::AvgVarExpWeight{});
constexpr auto net = sg::network(input >> sg::Dense{sg::Normal{0.001f, 0.006f}} >> sg::Exponential{5.0f} >> hidden,
                                 hidden >> sg::Dense{sg::Normal{0.0f, 0.03f}} >> sg::Exponential{5.0f} >> output);

struct Options {
    std::vector<int> timesteps{100, 1000};
    std::size_t batch = 32;
    std::size_t examples = 0;  // 0: 256 at T = 100, 64 at T = 1000
    unsigned threads = 0;
    unsigned repeats = 3;
    std::string peer;
};

double quoted_mlgenn_samples_per_second(int timesteps) {
    return timesteps == 100 ? 528.0 : timesteps == 1000 ? 119.0 : 0.0;
}

// Runs the peer command and returns the number on its last output line (0 on failure).
double run_peer(const std::string& command, int timesteps, std::size_t batch) {
    const std::string line = command + " --timesteps " + std::to_string(timesteps) + " --batch " + std::to_string(batch);
    FILE* pipe = popen(line.c_str(), "r");
    if (!pipe) return 0.0;
    char buffer[512];
    std::string last;
    while (std::fgets(buffer, sizeof buffer, pipe)) last = buffer;
    const int status = pclose(pipe);
    if (status != 0) {
        std::fprintf(stderr, "event_prop_benchmark: peer '%s' failed (status %d)\n", line.c_str(), status);
        return 0.0;
    }
    return std::strtod(last.c_str(), nullptr);
}

sg::EventPropCompiler make_compiler(int timesteps, const Options& options) {
    sg::EventPropCompiler compiler;
    compiler.example_timesteps = timesteps;
    compiler.batch_size = options.batch;
    compiler.dt = dt;
    compiler.seed = 1;
    compiler.num_threads = options.threads;
    compiler.optimiser = sg::Adam{.lr = 1e-3f};
    compiler.verbose = false;
    return compiler;
}

}  // namespace

int main(int argc, char** argv) try {
    Options options;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        auto value = [&]() -> const char* {
            if (i + 1 >= argc) throw sg::InvalidArgument(std::string(arg) + " needs a value");
            return argv[++i];
        };
        if (arg == "--timesteps") options.timesteps = benchmark_support::parse_int_list(arg, value());
        else if (arg == "--batch") options.batch = benchmark_support::parse_count(arg, value());
        else if (arg == "--examples") options.examples = benchmark_support::parse_count(arg, value());
        else if (arg == "--threads") options.threads = unsigned(benchmark_support::parse_count(arg, value()));
        else if (arg == "--repeats") options.repeats = unsigned(benchmark_support::parse_count(arg, value()));
        else if (arg == "--peer") options.peer = value();
        else {
            std::fprintf(stderr,
                         "usage: %s [--timesteps 100,1000] [--batch 32] [--examples N] [--threads 0] [--repeats 3] "
                         "[--peer CMD]\n",
                         argv[0]);
            return arg == "--help" ? 0 : 2;
        }
    }

    for (int timesteps : options.timesteps) {
        const std::size_t examples = options.examples ? options.examples : (timesteps <= 100 ? 256 : 64);
        const sg::SpikeDataset data = benchmark_support::poisson_dataset(examples, num_inputs, num_outputs, timesteps, dt, 1000.0 * input_rate_per_ms, 7);
        auto model = make_compiler(timesteps, options).compile<sg::cpu>(net);
        auto& sim = model.simulator();
        std::vector<double> seconds;
        std::uint64_t events = 0, stored = 0, hidden_spikes = 0;
        std::vector<std::size_t> order(examples);
        for (std::size_t i = 0; i < examples; ++i) order[i] = i;
        std::vector<float> outputs;
        for (unsigned repeat = 0; repeat < options.repeats + 1; ++repeat) {  // the first pass warms up
            events = stored = hidden_spikes = 0;
            const auto start = std::chrono::steady_clock::now();
            for (std::size_t first = 0; first < examples; first += options.batch) {
                const std::size_t lanes = std::min(options.batch, examples - first);
                const std::span<const std::size_t> indices = std::span<const std::size_t>(order).subspan(first, lanes);
                sim.set_input<0>(sg::make_input_batch(data, indices));
                sim.run();
                events += sim.synaptic_events();
                stored = std::max<std::uint64_t>(stored, sim.stored_spikes());
                for (auto n : sim.spike_totals<1>()) hidden_spikes += n;
                model.train_batch(data, indices, outputs);
            }
            const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            if (repeat > 0) seconds.push_back(elapsed);
        }
        std::sort(seconds.begin(), seconds.end());
        const double median = seconds[seconds.size() / 2];
        const double samples_per_second = double(examples) / median;
        const double hidden_rate = double(hidden_spikes) / double(examples * num_hidden) / (timesteps * dt * 1e-3);
        const double mlgenn = quoted_mlgenn_samples_per_second(timesteps);
        std::printf("{\"benchmark\": \"event_prop_train\", \"net\": \"700-256-20\", \"timesteps\": %d, \"batch\": %zu, "
                    "\"threads\": %u, \"examples\": %zu, \"samples_per_s\": %.1f, \"forward_synaptic_events_per_s\": %.3g, "
                    "\"hidden_rate_hz\": %.1f, \"stored_spikes_per_batch\": %llu, \"stored_spike_bytes_per_batch\": %llu, "
                    "\"peak_rss_mib\": %.1f",
                    timesteps, options.batch, options.threads, examples, samples_per_second, double(events) / median,
                    hidden_rate, static_cast<unsigned long long>(stored), static_cast<unsigned long long>(stored * 16),
                    benchmark_support::peak_resident_mib());
        if (mlgenn > 0.0)
            std::printf(", \"mlgenn_cpu_quoted_samples_per_s\": %.0f, \"ratio_vs_mlgenn_quoted\": %.2f", mlgenn,
                        samples_per_second / mlgenn);
        if (!options.peer.empty()) {
            const double peer = run_peer(options.peer, timesteps, options.batch);
            std::printf(", \"peer\": \"%s\", \"peer_samples_per_s\": %.2f, \"ratio_vs_peer\": %.1f", options.peer.c_str(),
                        peer, peer > 0.0 ? samples_per_second / peer : 0.0);
        }
        std::printf("}\n");
        std::fflush(stdout);
    }
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "event_prop_benchmark: %s\n", e.what());
    return 1;
}
