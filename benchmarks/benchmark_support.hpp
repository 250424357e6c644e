#pragma once
// What the training benchmarks share: Poisson input data, peak memory, option parsing.
#include <sys/resource.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <spikegraph/spikegraph.hpp>

namespace benchmark_support {

namespace sg = spikegraph;

// Independent Poisson trains per input on the step grid, labels cycling over
// the classes. The gap between spikes is geometric with the per-step firing
// probability: the same process as one Bernoulli draw per step and input,
// but costing per spike.
inline sg::SpikeDataset poisson_dataset(std::size_t examples, std::size_t inputs, std::size_t classes, int timesteps,
                                        float dt, double rate_hz, std::uint64_t seed) {
    sg::SpikeDataset data;
    data.num_inputs = inputs;
    data.num_classes = classes;
    std::mt19937_64 rng(seed);
    const double per_step = 1.0 - std::exp(-rate_hz * 1e-3 * double(dt));
    std::geometric_distribution<int> gap(per_step);  // failures before the next spike
    for (std::size_t e = 0; e < examples; ++e) {
        std::vector<float> times;
        std::vector<std::uint32_t> ids;
        for (std::uint32_t input = 0; input < inputs; ++input)
            for (int step = gap(rng); step < timesteps; step += 1 + gap(rng)) {
                times.push_back(float(step) * dt);
                ids.push_back(input);
            }
        data.examples.push_back(sg::make_spike_events(std::move(times), std::move(ids), inputs));
        data.labels.push_back(std::int32_t(e % classes));
    }
    return data;
}

inline double peak_resident_mib() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return double(usage.ru_maxrss) / 1024.0;  // Linux: KiB
}

inline std::vector<int> parse_int_list(std::string_view option, const std::string& text) {
    std::vector<int> values;
    std::size_t start = 0;
    while (true) {
        const std::size_t comma = text.find(',', start);
        const std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        char* end = nullptr;
        const long value = std::strtol(item.c_str(), &end, 10);
        if (item.empty() || *end != '\0' || value < 1)
            throw sg::InvalidArgument(std::string(option) + " needs positive integers separated by commas, got '" + text + "'");
        values.push_back(int(value));
        if (comma == std::string::npos) return values;
        start = comma + 1;
    }
}

inline std::size_t parse_count(std::string_view option, const char* text) {
    char* end = nullptr;
    const unsigned long long value = std::strtoull(text, &end, 10);
    if (end == text || *end != '\0' || text[0] == '-')
        throw sg::InvalidArgument(std::string(option) + " needs a non-negative integer, got '" + text + "'");
    return std::size_t(value);
}

}  // namespace benchmark_support
