// Inference throughput of the CUDA backend (issue 3), printed as JSON lines:
//   dense:  700 SpikeInput -> 256 recurrent LIF -> 20 LI (AvgVarExpWeight), Exponential 5 ms synapses
//   sparse: 700 SpikeInput -> FixedProbability(0.1) -> 16384 LIF -> FixedProbability(0.01) recurrent -> 20 LI
// fed 10 Hz Poisson spike trains (dt 1 ms). For each it reports
//   run_samples_per_s         lanes / time of Simulator::run() (inputs already on the device);
//                             also printed as samples_per_s, the field the suite's table reads
//   end_to_end_samples_per_s  examples / time of predict() over the dataset (input schedules built
//                             on the host and copied each batch, readouts copied back)
//   synaptic_events_per_s     from run() time
//   bandwidth_fraction        synaptic events/s against the bound of the device's memory bandwidth at
//                             8 bytes per event (4-byte weight read + 4-byte in_syn update), the
//                             bandwidth measured in the same run by a device-to-device copy probe
//   ratio_vs_cpu              run_samples_per_s against the CPU backend on the same inputs (--cpu-threads)
// --sparse-unit-width W forces the targets per warp of sparse propagation (a power of two >= 32;
// default 0, chosen per connection: kernels/spikegraph/cuda/sparse_row_split.hpp), for tuning that choice.
// Absolute figures mean something only on a GPU; without one the program says so and exits 2.
//
//   cuda_inference_benchmark [--timesteps 1000] [--batch 256] [--batches 2] [--repeats 3] [--cpu-threads 0]
//                            [--no-cpu] [--net dense,sparse] [--sparse-unit-width 0]

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

#include <cuda_runtime.h>

#include <spikegraph/spikegraph.hpp>

#include "benchmark_support.hpp"

namespace sg = spikegraph;

namespace {

constexpr float dt = 1.0f;
constexpr double input_rate_hz = 10.0;

constexpr auto input = sg::population<"input", 700>(sg::SpikeInput{});
constexpr auto hidden = sg::population<"hidden", 256>(sg::LeakyIntegrateFire{.tau_mem = 20.0f});
constexpr auto output = sg::population<"output", 20>(sg::LeakyIntegrate{.tau_mem = 20.0f}, sg::AvgVarExpWeight{});
constexpr auto dense_net = sg::network(
    input >> sg::Dense{sg::Normal{0.0012f, 0.006f}} >> sg::Exponential{5.0f} >> hidden,
    hidden >> sg::Dense{sg::Normal{0.0f, 0.01f}} >> sg::Exponential{5.0f} >> hidden,
    hidden >> sg::Dense{sg::Normal{0.0f, 0.03f}} >> sg::Exponential{5.0f} >> output);

constexpr auto wide = sg::population<"hidden", 16384>(sg::LeakyIntegrateFire{.tau_mem = 20.0f});
constexpr auto sparse_net = sg::network(
    input >> sg::FixedProbability{0.1f, sg::Normal{0.012f, 0.06f}} >> sg::Exponential{5.0f} >> wide,
    wide >> sg::FixedProbability{0.01f, sg::Normal{0.0f, 0.03f}} >> sg::Exponential{5.0f} >> wide,
    wide >> sg::Dense{sg::Normal{0.0f, 0.01f}} >> sg::Exponential{5.0f} >> output);

struct Options {
    int timesteps = 1000;
    std::size_t batch = 256;
    std::size_t batches = 2;
    unsigned repeats = 3;
    unsigned cpu_threads = 0;
    bool cpu = true;
    std::vector<std::string> nets{"dense", "sparse"};
    std::size_t sparse_unit_width = 0;
};

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

// Device memory bandwidth: a 1 GiB device-to-device copy reads and writes every byte.
double device_bandwidth_bytes_per_s() {
    const std::size_t bytes = std::size_t{1} << 30;
    void *a = nullptr, *b = nullptr;
    sg::cuda_backend::check(cudaMalloc(&a, bytes), "cudaMalloc for the bandwidth probe");
    sg::cuda_backend::check(cudaMalloc(&b, bytes), "cudaMalloc for the bandwidth probe");
    cudaEvent_t start, stop;
    cudaEventCreate(&start);
    cudaEventCreate(&stop);
    std::vector<double> rates;
    for (int i = 0; i < 6; ++i) {
        cudaEventRecord(start);
        cudaMemcpy(b, a, bytes, cudaMemcpyDeviceToDevice);
        cudaEventRecord(stop);
        cudaEventSynchronize(stop);
        float ms = 0;
        cudaEventElapsedTime(&ms, start, stop);
        if (i > 0) rates.push_back(2.0 * double(bytes) / (double(ms) * 1e-3));
    }
    sg::cuda_backend::check(cudaGetLastError(), "the bandwidth probe");
    cudaEventDestroy(start);
    cudaEventDestroy(stop);
    cudaFree(a);
    cudaFree(b);
    return median(rates);
}

sg::InferenceCompiler compiler(const Options& o, unsigned threads) {
    return sg::InferenceCompiler{.example_timesteps = o.timesteps, .batch_size = o.batch, .seed = 7,
                                 .num_threads = threads, .cuda_sparse_unit_width = o.sparse_unit_width,
                                 .verbose = false};
}

struct RunFigures {
    double run_seconds = 0;
    std::uint64_t synaptic_events = 0;
    std::uint64_t hidden_spikes = 0;
};

// Median time of Simulator::run() on the first batch, inputs set once.
template <class Model>
RunFigures time_runs(Model& model, const sg::SpikeDataset& data, std::size_t lanes, unsigned repeats) {
    auto& simulator = model.simulator();
    simulator.template set_input<0>(sg::make_input_batch(data, 0, lanes));
    simulator.run();  // warm-up: captures the graph, touches every buffer
    std::vector<double> times;
    for (unsigned r = 0; r < repeats; ++r) {
        const auto start = std::chrono::steady_clock::now();
        simulator.run();
        times.push_back(seconds_since(start));
    }
    RunFigures f;
    f.run_seconds = median(times);
    f.synaptic_events = simulator.synaptic_events();
    for (std::uint64_t n : simulator.template spike_totals<1>()) f.hidden_spikes += n;
    return f;
}

template <class Net>
void benchmark(const char* name, const Net& net, std::size_t hidden_size, const Options& o, double bandwidth,
               const std::string& gpu_name) {
    const std::size_t examples = o.batch * o.batches;
    const sg::SpikeDataset data =
        benchmark_support::poisson_dataset(examples, 700, 20, o.timesteps, dt, input_rate_hz, 11);
    auto gpu = compiler(o, 0).compile<sg::cuda>(net);
    const RunFigures f = time_runs(gpu, data, o.batch, o.repeats);
    gpu.predict(data);  // warm-up for the partial-batch-free end-to-end pass
    const auto start = std::chrono::steady_clock::now();
    gpu.predict(data);
    const double end_to_end = seconds_since(start);

    const double run_rate = double(o.batch) / f.run_seconds;
    const double events_per_s = double(f.synaptic_events) / f.run_seconds;
    const double bound = bandwidth / 8.0;
    std::string cpu_fields;
    if (o.cpu) {
        auto cpu = compiler(o, o.cpu_threads).compile<sg::cpu>(net);
        const RunFigures c = time_runs(cpu, data, o.batch, 1);
        const double cpu_rate = double(o.batch) / c.run_seconds;
        char text[256];
        std::snprintf(text, sizeof text,
                      ",\"cpu_samples_per_s\":%.3f,\"ratio_vs_cpu\":%.2f,\"cpu_events_equal\":%s", cpu_rate,
                      run_rate / cpu_rate, c.synaptic_events == f.synaptic_events ? "true" : "false");
        cpu_fields = text;
    }
    std::printf(
        "{\"benchmark\":\"cuda_inference\",\"net\":\"%s\",\"backend\":\"cuda\",\"gpu\":\"%s\",\"timesteps\":%d,\"batch\":%zu,"
        "\"samples_per_s\":%.3f,\"run_samples_per_s\":%.3f,\"end_to_end_samples_per_s\":%.3f,\"synaptic_events_per_s\":%.6g,"
        "\"bandwidth_bytes_per_s\":%.6g,\"bandwidth_fraction\":%.4f,\"hidden_rate_hz\":%.3f,\"sparse_unit_width\":%zu%s}\n",
        name, gpu_name.c_str(), o.timesteps, o.batch, run_rate, run_rate, double(examples) / end_to_end, events_per_s, bandwidth,
        events_per_s / bound,
        double(f.hidden_spikes) / double(o.batch * hidden_size) / (o.timesteps * dt * 1e-3), o.sparse_unit_width,
        cpu_fields.c_str());
    std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) try {
    Options o;
    const std::optional<int> status = benchmark_support::parse_arguments(
        argc, argv, "[--timesteps 1000] [--batch 256] [--batches 2] [--repeats 3] [--cpu-threads 0] [--no-cpu] [--net dense,sparse] "
        "[--sparse-unit-width 0]", [&](std::string_view arg, auto& value) {
            if (arg == "--timesteps") o.timesteps = int(benchmark_support::parse_count(arg, value()));
            else if (arg == "--batch") o.batch = benchmark_support::parse_count(arg, value());
            else if (arg == "--batches") o.batches = benchmark_support::parse_count(arg, value());
            else if (arg == "--repeats") o.repeats = unsigned(benchmark_support::parse_count(arg, value()));
            else if (arg == "--cpu-threads") o.cpu_threads = unsigned(benchmark_support::parse_count(arg, value()));
            else if (arg == "--no-cpu") o.cpu = false;
            else if (arg == "--net") o.nets = benchmark_support::parse_name_list(value());
            else if (arg == "--sparse-unit-width") o.sparse_unit_width = benchmark_support::parse_count(arg, value());
            else return false;
            return true;
        });
    if (status) return *status;
    if (o.timesteps < 1 || o.batch < 1 || o.batches < 1 || o.repeats < 1)
        throw sg::InvalidArgument("--timesteps, --batch, --batches and --repeats must be >= 1");
    const int device = sg::cuda_backend::require_device();
    cudaDeviceProp properties{};
    sg::cuda_backend::check(cudaGetDeviceProperties(&properties, device), "cudaGetDeviceProperties");
    std::fprintf(stderr, "cuda_inference_benchmark: device %d: %s\n", device, properties.name);
    const double bandwidth = device_bandwidth_bytes_per_s();
    for (const auto& net : o.nets) {
        if (net == "dense") benchmark("dense", dense_net, 256, o, bandwidth, properties.name);
        else if (net == "sparse") benchmark("sparse", sparse_net, 16384, o, bandwidth, properties.name);
        else throw sg::InvalidArgument("--net: unknown net '" + net + "' (dense, sparse)");
    }
    return 0;
} catch (const std::exception& error) {
    std::fprintf(stderr, "cuda_inference_benchmark: %s\n", error.what());
    return 2;
}
