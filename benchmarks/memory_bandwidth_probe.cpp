// Memory bandwidth of this machine, measured the way STREAM's "copy" kernel
// does (b[i] = a[i] over arrays far larger than the caches, bytes read plus
// bytes written), with as many threads as the benchmarks use, each thread
// copying the part of the arrays it first touched. run_suite.sh runs it
// before the benchmarks and hands the best copy figure to them
// (--memory-bandwidth-gbs) for their roofline fields: synaptic events/s
// against bandwidth / 8 bytes per event (benchmark_support.hpp).
// A read-only pass (sum of a) is printed too, for information.
//
// Prints one JSON line:
//   memory_bandwidth_probe [--threads 0 (all)] [--mib 512 (per array)] [--repeats 10]

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "benchmark_support.hpp"

namespace {

struct Options {
    unsigned threads = 0;
    std::size_t mib = 512;
    unsigned repeats = 10;
};

// Runs body(thread, first, last) on `threads` threads, each on its own
// contiguous part of [0, count); returns the wall time in seconds.
template <class Body>
double run_parallel(unsigned threads, std::size_t count, Body&& body) {
    std::vector<std::thread> pool;
    const auto start = std::chrono::steady_clock::now();
    for (unsigned t = 0; t < threads; ++t)
        pool.emplace_back([&, t] { body(t, count * t / threads, count * (t + 1) / threads); });
    for (auto& thread : pool) thread.join();
    return benchmark_support::seconds_since(start);
}

}  // namespace

int main(int argc, char** argv) try {
    Options options;
    const std::optional<int> status = benchmark_support::parse_arguments(
        argc, argv, "[--threads 0] [--mib 512] [--repeats 10]", [&](std::string_view arg, auto& value) {
            if (arg == "--threads") options.threads = unsigned(benchmark_support::parse_count(arg, value()));
            else if (arg == "--mib") options.mib = benchmark_support::parse_count(arg, value());
            else if (arg == "--repeats") options.repeats = unsigned(benchmark_support::parse_count(arg, value()));
            else return false;
            return true;
        });
    if (status) return *status;
    if (options.mib < 16 || options.repeats == 0)
        throw spikegraph::InvalidArgument("--mib must be at least 16 (beyond the caches) and --repeats at least 1");
    const unsigned threads = benchmark_support::resolved_threads(options.threads);
    const std::size_t count = options.mib * (std::size_t(1) << 20) / sizeof(double);

    // Uninitialised storage, so that each thread's first touch below places its pages.
    std::unique_ptr<double[]> a(new double[count]), b(new double[count]);
    run_parallel(threads, count, [&](unsigned, std::size_t first, std::size_t last) {
        for (std::size_t i = first; i < last; ++i) {
            a[i] = double(i & 1023);
            b[i] = 0.0;
        }
    });

    std::vector<double> copy_seconds, read_seconds;
    std::vector<double> partial_sums(threads, 0.0);
    for (unsigned r = 0; r < options.repeats + 1; ++r) {  // the first repeat warms up
        const double copy = run_parallel(threads, count, [&](unsigned, std::size_t first, std::size_t last) {
            double* __restrict to = b.get();
            const double* __restrict from = a.get();
            for (std::size_t i = first; i < last; ++i) to[i] = from[i];
        });
        const double read = run_parallel(threads, count, [&](unsigned t, std::size_t first, std::size_t last) {
            double sum0 = 0, sum1 = 0, sum2 = 0, sum3 = 0;  // independent chains, so the adds keep up with memory
            std::size_t i = first;
            for (; i + 4 <= last; i += 4) {
                sum0 += a[i];
                sum1 += a[i + 1];
                sum2 += a[i + 2];
                sum3 += a[i + 3];
            }
            for (; i < last; ++i) sum0 += a[i];
            partial_sums[t] = sum0 + sum1 + sum2 + sum3;
        });
        if (r == 0) continue;
        copy_seconds.push_back(copy);
        read_seconds.push_back(read);
    }
    // The copy must have happened (and the sums be used), or the compiler could drop the loops.
    double checksum = 0;
    for (double s : partial_sums) checksum += s;
    if (b[count - 1] != a[count - 1] || !(checksum > 0.0))
        throw spikegraph::InvalidArgument("memory_bandwidth_probe: the copy check failed");

    const double bytes = double(count * sizeof(double));
    const double best_copy = *std::min_element(copy_seconds.begin(), copy_seconds.end());
    const double best_read = *std::min_element(read_seconds.begin(), read_seconds.end());
    benchmark_support::JsonLine line;
    line.add("benchmark", "memory_bandwidth")
        .add("kernel", "stream_copy")
        .add("threads", threads)
        .add("array_mib", options.mib)
        .add("repeats", options.repeats)
        .add("copy_best_gb_s", 2.0 * bytes / best_copy / 1e9, 4)
        .add("copy_median_gb_s", 2.0 * bytes / benchmark_support::median(copy_seconds) / 1e9, 4)
        .add("read_best_gb_s", bytes / best_read / 1e9, 4)
        .add("bytes_counted", "copy: bytes read + bytes written (STREAM's convention); read: bytes read")
        .add("peak_memory_mib", benchmark_support::peak_resident_mib(), 5);
    line.print();
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "memory_bandwidth_probe: %s\n", e.what());
    return 1;
}
