// Quickstart: the Yin-Yang task set up as mlGeNN's EventProp example
// (ml_genn/examples/event_prop/yin_yang.py), evaluated with the CPU backend.
//
//   quickstart [--examples N] [--batch B]
//
// The library has no training compiler yet (EventProp is next), so the network
// keeps its random initial weights and its accuracy is near chance (1/3).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>

#include <spikegraph/spikegraph.hpp>

namespace sg = spikegraph;

namespace {

// The example's time grid: 30 ms at dt = 0.01 ms; features spike in [0, 29.96] ms.
constexpr float dt = 0.01f;
constexpr int example_timesteps = 3000;  // EXAMPLE_TIME / DT = 30 ms / 0.01 ms

// mlGeNN's EventProp defaults for LIF: absolute reset, no integration while
// refractory, scaled input; tau_refrac=None there is 0 here.
constexpr sg::LeakyIntegrateFire lif{.v_thresh = 1.0f,
                                     .tau_mem = 20.0f,
                                     .relative_reset = false,
                                     .integrate_during_refrac = false,
                                     .scale_i = true};
constexpr sg::Exponential synapse{.tau = 5.0f, .scale_i = true};

// 5 inputs (bias + x, y, 1-x, 1-y) -> 100 LIF -> 3 LIF read out by time to first spike.
constexpr auto net = sg::sequential(
    sg::InputLayer<5>(sg::SpikeInput{}),
    sg::Layer<100, "hidden">(lif, sg::Dense{sg::Normal{1.5f, 0.78f}}, synapse),
    sg::Layer<3, "output">(lif, sg::Dense{sg::Normal{0.93f, 0.1f}}, synapse, sg::FirstSpikeTime{}));

std::size_t parse_count(std::string_view option, const char* text) {
    char* end = nullptr;
    const unsigned long long value = std::strtoull(text, &end, 10);
    if (end == text || *end != '\0' || value == 0 || text[0] == '-') {
        std::fprintf(stderr, "quickstart: %.*s needs a positive integer, got '%s'\n", int(option.size()),
                     option.data(), text);
        std::exit(2);
    }
    return std::size_t(value);
}

}  // namespace

int main(int argc, char** argv) try {
    std::size_t max_examples = 0;  // 0: the whole test set
    std::size_t batch_size = 512;  // as the mlGeNN example
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if ((arg == "--examples" || arg == "--batch") && i + 1 < argc) {
            (arg == "--examples" ? max_examples : batch_size) = parse_count(arg, argv[++i]);
        } else if (arg == "--help" || arg == "-h") {
            std::printf("usage: %s [--examples N] [--batch B]\n"
                        "  --examples N  evaluate N test examples (default: 1000, the reference test set)\n"
                        "  --batch B     examples simulated at once (default: 512)\n",
                        argv[0]);
            return 0;
        } else {
            std::fprintf(stderr, "quickstart: unknown argument '%s' (try --help)\n", argv[i]);
            return 2;
        }
    }

    const auto start = std::chrono::steady_clock::now();
    // The reference splits (seeds 42/41/40), bit-identical to the Python generator.
    // A shorter test set is a prefix of the full one (same seed, same stream).
    const auto splits = sg::datasets::yin_yang_splits(5000, 1000, max_examples > 0 ? max_examples : 1000);
    const sg::datasets::YinYangEncoding encoding{};  // scale 29.96 ms = EXAMPLE_TIME - 4 DT, bias neuron on
    const sg::SpikeDataset train = sg::datasets::encode_yin_yang(splits.train, encoding);
    const sg::SpikeDataset test = sg::datasets::encode_yin_yang(splits.test, encoding);
    std::printf("Yin-Yang: %zu training, %zu validation, %zu test examples; %zu input neurons "
                "(bias + x, y, 1-x, 1-y), spike times in [0, %.2f] ms\n",
                train.size(), splits.validation.size(), test.size(), test.num_inputs, double(encoding.scale));

    auto model = sg::InferenceCompiler{.example_timesteps = example_timesteps, .batch_size = batch_size, .dt = dt}
                     .compile<sg::cpu>(net);
    std::printf("Network: 5 spike inputs -> 100 LIF -> 3 LIF (first-spike-time readout), %d steps of %.2f ms\n",
                example_timesteps, double(dt));
    std::printf("NOTE: the weights are UNTRAINED (random initialisation): spikegraph has no EventProp\n"
                "      compiler yet, so the accuracy below is expected near chance (1/3).\n");

    std::fflush(stdout);  // keep this text ahead of the progress bar on stderr
    const sg::Metrics metrics = model.evaluate(test, sg::ProgressBar{});
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("Test accuracy (untrained): %.2f%% on %zu examples (chance: 33.33%%), %.2f s in total\n",
                100.0 * metrics.at("sparse_categorical_accuracy"), test.size(), seconds);
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "quickstart: %s\n", e.what());
    return 1;
}
