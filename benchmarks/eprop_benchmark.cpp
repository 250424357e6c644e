// e-prop training throughput of the CPU backend on issue 5's reference net:
//   700 SpikeInput -> 256 ALIF (recurrent) -> 20 LI (SumVar), Delta synapses,
// fed 10 Hz Poisson spike trains, batch 32, T = 100 steps of 1 ms.
// A training step is forward + e-prop learning (eligibility sums and the
// learning signal) + Adam update; the figure is training examples per second
// (median over --repeats passes over the examples, after one warm-up pass).
//
// Prints one JSON line per --timesteps value with samples/s, forward synaptic
// events/s (over the timed passes), the hidden firing rate (over the timed passes, and at
// the initial weights), the process's peak resident memory and the
// ratio against mlGeNN's CPU e-prop figure quoted by issue 5 (17.6 samples/s at
// T = 100, batch 1, flush-to-zero on, this machine kind). That reference is a
// quoted number, not measured in this run, and is labelled so; it is only
// given for T = 100. The simulator flushes denormals to zero itself.
//
//   eprop_benchmark [--timesteps 100] [--batch 32] [--examples 256] [--threads 0] [--repeats 3]

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <numeric>
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
constexpr double input_rate_hz = 10.0;
constexpr float dt = 1.0f;

// mlGeNN's SHD e-prop network: ALIF(v_thresh 0.6, tau_refrac 5 ms), weights
// Normal(0, 1/sqrt(fan-in)). From 10 Hz input these give a hidden rate of
// 10-30 Hz (printed), about where e-prop's regulariser keeps a trained network.
constexpr sg::AdaptiveLeakyIntegrateFire alif{.v_thresh = 0.6f, .tau_refrac = 5.0f};
constexpr auto input = sg::population<"input", num_inputs>(sg::SpikeInput{});
constexpr auto hidden = sg::population<"hidden", num_hidden>(alif);
constexpr auto output = sg::population<"output", num_outputs>(sg::LeakyIntegrate{.tau_mem = 20.0f}, sg::SumVar{});
constexpr auto net = sg::network(input >> sg::Dense{sg::Normal{0.0f, 0.0378f}} >> sg::Delta{} >> hidden,
                                 hidden >> sg::Dense{sg::Normal{0.0f, 0.0625f}} >> sg::Delta{} >> hidden,
                                 hidden >> sg::Dense{sg::Normal{0.0f, 0.0625f}} >> sg::Delta{} >> output);
constexpr std::size_t hidden_index = std::size_t(decltype(net)::population_index("hidden"));

constexpr double mlgenn_quoted_samples_per_s = 17.6;  // issue 5: T = 100, batch 1
constexpr int mlgenn_quoted_timesteps = 100;

struct Options {
    std::vector<int> timesteps{100};
    std::size_t batch = 32;
    std::size_t examples = 256;
    unsigned threads = 0;
    unsigned repeats = 3;
};

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
        else {
            std::fprintf(stderr,
                         "usage: %s [--timesteps 100[,T2...]] [--batch 32] [--examples 256] [--threads 0 (all)] "
                         "[--repeats 3]\n",
                         argv[0]);
            return arg == "--help" || arg == "-h" ? 0 : 2;
        }
    }
    if (options.batch == 0 || options.examples == 0 || options.repeats == 0)
        throw sg::InvalidArgument("--batch, --examples and --repeats must be at least 1");

    for (int timesteps : options.timesteps) {
        const sg::SpikeDataset data = benchmark_support::poisson_dataset(options.examples, num_inputs, num_outputs, timesteps, dt, input_rate_hz, 7);
        auto model = sg::EPropCompiler{.example_timesteps = timesteps,
                                       .loss = sg::SparseCategoricalCrossentropy{},
                                       .optimiser = sg::Adam{.lr = 1e-3f},
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
        std::vector<double> seconds;
        // Training moves the hidden rate, so it is reported at the initial
        // weights (the warm-up pass) and over the timed passes.
        std::uint64_t events = 0, initial_hidden_spikes = 0, hidden_spikes = 0;
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
                model.train_batch(data, indices, outputs);  // e-prop learning + Adam on the run above
            }
            const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            if (pass == 0) {
                initial_hidden_spikes = pass_hidden_spikes;
                continue;
            }
            seconds.push_back(elapsed);
            events += pass_events;
            hidden_spikes += pass_hidden_spikes;
        }
        const double timed_seconds = std::accumulate(seconds.begin(), seconds.end(), 0.0);
        std::sort(seconds.begin(), seconds.end());
        const double median = seconds[seconds.size() / 2];
        const double samples_per_s = double(options.examples) / median;
        const double neuron_seconds = double(options.examples * num_hidden) * double(timesteps) * dt * 1e-3;
        const double hidden_rate_hz = double(hidden_spikes) / (neuron_seconds * double(options.repeats));
        const double initial_hidden_rate_hz = double(initial_hidden_spikes) / neuron_seconds;
        std::printf("{\"benchmark\": \"eprop_train\", \"net\": \"700-256r-20 ALIF Delta SumVar\", \"timesteps\": %d, "
                    "\"batch\": %zu, \"threads\": %u, \"examples\": %zu, \"repeats\": %u, \"samples_per_s\": %.1f, "
                    "\"forward_synaptic_events_per_s\": %.3g, \"hidden_rate_hz\": %.1f, \"initial_hidden_rate_hz\": %.1f, "
                    "\"peak_rss_mib\": %.1f",
                    timesteps, options.batch, options.threads, options.examples, options.repeats, samples_per_s,
                    double(events) / timed_seconds, hidden_rate_hz, initial_hidden_rate_hz, benchmark_support::peak_resident_mib());
        if (timesteps == mlgenn_quoted_timesteps)
            std::printf(", \"mlgenn_cpu_quoted_samples_per_s\": %.1f, \"mlgenn_quoted_note\": \"issue 5, batch 1, "
                        "flush-to-zero, not measured here\", \"ratio_vs_mlgenn_quoted\": %.2f",
                        mlgenn_quoted_samples_per_s, samples_per_s / mlgenn_quoted_samples_per_s);
        std::printf("}\n");
        std::fflush(stdout);
    }
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "eprop_benchmark: %s\n", e.what());
    return 1;
}
