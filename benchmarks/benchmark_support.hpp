#pragma once
// What the benchmark programs share: Poisson input data, peak memory, option
// parsing, JSON lines, the roofline fields, and running peers on the same
// inputs (the files the peers read are described in benchmarks/peers/peer_support.py).
#include <sys/resource.h>
#include <sys/wait.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include <spikegraph/io/npy.hpp>
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

// The process's peak resident memory so far. Each benchmark configuration
// runs in its own process when run_suite.sh drives them, so this is per configuration.
inline double peak_resident_mib() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return double(usage.ru_maxrss) / 1024.0;  // Linux: KiB
}

inline unsigned resolved_threads(unsigned threads) {
    return threads ? threads : std::max(1u, std::thread::hardware_concurrency());
}

inline double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Calls trial() until `seconds` have passed, at least once, and returns its
// last result: for training benchmarks, whose every trial (a model fresh from
// the same initial weights, a warm-up pass, timed passes) does the same work.
template <class Trial>
auto repeat_trials(double seconds, Trial&& trial) {
    const auto start = std::chrono::steady_clock::now();
    auto result = trial();
    while (seconds_since(start) < seconds) result = trial();
    return result;
}

inline double median(std::vector<double> values) {
    if (values.empty()) return 0.0;
    std::sort(values.begin(), values.end());
    const std::size_t n = values.size();
    return n % 2 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

// "a,b,c" -> {"a", "b", "c"}.
inline std::vector<std::string> parse_name_list(const std::string& text) {
    std::vector<std::string> names;
    for (std::size_t start = 0;;) {
        const std::size_t comma = text.find(',', start);
        names.push_back(text.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
        if (comma == std::string::npos) return names;
        start = comma + 1;
    }
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

inline double parse_number(std::string_view option, const char* text, bool zero_allowed) {
    char* end = nullptr;
    const double value = std::strtod(text, &end);
    if (end == text || *end != '\0' || !(zero_allowed ? value >= 0.0 : value > 0.0) || !std::isfinite(value))
        throw sg::InvalidArgument(std::string(option) + " needs a " + (zero_allowed ? "non-negative" : "positive") +
                                  " number, got '" + text + "'");
    return value;
}
inline double parse_positive_number(std::string_view option, const char* text) { return parse_number(option, text, false); }

// ---------------------------------------------------------------------------
// JSON lines

inline std::string json_string(std::string_view s) {
    std::string out = "\"";
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (u < 0x20) {
            char escaped[8];
            std::snprintf(escaped, sizeof escaped, "\\u%04x", unsigned(u));
            out += escaped;
        } else {
            out += c;
        }
    }
    return out + "\"";
}

// One flat JSON object, printed as one stdout line.
class JsonLine {
public:
    JsonLine& add(std::string_view key, std::string_view value) { return add_raw(key, json_string(value)); }
    JsonLine& add(std::string_view key, const char* value) { return add(key, std::string_view(value)); }
    JsonLine& add(std::string_view key, const std::string& value) { return add(key, std::string_view(value)); }
    JsonLine& add(std::string_view key, bool value) { return add_raw(key, value ? "true" : "false"); }
    // Numbers keep `significant` digits; a non-finite number is written as null (JSON has no NaN).
    JsonLine& add(std::string_view key, double value, int significant = 6) {
        if (!std::isfinite(value)) return add_raw(key, "null");
        char text[64];
        std::snprintf(text, sizeof text, "%.*g", significant, value);
        return add_raw(key, text);
    }
    template <class Integer>
        requires std::is_integral_v<Integer>
    JsonLine& add(std::string_view key, Integer value) {
        return add_raw(key, std::to_string(value));
    }
    JsonLine& add_raw(std::string_view key, std::string_view json_value) {
        text_ += text_.empty() ? "{" : ", ";
        text_ += json_string(key);
        text_ += ": ";
        text_ += json_value;
        return *this;
    }
    std::string str() const { return text_.empty() ? "{}" : text_ + "}"; }
    void print() const {
        std::printf("%s\n", str().c_str());
        std::fflush(stdout);
    }

private:
    std::string text_;
};

// Roofline of the synaptic events: each event reads a 4-byte weight and
// read-modify-writes a 4-byte in_syn value, counted together as 8 bytes
// (the in_syn row of a lane is small and mostly stays in cache; the weight
// rows stream from memory). The bound is the measured stream-copy bandwidth
// divided by those 8 bytes.
inline constexpr double roofline_bytes_per_event = 8.0;

inline void add_roofline(JsonLine& line, double synaptic_events_per_s, double bandwidth_gb_per_s) {
    if (!(bandwidth_gb_per_s > 0.0)) return;
    const double bound = bandwidth_gb_per_s * 1e9 / roofline_bytes_per_event;
    line.add("memory_bandwidth_gb_s", bandwidth_gb_per_s, 4)
        .add("roofline_bytes_per_event", roofline_bytes_per_event, 3)
        .add("roofline_bound_events_per_s", bound, 4)
        .add("roofline_fraction", synaptic_events_per_s / bound, 3);
}

// ---------------------------------------------------------------------------
// Peers

// Options every benchmark program takes.
struct CommonOptions {
    std::vector<std::string> peers;  // "name=command"
    std::filesystem::path inputs_directory;
    double memory_bandwidth_gb_s = 0.0;

    // Takes `arg` (and its value, read by value()) when it is a common option.
    template <class Value>
    bool parse(std::string_view arg, Value&& value) {
        if (arg == "--peer") peers.emplace_back(value());
        else if (arg == "--inputs-dir") inputs_directory = value();
        else if (arg == "--memory-bandwidth-gbs") memory_bandwidth_gb_s = parse_positive_number(arg, value());
        else return false;
        return true;
    }
    // Consumes argv[i] (and its value) when it is a common option.
    bool parse(int argc, char** argv, int& i) {
        const std::string_view arg = argv[i];
        return parse(arg, [&]() -> const char* {
            if (i + 1 >= argc) throw sg::InvalidArgument(std::string(arg) + " needs a value");
            return argv[++i];
        });
    }
    static constexpr const char* usage =
        "[--peer NAME=CMD]... [--inputs-dir DIR] [--memory-bandwidth-gbs GB/s]";
};

// The argument loop of the benchmark programs: option(arg, value) is called
// for each argument, where value() reads the one after it (or throws naming
// the option). When option returns false (an unknown option, --help or -h) the
// usage line goes to stderr and the exit status comes back: 0 for help, else 2.
template <class Option>
std::optional<int> parse_arguments(int argc, char** argv, const std::string& usage, Option&& option) {
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        auto value = [&]() -> const char* {
            if (i + 1 >= argc) throw sg::InvalidArgument(std::string(arg) + " needs a value");
            return argv[++i];
        };
        if (!option(arg, value)) {
            std::fprintf(stderr, "usage: %s %s\n", argv[0], usage.c_str());
            return arg == "--help" || arg == "-h" ? 0 : 2;
        }
    }
    return std::nullopt;
}

struct PeerCommand {
    std::string name;
    std::string command;
};

// "snntorch=python3 benchmarks/peers/snntorch_peer.py" -> {snntorch, python3 ...};
// without a NAME= prefix the name is "peer".
inline PeerCommand parse_peer(const std::string& text) {
    const std::size_t equals = text.find('=');
    if (equals != std::string::npos && equals > 0) {
        const std::string name = text.substr(0, equals);
        const bool identifier = std::all_of(name.begin(), name.end(), [](char c) {
            return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
        });
        if (identifier) return {name, text.substr(equals + 1)};
    }
    return {"peer", text};
}

// A flat JSON object (string, number, true/false/null values), each value
// kept as its JSON text. Returns false on anything else.
inline bool parse_flat_json_object(std::string_view text, std::vector<std::pair<std::string, std::string>>& fields) {
    std::size_t i = 0;
    auto skip_space = [&] {
        while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    };
    auto parse_string = [&](std::string& raw) {  // raw: the JSON text, quotes included
        if (i >= text.size() || text[i] != '"') return false;
        const std::size_t start = i++;
        while (i < text.size() && text[i] != '"') i += text[i] == '\\' ? 2 : 1;
        if (i >= text.size()) return false;
        raw = std::string(text.substr(start, ++i - start));
        return true;
    };
    skip_space();
    if (i >= text.size() || text[i++] != '{') return false;
    skip_space();
    if (i < text.size() && text[i] == '}') return true;
    while (true) {
        skip_space();
        std::string key, value;
        if (!parse_string(key)) return false;
        skip_space();
        if (i >= text.size() || text[i++] != ':') return false;
        skip_space();
        if (i < text.size() && text[i] == '"') {
            if (!parse_string(value)) return false;
        } else {
            const std::size_t start = i;
            while (i < text.size() && text[i] != ',' && text[i] != '}' &&
                   !std::isspace(static_cast<unsigned char>(text[i])))
                ++i;
            value = std::string(text.substr(start, i - start));
            const bool literal = value == "true" || value == "false" || value == "null";
            // A JSON number: strtod alone would also take nan, inf and hex, which JSON has not.
            const bool number_characters = !value.empty() && value.find_first_not_of("+-0123456789.eE") == std::string::npos;
            char* end = nullptr;
            if (!literal && (!number_characters || (std::strtod(value.c_str(), &end), *end != '\0'))) return false;
        }
        if (key.find('\\') != std::string::npos) return false;  // keys here are plain names
        fields.emplace_back(key.substr(1, key.size() - 2), value);
        skip_space();
        if (i >= text.size()) return false;
        if (text[i] == '}') return true;
        if (text[i++] != ',') return false;
    }
}

struct PeerResult {
    std::string name;
    bool ok = false;
    std::string status;  // "ok", or why there is no figure
    double samples_per_s = 0.0;
    std::vector<std::pair<std::string, std::string>> fields;  // the peer's own JSON fields, as JSON text
};

// Runs `command arguments` through the shell; its last stdout line must be
// the peer protocol's JSON object (peer_support.py). Its stderr passes through.
inline PeerResult run_peer(const PeerCommand& peer, const std::string& arguments) {
    PeerResult result;
    result.name = peer.name;
    const std::string line = peer.command + " " + arguments;
    std::fprintf(stderr, "[peer %s] %s\n", peer.name.c_str(), line.c_str());
    std::fflush(stderr);
    FILE* pipe = popen(line.c_str(), "r");
    if (!pipe) {
        result.status = "could not start";
        return result;
    }
    char buffer[4096];
    std::string last, current;
    while (std::fgets(buffer, sizeof buffer, pipe)) {
        current += buffer;
        if (!current.empty() && current.back() == '\n') {
            current.pop_back();
            if (!current.empty()) last = current;
            current.clear();
        }
    }
    if (!current.empty()) last = current;
    const int status = pclose(pipe);
    const int exit_code = status == -1 ? -1 : WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    const bool parsed = parse_flat_json_object(last, result.fields);
    std::string reported_status, reason;
    for (const auto& [key, value] : result.fields) {
        const auto unquoted = [&] {
            return value.size() >= 2 && value.front() == '"' ? value.substr(1, value.size() - 2) : value;
        };
        if (key == "status") reported_status = unquoted();
        else if (key == "reason") reason = unquoted();
        else if (key == "samples_per_s") result.samples_per_s = std::strtod(value.c_str(), nullptr);
    }
    result.ok = exit_code == 0 && parsed && reported_status == "ok" && result.samples_per_s > 0.0 &&
                std::isfinite(result.samples_per_s);
    if (result.ok) {
        result.status = "ok";
    } else {
        result.status = !reported_status.empty() && reported_status != "ok" ? reported_status : "failed";
        result.status += " (exit " + std::to_string(exit_code) + (reason.empty() ? "" : ": " + reason) + ")";
        std::fprintf(stderr, "\n*** PEER %s GAVE NO FIGURE: %s; this line carries no ratio ***\n\n", peer.name.c_str(),
                     result.status.c_str());
    }
    return result;
}

// The peer's figures on a spikegraph line: peer, peer_<field>..., ratio_vs_peer
// (spikegraph samples/s over the peer's, only from a peer that gave a figure).
inline void add_peer_fields(JsonLine& line, const PeerResult& peer, double samples_per_s) {
    line.add("peer", peer.name).add("peer_status", peer.status);
    if (!peer.ok) return;
    for (const auto& [key, value] : peer.fields)
        if (key != "peer" && key != "status") line.add_raw("peer_" + key, value);
    line.add("ratio_vs_peer", samples_per_s / peer.samples_per_s, 4);
}

// Prints `line` once per peer (each line: spikegraph's figures and one peer's), or once without peers.
inline void print_with_peers(const JsonLine& line, const std::vector<PeerResult>& peers, double samples_per_s) {
    if (peers.empty()) {
        line.print();
        return;
    }
    for (const auto& peer : peers) {
        JsonLine with_peer = line;
        add_peer_fields(with_peer, peer, samples_per_s);
        with_peer.print();
    }
}

// Writes the inputs of one configuration for the peers (format in
// benchmarks/peers/peer_support.py): spikes.npy, labels.npy and meta.json,
// whose "network" object (JSON text) describes the net and its initial weights.
inline void write_peer_inputs(const std::filesystem::path& directory, std::string_view benchmark,
                              const sg::SpikeDataset& data, int timesteps, float dt, std::size_t batch, double rate_hz,
                              std::uint64_t seed, double learning_rate, std::string_view network_json) {
    std::filesystem::create_directories(directory);
    std::vector<std::int32_t> events;  // (example, step, neuron) rows
    for (std::size_t e = 0; e < data.size(); ++e) {
        const auto& example = data.examples[e];
        for (std::size_t k = 0; k < example.size(); ++k) {
            // The generators put every event on a step time; SpikeInput fires it in that step.
            const long step = std::lround(double(example.times[k]) / double(dt));
            if (step < 0 || step >= timesteps || std::fabs(double(step) * dt - double(example.times[k])) > 1e-3 * dt)
                throw sg::InvalidArgument("write_peer_inputs: example " + std::to_string(e) + " has an event at " +
                                          std::to_string(example.times[k]) + " ms, expected a step time before " +
                                          std::to_string(timesteps * dt) + " ms");
            events.insert(events.end(), {std::int32_t(e), std::int32_t(step), std::int32_t(example.ids[k])});
        }
    }
    sg::write_npy(directory / "spikes.npy", events, {events.size() / 3, 3});
    sg::write_npy(directory / "labels.npy", data.labels, {data.labels.size()});
    JsonLine meta;
    meta.add("benchmark", benchmark)
        .add("examples", data.size())
        .add("num_inputs", data.num_inputs)
        .add("num_classes", data.num_classes)
        .add("timesteps", timesteps)
        .add("dt_ms", double(dt))
        .add("batch", batch)
        .add("input_rate_hz", rate_hz)
        .add("seed", seed)
        .add("learning_rate", learning_rate)
        .add_raw("network", network_json)
        .add("format", "spikes.npy: int32 [events, 3] rows (example, step, input neuron), sorted by example and step; "
                       "labels.npy: int32 [examples]");
    const std::string text = meta.str() + "\n";
    const std::filesystem::path path = directory / "meta.json";
    FILE* file = std::fopen(path.c_str(), "w");
    if (!file || std::fwrite(text.data(), 1, text.size(), file) != text.size() || std::fclose(file) != 0)
        throw sg::InvalidArgument("write_peer_inputs: cannot write " + path.string());
}

// Runs every peer on the inputs in `directory`; `extra` is appended to each
// command (e.g. step limits for a slow configuration).
inline std::vector<PeerResult> run_peers(const CommonOptions& options, std::string_view benchmark,
                                         const std::filesystem::path& directory, int timesteps, std::size_t batch,
                                         unsigned threads, const std::string& extra = "") {
    std::vector<PeerResult> results;
    for (const auto& text : options.peers) {
        const std::string arguments = "--benchmark " + std::string(benchmark) + " --inputs '" + directory.string() +
                                      "' --timesteps " + std::to_string(timesteps) + " --batch " +
                                      std::to_string(batch) + " --threads " + std::to_string(threads) +
                                      (extra.empty() ? "" : " " + extra);
        results.push_back(run_peer(parse_peer(text), arguments));
    }
    return results;
}

// Where a configuration's peer inputs go: under --inputs-dir when given (and
// kept), else in a fresh directory in the system temp directory that is
// removed when this object goes.
class PeerInputsDirectory {
public:
    PeerInputsDirectory(const CommonOptions& options, const std::string& configuration) {
        if (!options.inputs_directory.empty()) {
            path_ = options.inputs_directory / configuration;
            return;
        }
        std::string pattern = (std::filesystem::temp_directory_path() / "spikegraph-benchmark-XXXXXX").string();
        if (!mkdtemp(pattern.data())) throw sg::InvalidArgument("cannot create a temporary directory for peer inputs");
        temporary_root_ = pattern;
        path_ = temporary_root_ / configuration;
    }
    ~PeerInputsDirectory() {
        std::error_code ignored;
        if (!temporary_root_.empty()) std::filesystem::remove_all(temporary_root_, ignored);
    }
    PeerInputsDirectory(const PeerInputsDirectory&) = delete;
    PeerInputsDirectory& operator=(const PeerInputsDirectory&) = delete;
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_, temporary_root_;
};

// A configuration's peer runs, as every benchmark program does them: its
// inputs written for the peers (write_peer_inputs) into its directory, then
// each --peer run on them (run_peers). None without --peer.
inline std::vector<PeerResult> run_peers_on(const CommonOptions& options, std::string_view benchmark,
                                            const std::string& configuration, const sg::SpikeDataset& data, int timesteps,
                                            float dt, std::size_t batch, double rate_hz, std::uint64_t seed,
                                            double learning_rate, std::string_view network_json, unsigned threads) {
    if (options.peers.empty()) return {};
    const PeerInputsDirectory directory(options, configuration);
    write_peer_inputs(directory.path(), benchmark, data, timesteps, dt, batch, rate_hz, seed, learning_rate, network_json);
    return run_peers(options, benchmark, directory.path(), timesteps, batch, threads);
}

}  // namespace benchmark_support
