// Quickstart: the Yin-Yang task set up as mlGeNN's EventProp example
// (ml_genn/examples/event_prop/yin_yang.py), trained with EventProp on the CPU
// backend and evaluated on the held-out test set.
//
//   quickstart [--epochs N] [--batch B] [--train N] [--threads T]
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>

#include <spikegraph/spikegraph.hpp>

namespace sg = spikegraph;

namespace {

// The example's time: 30 ms; features spike in [0, 29.96] ms. mlGeNN steps
// this at dt = 0.01 ms because its spike times are whole steps; EventProp here
// places spikes inside their step (docs/event_prop.md), so 0.1 ms steps give
// the same spike timing and train ten times faster.
constexpr float dt = 0.1f;
constexpr int example_timesteps = 300;  // 30 ms / 0.1 ms

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
    std::size_t epochs = 40;
    std::size_t batch_size = 32;
    std::size_t num_train = 15360;  // mlGeNN's example: 512 x 10 x 3
    std::size_t threads = 0;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if ((arg == "--epochs" || arg == "--batch" || arg == "--train" || arg == "--threads") && i + 1 < argc) {
            std::size_t& target = arg == "--epochs" ? epochs : arg == "--batch" ? batch_size : arg == "--train" ? num_train : threads;
            target = parse_count(arg, argv[++i]);
        } else if (arg == "--help" || arg == "-h") {
            std::printf("usage: %s [--epochs N] [--batch B] [--train N] [--threads T]\n"
                        "  --epochs N   training epochs (default 40)\n"
                        "  --batch B    examples per gradient step (default 32)\n"
                        "  --train N    training examples (default 15360, as mlGeNN's example)\n"
                        "  --threads T  CPU threads (default: all)\n",
                        argv[0]);
            return 0;
        } else {
            std::fprintf(stderr, "quickstart: unknown argument '%s' (try --help)\n", argv[i]);
            return 2;
        }
    }

    const auto start = std::chrono::steady_clock::now();
    // The reference generator's seeds (42/41/40), bit-identical to the Python generator;
    // validation and test sets of the reference size (1000).
    const auto splits = sg::datasets::yin_yang_splits(num_train, 1000, 1000);
    const sg::datasets::YinYangEncoding encoding{};  // scale 29.96 ms = EXAMPLE_TIME - 4 DT, bias neuron on
    const sg::SpikeDataset train = sg::datasets::encode_yin_yang(splits.train, encoding);
    const sg::SpikeDataset validation = sg::datasets::encode_yin_yang(splits.validation, encoding);
    const sg::SpikeDataset test = sg::datasets::encode_yin_yang(splits.test, encoding);
    std::printf("Yin-Yang: %zu training, %zu validation, %zu test examples; %zu input neurons "
                "(bias + x, y, 1-x, 1-y), spike times in [0, %.2f] ms\n",
                train.size(), validation.size(), test.size(), test.num_inputs, double(encoding.scale));

    // As mlGeNN's example: Adam with beta2 0.99, softmax temperature 0.5 and
    // ttfs_alpha 0.1 in the time-to-first-spike loss. mlGeNN trains with batch
    // 512 at learning rate 0.003 * 0.998^epoch; at batch 32 (16x more steps
    // per epoch) the rate is 0.001 * 0.95^epoch.
    auto model = sg::EventPropCompiler{.example_timesteps = example_timesteps,
                                       .loss = sg::SparseCategoricalCrossentropy{},
                                       .optimiser = sg::Adam{.lr = 0.001f, .beta1 = 0.9f, .beta2 = 0.99f},
                                       .batch_size = batch_size,
                                       .dt = dt,
                                       .seed = 1,
                                       .num_threads = unsigned(threads),
                                       .softmax_temperature = 0.5f,
                                       .ttfs_alpha = 0.1f}
                     .compile<sg::cpu>(net);
    std::printf("Network: 5 spike inputs -> 100 LIF -> 3 LIF (time-to-first-spike readout), %d steps of %.2f ms;\n"
                "EventProp, batch %zu, %zu epochs\n",
                example_timesteps, double(dt), batch_size, epochs);
    std::fflush(stdout);  // keep this text ahead of the progress bar on stderr

    const sg::History history =
        model.train(train, validation, {.epochs = int(epochs)}, sg::ProgressBar{},
                    sg::LearningRateSchedule{[](int epoch, float) { return 0.001f * std::pow(0.95f, float(epoch)); }});
    const sg::Metrics metrics = model.evaluate(test, sg::ProgressBar{});
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("Validation accuracy after the last epoch: %.2f%%\n",
                100.0 * history.last().at("val_sparse_categorical_accuracy"));
    std::printf("Test accuracy: %.2f%% on %zu examples (chance: 33.33%%), %.1f s in total\n",
                100.0 * metrics.at("sparse_categorical_accuracy"), test.size(), seconds);
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "quickstart: %s\n", e.what());
    return 1;
}
