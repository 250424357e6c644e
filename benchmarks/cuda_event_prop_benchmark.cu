// EventProp training throughput of the CUDA backend (issue 4) on the issue's reference net:
//   700 SpikeInput -> 256 LIF -> 20 LI (AvgVarExpWeight), Exponential 5 ms synapses,
// fed 10 Hz Poisson spike trains (dt 1 ms), batch 32, T = 100 and 1000 steps;
// the net and its initial weights are event_prop_benchmark's.
// For each T it prints one JSON line:
//   samples_per_s                training examples / time of train() over --batches batches
//                                (forward + backward + Adam update, one epoch, no shuffling), median
//                                over --repeats calls, after a warm-up train() on the first batch (which
//                                captures the CUDA graphs and grows the spike records)
//   synaptic_events_per_s        forward spike x synapse additions over that time
//   hidden_rate_hz               the hidden layer's mean rate over the timed batches
//   stored_spikes_per_batch      the most spike records EventProp kept for one batch (16 bytes each)
//   device_bytes_used            free device memory (cudaMemGetInfo) before the model was built minus
//                                free memory after training, the model still alive: what it holds at the
//                                end (its buffers only grow, so this is their peak), CUDA graphs included;
//                                device-wide, so other processes on the GPU would disturb it
//   cpu_samples_per_s, ratio_vs_cpu   the CPU backend trained on the same data in the same run (unless
//                                --no-cpu; --cpu-threads, 0 = all), timed once after the same warm-up
// Absolute figures mean something only on a GPU; without one the program says so and exits 2.
//
//   cuda_event_prop_benchmark [--timesteps 100,1000] [--batch 32] [--batches 4] [--repeats 3]
//                             [--cpu-threads 0] [--no-cpu]

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <cuda_runtime.h>

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

constexpr auto input = sg::population<"input", num_inputs>(sg::SpikeInput{});
constexpr auto hidden = sg::population<"hidden", num_hidden>(sg::LeakyIntegrateFire{.tau_mem = tau_mem});
constexpr auto output = sg::population<"output", num_outputs>(sg::LeakyIntegrate{.tau_mem = tau_mem}, sg::AvgVarExpWeight{});
constexpr auto net = sg::network(
    input >> sg::Dense{sg::Normal{0.001f, 0.006f}} >> sg::Exponential{tau_syn} >> hidden,
    hidden >> sg::Dense{sg::Normal{0.0f, 0.03f}} >> sg::Exponential{tau_syn} >> output);

struct Options {
    std::vector<int> timesteps{100, 1000};
    std::size_t batch = 32;
    std::size_t batches = 4;
    unsigned repeats = 3;
    unsigned cpu_threads = 0;
    bool cpu = true;
};

// Built in a plain function: GCC 12 fails on the compiler's designated initialisers inside templates.
sg::EventPropCompiler make_compiler(int timesteps, const Options& o, unsigned threads) {
    return sg::EventPropCompiler{.example_timesteps = timesteps, .optimiser = sg::Adam{.lr = learning_rate},
                                 .batch_size = o.batch, .dt = dt, .seed = 1, .num_threads = threads, .verbose = false};
}

// One epoch over the data in order, from epoch 0 each time.
sg::TrainOptions one_epoch() {
    return sg::TrainOptions{.epochs = 1, .initial_epoch = 0, .shuffle = false};
}

// The first `count` examples of data.
sg::SpikeDataset head(const sg::SpikeDataset& data, std::size_t count) {
    sg::SpikeDataset part;
    part.num_inputs = data.num_inputs;
    part.num_classes = data.num_classes;
    part.examples.assign(data.examples.begin(), data.examples.begin() + std::ptrdiff_t(count));
    part.labels.assign(data.labels.begin(), data.labels.begin() + std::ptrdiff_t(count));
    return part;
}

// A training callback that adds up each batch's statistics (kept by the simulator on the host).
struct BatchStatistics {
    std::uint64_t events = 0, hidden_spikes = 0, stored = 0;
    template <class Simulator>
    void on_batch_end(std::size_t, const sg::BatchResult<Simulator>& result) {
        events += result.simulator.synaptic_events();
        for (std::uint64_t n : result.simulator.template spike_totals<1>()) hidden_spikes += n;
        stored = std::max<std::uint64_t>(stored, result.simulator.stored_spikes());
    }
};

struct Figures {
    double seconds = 0;  // median time of one train() over the timed data
    BatchStatistics statistics;
};

// Warm-up train() on the first batch, then `repeats` timed train() calls over all of data.
template <class Model>
Figures time_training(Model& model, const sg::SpikeDataset& data, std::size_t batch, unsigned repeats) {
    model.train(head(data, std::min(batch, data.size())), one_epoch());
    std::vector<double> seconds;
    Figures f;
    for (unsigned r = 0; r < repeats; ++r) {
        BatchStatistics statistics;
        const auto start = std::chrono::steady_clock::now();
        model.train(data, one_epoch(), statistics);
        seconds.push_back(benchmark_support::seconds_since(start));
        f.statistics = statistics;  // the counts of the last call; the calls differ only by the weights' training
    }
    f.seconds = benchmark_support::median(seconds);
    return f;
}

std::size_t free_device_bytes() {
    std::size_t free = 0, total = 0;
    sg::cuda_backend::check(cudaMemGetInfo(&free, &total), "cudaMemGetInfo");
    return free;
}

void benchmark(int timesteps, const Options& o, const std::string& gpu_name) {
    const std::size_t examples = o.batch * o.batches;
    const sg::SpikeDataset data =
        benchmark_support::poisson_dataset(examples, num_inputs, num_outputs, timesteps, dt, input_rate_hz, 7);
    std::fprintf(stderr, "cuda_event_prop_benchmark: T = %d, %zu batches of %zu\n", timesteps, o.batches, o.batch);

    const std::size_t free_before = free_device_bytes();
    auto gpu = make_compiler(timesteps, o, 0).compile<sg::cuda>(net);
    const Figures f = time_training(gpu, data, o.batch, o.repeats);
    const std::size_t free_after = free_device_bytes();
    const double samples_per_s = double(examples) / f.seconds;

    benchmark_support::JsonLine line;
    line.add("benchmark", "cuda_event_prop_train")
        .add("backend", "cuda")
        .add("gpu", gpu_name)
        .add("net", "700-256-20")
        .add("timesteps", timesteps)
        .add("batch", o.batch)
        .add("batches", o.batches)
        .add("examples", examples)
        .add("repeats", o.repeats)
        .add("samples_per_s", samples_per_s, 5)
        .add("synaptic_events_per_s", double(f.statistics.events) / f.seconds, 4)
        .add("hidden_rate_hz", double(f.statistics.hidden_spikes) / double(examples * num_hidden) / (timesteps * dt * 1e-3), 3)
        .add("stored_spikes_per_batch", f.statistics.stored)
        .add("stored_spike_bytes_per_batch", f.statistics.stored * sizeof(sg::EventPropSpikeRecord))
        .add("device_bytes_used", free_before > free_after ? free_before - free_after : std::size_t{0});
    if (o.cpu) {
        auto cpu = make_compiler(timesteps, o, o.cpu_threads).compile<sg::cpu>(net);
        const Figures c = time_training(cpu, data, o.batch, 1);
        const double cpu_samples_per_s = double(examples) / c.seconds;
        line.add("cpu_threads", benchmark_support::resolved_threads(o.cpu_threads))
            .add("cpu_samples_per_s", cpu_samples_per_s, 5)
            .add("cpu_stored_spikes_per_batch", c.statistics.stored)
            .add("ratio_vs_cpu", samples_per_s / cpu_samples_per_s, 4);
    }
    line.print();
}

}  // namespace

int main(int argc, char** argv) try {
    Options o;
    const std::optional<int> status = benchmark_support::parse_arguments(
        argc, argv, "[--timesteps 100,1000] [--batch 32] [--batches 4] [--repeats 3] [--cpu-threads 0] [--no-cpu]",
        [&](std::string_view arg, auto& value) {
            if (arg == "--timesteps") o.timesteps = benchmark_support::parse_int_list(arg, value());
            else if (arg == "--batch") o.batch = benchmark_support::parse_count(arg, value());
            else if (arg == "--batches") o.batches = benchmark_support::parse_count(arg, value());
            else if (arg == "--repeats") o.repeats = unsigned(benchmark_support::parse_count(arg, value()));
            else if (arg == "--cpu-threads") o.cpu_threads = unsigned(benchmark_support::parse_count(arg, value()));
            else if (arg == "--no-cpu") o.cpu = false;
            else return false;
            return true;
        });
    if (status) return *status;
    if (o.batch < 1 || o.batches < 1 || o.repeats < 1)
        throw sg::InvalidArgument("--batch, --batches and --repeats must be >= 1");
    int device = 0;
    try {
        device = sg::cuda_backend::require_device();
    } catch (const sg::CudaError& error) {
        std::fprintf(stderr,
                     "cuda_event_prop_benchmark: %s\ncuda_event_prop_benchmark: NO GPU: nothing measured "
                     "(this benchmark needs a CUDA device)\n",
                     error.what());
        return 2;
    }
    cudaDeviceProp properties{};
    sg::cuda_backend::check(cudaGetDeviceProperties(&properties, device), "cudaGetDeviceProperties");
    std::fprintf(stderr, "cuda_event_prop_benchmark: device %d: %s\n", device, properties.name);
    for (int timesteps : o.timesteps) benchmark(timesteps, o, properties.name);
    return 0;
} catch (const std::exception& error) {
    std::fprintf(stderr, "cuda_event_prop_benchmark: %s\n", error.what());
    return 1;
}
