// Inference throughput of the CPU backend on an SHD-sized recurrent network:
//   700 SpikeInput -> 256 recurrent LIF -> 20 LI (AvgVarExpWeight), Exponential 5 ms synapses,
// fed 10 Hz Poisson spike trains. Prints one JSON line per configuration.
//
// For one configuration (T = 100) it also runs a naive dense reference: the same
// neuron updates, but every step propagates with a full spike-vector x weight-matrix
// product (every synapse touched whether or not its neuron spiked). The ratio of its
// time to the event-driven time is printed as "event_driven_speedup". The reference
// adds the same weights in the same order (adding 0 * w changes nothing), so its
// outputs must equal the library's; "reference_max_abs_diff" shows that it does.
//
// A pass over the examples lasts tens of milliseconds, where a busy host's
// hiccups move a median of a few passes by a third. So passes are timed for
// --seconds (default 3; at least --repeats passes, default 5), and the
// figure is the median over all of them ("passes" in the JSON line).
//
// Each --peer NAME=CMD (benchmarks/peers/) runs the same net forward, without
// gradients, on the same spike trains; spikegraph's passes are timed for
// --seconds before the peers and again after them, so that a host whose
// speed drifts during the run moves both sides alike. The "cpu" line then
// carries the peer's samples/s and ratio_vs_peer, once per peer.
// --memory-bandwidth-gbs adds the roofline fields (benchmark_support.hpp).
//
//   inference_benchmark [--timesteps 100,1000] [--batch 32] [--examples N] [--threads 0]
//                       [--repeats 5] [--seconds 3] [--no-reference] [--peer NAME=CMD]... [--inputs-dir DIR]
//                       [--memory-bandwidth-gbs B]

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <spikegraph/spikegraph.hpp>

#include "benchmark_support.hpp"

namespace sg = spikegraph;

namespace {

constexpr std::size_t num_inputs = 700;
constexpr std::size_t num_hidden = 256;
constexpr std::size_t num_outputs = 20;
constexpr float input_rate_per_ms = 0.01f;  // 10 Hz
constexpr float dt = 1.0f;
constexpr float tau_mem = 20.0f, tau_syn = 5.0f;

// Weights chosen so that 10 Hz input drives the hidden layer to a few tens of Hz
// (the measured rate is printed as hidden_rate_hz). The peers draw theirs
// from the same Normal(mean, sd) distributions (network_json).
constexpr float input_weight_mean = 0.0012f, input_weight_sd = 0.006f;
constexpr float recurrent_weight_sd = 0.01f, output_weight_sd = 0.03f;
constexpr auto input = sg::population<"input", num_inputs>(sg::SpikeInput{});
constexpr auto hidden = sg::population<"hidden", num_hidden>(sg::LeakyIntegrateFire{.tau_mem = tau_mem});
constexpr auto output = sg::population<"output", num_outputs>(sg::LeakyIntegrate{.tau_mem = tau_mem}, sg::AvgVarExpWeight{});
constexpr auto net = sg::network(
    input >> sg::Dense{sg::Normal{input_weight_mean, input_weight_sd}} >> sg::Exponential{tau_syn} >> hidden,
    hidden >> sg::Dense{sg::Normal{0.0f, recurrent_weight_sd}} >> sg::Exponential{tau_syn} >> hidden,
    hidden >> sg::Dense{sg::Normal{0.0f, output_weight_sd}} >> sg::Exponential{tau_syn} >> output);
using Net = std::remove_cvref_t<decltype(net)>;
constexpr std::size_t hidden_index = std::size_t(Net::population_index("hidden"));

// The net as the peers build it (benchmarks/peers/peer_support.py, network()).
std::string network_json() {
    using benchmark_support::JsonLine;
    auto normal = [](float mean, float sd) { return JsonLine{}.add("mean", mean).add("sd", sd).str(); };
    return JsonLine{}
        .add("num_hidden", num_hidden)
        .add("num_outputs", num_outputs)
        .add("recurrent", true)
        .add_raw("hidden", JsonLine{}.add("model", "lif").add("tau_mem_ms", tau_mem).add("v_thresh", 1.0).str())
        .add_raw("output", JsonLine{}.add("model", "li").add("tau_mem_ms", tau_mem).str())
        .add_raw("synapse", JsonLine{}.add("model", "exponential").add("tau_ms", tau_syn).str())
        .add("readout", "avg_var_exp_weight")
        .add("peer_loss", "none")
        .add_raw("weights", JsonLine{}
                                .add_raw("input_hidden", normal(input_weight_mean, input_weight_sd))
                                .add_raw("hidden_hidden", normal(0.0f, recurrent_weight_sd))
                                .add_raw("hidden_output", normal(0.0f, output_weight_sd))
                                .str())
        .str();
}

struct Options {
    std::vector<int> timesteps{100, 1000};
    std::size_t batch = 32;
    std::size_t examples = 0;  // 0: 256 at T = 100, 64 otherwise
    unsigned threads = 0;
    unsigned repeats = 5;  // timed passes at least
    double seconds = 3.0;  // and passes until this much time has passed
    bool reference = true;
    benchmark_support::CommonOptions common;
};

[[noreturn]] void usage(const char* why) {
    std::fprintf(stderr,
                 "inference_benchmark: %s\n"
                 "usage: inference_benchmark [--timesteps 100,1000] [--batch 32] [--examples N] [--threads 0]"
                 " [--repeats 5] [--seconds 3] [--no-reference] %s\n",
                 why, benchmark_support::CommonOptions::usage);
    std::exit(2);
}

unsigned long parse_number(std::string_view text, const char* option) {
    char* end = nullptr;
    const std::string s(text);
    const unsigned long value = std::strtoul(s.c_str(), &end, 10);
    if (s.empty() || *end != '\0') usage((std::string("bad value for ") + option + ": " + s).c_str());
    return value;
}

Options parse(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        if (o.common.parse(argc, argv, i)) continue;
        const std::string_view arg = argv[i];
        auto value = [&]() -> std::string_view {
            if (i + 1 >= argc) usage((std::string("missing value for ") + std::string(arg)).c_str());
            return argv[++i];
        };
        if (arg == "--timesteps") {
            o.timesteps.clear();
            std::string_view list = value();
            while (!list.empty()) {
                const auto comma = list.find(',');
                const unsigned long t = parse_number(list.substr(0, comma), "--timesteps");
                if (t == 0) usage("--timesteps must be > 0");
                o.timesteps.push_back(int(t));
                list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
            }
            if (o.timesteps.empty()) usage("--timesteps needs at least one value");
        } else if (arg == "--batch") {
            o.batch = parse_number(value(), "--batch");
            if (o.batch == 0) usage("--batch must be > 0");
        } else if (arg == "--examples") {
            o.examples = parse_number(value(), "--examples");
            if (o.examples == 0) usage("--examples must be > 0");
        } else if (arg == "--threads") {
            o.threads = unsigned(parse_number(value(), "--threads"));
        } else if (arg == "--repeats") {
            o.repeats = unsigned(parse_number(value(), "--repeats"));
            if (o.repeats == 0) usage("--repeats must be > 0");
        } else if (arg == "--seconds") {
            const std::string text(value());
            try {
                o.seconds = benchmark_support::parse_number(arg, text.c_str(), true);
            } catch (const std::exception& e) {
                usage(e.what());
            }
        } else if (arg == "--no-reference") {
            o.reference = false;
        } else if (arg == "--help" || arg == "-h") {
            usage("help");
        } else {
            usage((std::string("unknown option ") + std::string(arg)).c_str());
        }
    }
    return o;
}

// Poisson trains discretised to dt: each neuron fires in each step with
// probability 1 - exp(-rate dt), drawn by geometric gaps between spikes. Events
// sit exactly on step times, so a neuron never has two events due in one step.
sg::SpikeDataset make_poisson_data(std::size_t examples, int timesteps, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    const double log_no_spike = -double(input_rate_per_ms) * dt;  // log(1 - p)
    sg::SpikeDataset data;
    data.num_inputs = num_inputs;
    data.num_classes = num_outputs;
    for (std::size_t e = 0; e < examples; ++e) {
        std::vector<float> times;
        std::vector<std::uint32_t> ids;
        for (std::uint32_t n = 0; n < num_inputs; ++n) {
            long step = -1;
            for (;;) {
                // Failures before the next success of a Bernoulli(p) process.
                step += 1 + long(std::floor(std::log(1.0 - unit(rng)) / log_no_spike));
                if (step >= timesteps) break;
                times.push_back(float(step) * dt);
                ids.push_back(n);
            }
        }
        data.examples.push_back(sg::make_spike_events(std::move(times), std::move(ids), num_inputs));
        data.labels.push_back(std::int32_t(e % num_outputs));
    }
    return data;
}

// Counts, after every batch, the synaptic events and hidden spikes of that batch.
struct Counter {
    std::uint64_t synaptic_events = 0;
    std::uint64_t hidden_spikes = 0;
    std::uint64_t lanes = 0;
    template <class Simulator>
    void on_batch_end(std::size_t, const sg::BatchResult<Simulator>& result) {
        synaptic_events += result.simulator.synaptic_events();
        for (std::uint64_t n : result.simulator.template spike_totals<hidden_index>()) hidden_spikes += n;
        lanes += result.lanes;
    }
};

struct Figures {
    double seconds = 0;
    std::uint64_t synaptic_events = 0;
    double hidden_rate_hz = 0;
};

benchmark_support::JsonLine make_line(const char* backend, int timesteps, std::size_t batch, unsigned threads,
                                     std::size_t examples, std::size_t passes, const Figures& f) {
    benchmark_support::JsonLine line;
    line.add("benchmark", "inference")
        .add("backend", backend)
        .add("net", "700-256r-20")
        .add("timesteps", timesteps)
        .add("batch", batch)
        .add("threads", threads)
        .add("examples", examples)
        .add("seconds", f.seconds)
        .add("samples_per_s", double(examples) / f.seconds)
        .add("synaptic_events_per_s", double(f.synaptic_events) / f.seconds)
        .add("hidden_rate_hz", f.hidden_rate_hz, 4)
        .add("passes", passes)
        .add("weights_mib", double((num_inputs + num_hidden + num_outputs) * num_hidden * sizeof(float)) / (1 << 20), 4);
    return line;
}

// The naive dense reference: the library's per-neuron update (so the dynamics are
// identical) with dense propagation: in_syn[post] += spike[pre] * w[pre][post] for all pairs.
struct DenseReference {
    std::vector<float> w_in, w_rec, w_out;  // [pre][post]
    sg::LeakyIntegrateFire::Dynamics lif = sg::LeakyIntegrateFire{.tau_mem = 20.0f}.dynamics(dt);
    sg::LeakyIntegrate::Dynamics li = sg::LeakyIntegrate{.tau_mem = 20.0f}.dynamics(dt);
    sg::Exponential::Dynamics syn = sg::Exponential{5.0f}.dynamics(dt);
    sg::NoReadout::Dynamics no_readout{};

    // One example; writes the output readouts and returns the hidden spike count.
    std::uint64_t run(const sg::SpikeEvents& events, int timesteps, float* out) const {
        std::vector<float> in_ff(num_hidden, 0.0f), in_rec(num_hidden, 0.0f), in_out(num_outputs, 0.0f);
        std::vector<float> input_spikes(num_inputs), hidden_spikes(num_hidden, 0.0f);
        std::vector<sg::NeuronState<sg::LeakyIntegrateFire>> h(num_hidden, sg::LeakyIntegrateFire{}.initial_state());
        std::vector<sg::NeuronState<sg::LeakyIntegrate>> o(num_outputs, sg::LeakyIntegrate{}.initial_state());
        const auto readout = sg::AvgVarExpWeight<>{}.dynamics(dt, timesteps);
        std::vector<float> acc(num_outputs, readout.initial);
        float no_acc = 0.0f;
        std::uint64_t spikes = 0;
        std::size_t cursor = 0;
        constexpr int v_index = sg::readout_variable_index<sg::LeakyIntegrate, sg::AvgVarExpWeight<>>;
        for (int step = 0; step < timesteps; ++step) {
            // Neurons (input events lie on step times, one per neuron per step at most).
            std::fill(input_spikes.begin(), input_spikes.end(), 0.0f);
            while (cursor < events.size() && double(events.times[cursor]) <= double(step) * dt)
                input_spikes[events.ids[cursor++]] = 1.0f;
            for (std::size_t j = 0; j < num_hidden; ++j) {
                float isyn = 0.0f;
                isyn += syn.inject(in_ff[j]);
                isyn += syn.inject(in_rec[j]);
                const bool fired = sg::update_neuron<-1>(lif, h[j], isyn, no_readout, no_acc, step);
                hidden_spikes[j] = fired ? 1.0f : 0.0f;
                spikes += fired;
            }
            for (std::size_t k = 0; k < num_outputs; ++k) {
                float isyn = 0.0f;
                isyn += syn.inject(in_out[k]);
                sg::update_neuron<v_index>(li, o[k], isyn, readout, acc[k], step);
            }
            // Dense propagation, in connection order.
            dense(input_spikes.data(), num_inputs, w_in.data(), in_ff.data(), num_hidden);
            dense(hidden_spikes.data(), num_hidden, w_rec.data(), in_rec.data(), num_hidden);
            dense(hidden_spikes.data(), num_hidden, w_out.data(), in_out.data(), num_outputs);
        }
        for (std::size_t k = 0; k < num_outputs; ++k) out[k] = readout.result(acc[k]);
        return spikes;
    }

    static void dense(const float* spikes, std::size_t pre, const float* w, float* in_syn, std::size_t post) {
        for (std::size_t i = 0; i < pre; ++i) {
            const float s = spikes[i];
            const float* row = w + i * post;
            for (std::size_t j = 0; j < post; ++j) in_syn[j] += s * row[j];
        }
    }
};

// Runs the reference over the dataset in batches, lanes spread over threads
// (as the library's lane-parallel mode does).
Figures run_reference(const DenseReference& ref, const sg::SpikeDataset& data, int timesteps, std::size_t batch,
                      unsigned threads, std::vector<float>& outputs, std::uint64_t synaptic_events) {
    outputs.assign(data.size() * num_outputs, 0.0f);
    std::vector<std::uint64_t> spikes(data.size(), 0);
    const auto start = std::chrono::steady_clock::now();
    for (std::size_t first = 0; first < data.size(); first += batch) {
        const std::size_t lanes = std::min(batch, data.size() - first);
        const unsigned workers = unsigned(std::min<std::size_t>(threads, lanes));
        std::vector<std::thread> pool;
        for (unsigned t = 0; t < workers; ++t)
            pool.emplace_back([&, t] {
                sg::cpu_backend::FlushDenormalsGuard flush;  // as the library's threads
                for (std::size_t lane = t; lane < lanes; lane += workers) {
                    const std::size_t e = first + lane;
                    spikes[e] = ref.run(data.examples[e], timesteps, outputs.data() + e * num_outputs);
                }
            });
        for (auto& thread : pool) thread.join();
    }
    const auto stop = std::chrono::steady_clock::now();
    Figures f;
    f.seconds = std::chrono::duration<double>(stop - start).count();
    // The same useful work (spike x synapse additions) as the event-driven run,
    // so the two events/s figures compare directly.
    f.synaptic_events = synaptic_events;
    std::uint64_t total = 0;
    for (auto n : spikes) total += n;
    f.hidden_rate_hz = double(total) / (double(num_hidden) * double(data.size()) * timesteps * dt) * 1000.0;
    return f;
}

// What one measurement found: the counts of a pass (every pass simulates
// the same examples with the same weights) and the dense reference's lines.
struct Measured {
    Figures figures;                                           // seconds: not yet known
    std::vector<benchmark_support::JsonLine> reference_lines;  // the dense reference, when run
};

// Passes of the compiled net over the examples, at least o.repeats and until
// o.seconds have passed; their seconds are appended to `times`. With
// `reference`, the dense reference is timed too (o.repeats passes) and its
// outputs compared with the library's.
Measured measure(const Options& o, const sg::SpikeDataset& data, const sg::SpikeDataset& warm_up, int timesteps,
                 std::size_t examples, unsigned threads, bool reference, std::vector<double>& times) {
    Measured m;
    auto model = sg::InferenceCompiler{.example_timesteps = timesteps,
                                       .batch_size = o.batch,
                                       .dt = dt,
                                       .seed = 1234,
                                       .num_threads = o.threads,
                                       .verbose = false}
                     .compile<sg::cpu>(net);
    (void)model.predict(warm_up);  // one untimed batch: page faults, thread start-up

    Counter counter;
    sg::Predictions predictions;
    std::vector<double> own_times;
    const auto start = std::chrono::steady_clock::now();
    for (unsigned pass = 0; pass < o.repeats || benchmark_support::seconds_since(start) < o.seconds; ++pass) {
        counter = Counter{};
        const auto pass_start = std::chrono::steady_clock::now();
        predictions = model.predict(data, counter);
        own_times.push_back(benchmark_support::seconds_since(pass_start));
    }
    times.insert(times.end(), own_times.begin(), own_times.end());

    Figures& f = m.figures;
    f.synaptic_events = counter.synaptic_events;
    f.hidden_rate_hz =
        double(counter.hidden_spikes) / (double(num_hidden) * double(counter.lanes) * timesteps * dt) * 1000.0;

    if (reference && o.reference && timesteps == 100) {
        DenseReference ref;
        ref.w_in = model.weights<"input_hidden">();
        ref.w_rec = model.weights<"hidden_hidden">();
        ref.w_out = model.weights<"hidden_output">();
        std::vector<float> ref_outputs;
        std::vector<double> ref_times;
        Figures r;
        for (unsigned k = 0; k < o.repeats; ++k) {
            r = run_reference(ref, data, timesteps, o.batch, threads, ref_outputs, f.synaptic_events);
            ref_times.push_back(r.seconds);
        }
        r.seconds = benchmark_support::median(ref_times);
        double max_diff = 0.0;
        for (std::size_t i = 0; i < ref_outputs.size(); ++i)
            max_diff = std::max(max_diff, double(std::fabs(ref_outputs[i] - predictions.values[i])));
        auto line = make_line("cpu_dense_reference", timesteps, o.batch, threads, examples, o.repeats, r);
        line.add("event_driven_speedup", r.seconds / benchmark_support::median(own_times), 4)
            .add("reference_max_abs_diff", max_diff, 3)
            .add("note", "naive dense loop: every synapse every step");
        m.reference_lines.push_back(line);
    }
    return m;
}

int run_benchmark(const Options& o) {
    const unsigned threads = benchmark_support::resolved_threads(o.threads);
    for (const int timesteps : o.timesteps) {
        const std::size_t examples = o.examples ? o.examples : (timesteps <= 100 ? 256 : 64);
        // Data and compile are outside the timed region.
        const sg::SpikeDataset data = make_poisson_data(examples, timesteps, 0x5eed0000u + std::uint64_t(timesteps));
        sg::SpikeDataset warm_up;
        warm_up.num_inputs = data.num_inputs;
        warm_up.num_classes = data.num_classes;
        for (std::size_t e = 0; e < std::min(o.batch, examples); ++e) {
            warm_up.examples.push_back(data.examples[e]);
            warm_up.labels.push_back(data.labels[e]);
        }

        std::fprintf(stderr, "inference_benchmark: T = %d, %zu examples, batch %zu, %u threads\n", timesteps, examples,
                     o.batch, threads);
        std::vector<double> times;
        // The model is gone before any peer runs.
        const Measured m = measure(o, data, warm_up, timesteps, examples, threads, true, times);
        const std::vector<benchmark_support::PeerResult> peers = benchmark_support::run_peers_on(
            o.common, "inference", "inference_T" + std::to_string(timesteps), data, timesteps, dt, o.batch,
            1000.0 * input_rate_per_ms, 0x5eed0000u + std::uint64_t(timesteps), 0.0, network_json(), threads);
        if (!peers.empty()) (void)measure(o, data, warm_up, timesteps, examples, threads, false, times);

        Figures f = m.figures;
        f.seconds = benchmark_support::median(times);
        const double samples_per_s = double(examples) / f.seconds;
        auto line = make_line("cpu", timesteps, o.batch, threads, examples, times.size(), f);
        line.add("peak_memory_mib", benchmark_support::peak_resident_mib(), 5);
        benchmark_support::add_roofline(line, double(f.synaptic_events) / f.seconds, o.common.memory_bandwidth_gb_s);
        benchmark_support::print_with_peers(line, peers, samples_per_s);
        for (const auto& reference : m.reference_lines) reference.print();
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return run_benchmark(parse(argc, argv));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "inference_benchmark: %s\n", e.what());
        return 1;
    }
}
