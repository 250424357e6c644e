// Fashion-MNIST (Zalando's 28x28 images of 10 kinds of clothing), latency-encoded
// and trained with EventProp on the CPU backend: the network and encoding of
// mnist_eventprop (after mlGeNN's latency MNIST example) on the full 60,000
// training and 10,000 test images of Debian's dataset-fashion-mnist package.
//
//   fashion_mnist_eventprop [--epochs N] [--batch B] [--threads T] [--train N] [--data DIR]
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <spikegraph/data/idx.hpp>
#include <spikegraph/spikegraph.hpp>

namespace sg = spikegraph;

namespace {

constexpr std::size_t num_pixels = 28 * 28;
constexpr std::size_t num_hidden = 256;
constexpr int example_timesteps = 20;  // 20 ms at dt = 1 ms
constexpr float dt = 1.0f;

// mlGeNN's linear latency encoding: intensity 255 spikes at 2 ms, 2 at almost
// 18 ms, 0 and 1 (the background) never.
constexpr sg::LinearLatency latency{.max_time = 18.0, .min_time = 2.0, .thresh = 1.0};

// mlGeNN's EventProp defaults: absolute reset, no integration while
// refractory, scaled input currents.
constexpr sg::LeakyIntegrateFire lif{.v_thresh = 1.0f,
                                     .tau_mem = 20.0f,
                                     .relative_reset = false,
                                     .integrate_during_refrac = false,
                                     .scale_i = true};
constexpr sg::Exponential synapse{.tau = 5.0f, .scale_i = true};

constexpr auto net = sg::sequential(
    sg::InputLayer<num_pixels>(sg::SpikeInput{}),
    sg::Layer<num_hidden, "hidden">(lif, sg::Dense{sg::Normal{0.078f, 0.045f}}, synapse),
    sg::Layer<10, "output">(sg::LeakyIntegrate{.tau_mem = 20.0f, .scale_i = true}, sg::Dense{sg::Normal{0.2f, 0.37f}},
                            synapse, sg::AvgVar{}));

constexpr float initial_learning_rate = 1e-2f;
constexpr float learning_rate_decay = 0.8f;  // per epoch

constexpr const char* class_names[10] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                         "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

std::size_t parse_count(std::string_view option, const char* text) {
    char* end = nullptr;
    const unsigned long long value = std::strtoull(text, &end, 10);
    if (end == text || *end != '\0' || value == 0 || text[0] == '-') {
        std::fprintf(stderr, "fashion_mnist_eventprop: %.*s needs a positive integer, got '%s'\n", int(option.size()),
                     option.data(), text);
        std::exit(2);
    }
    return std::size_t(value);
}

bool has_split(const std::filesystem::path& directory, const std::string& split) {
    auto exists = [&](const std::string& name) {
        return std::filesystem::exists(directory / name) || std::filesystem::exists(directory / (name + ".gz"));
    };
    return exists(split + "-images-idx3-ubyte") && exists(split + "-labels-idx1-ubyte");
}

}  // namespace

int main(int argc, char** argv) try {
    std::size_t epochs = 10;
    std::size_t batch_size = 32;
    std::size_t threads = 0;
    std::size_t num_train = 60000;
    std::filesystem::path data_directory(sg::fashion_mnist_debian_directory);
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--epochs" && i + 1 < argc) epochs = parse_count(arg, argv[++i]);
        else if (arg == "--batch" && i + 1 < argc) batch_size = parse_count(arg, argv[++i]);
        else if (arg == "--threads" && i + 1 < argc) threads = parse_count(arg, argv[++i]);
        else if (arg == "--train" && i + 1 < argc) num_train = parse_count(arg, argv[++i]);
        else if (arg == "--data" && i + 1 < argc) data_directory = argv[++i];
        else if (arg == "--help" || arg == "-h") {
            std::printf("usage: %s [--epochs N] [--batch B] [--threads T] [--train N] [--data DIR]\n"
                        "  --epochs N   training epochs (default 10)\n"
                        "  --batch B    examples per gradient step (default 32)\n"
                        "  --threads T  CPU threads (default: all)\n"
                        "  --train N    train on a stratified subset of N of the 60,000 images (default: all)\n"
                        "  --data DIR   folder with Fashion-MNIST's train-* and t10k-* IDX files, plain or .gz\n"
                        "               (default: %s, from Debian's dataset-fashion-mnist)\n",
                        argv[0], std::string(sg::fashion_mnist_debian_directory).c_str());
            return 0;
        } else {
            std::fprintf(stderr, "fashion_mnist_eventprop: unknown or incomplete argument '%s' (try --help)\n",
                         argv[i]);
            return 2;
        }
    }
    if (!has_split(data_directory, "train") || !has_split(data_directory, "t10k")) {
        std::fprintf(stderr,
                     "fashion_mnist_eventprop: Fashion-MNIST is not in '%s'.\n"
                     "Install Debian's package:  sudo apt-get install dataset-fashion-mnist\n"
                     "(it puts train-*-ubyte.gz and t10k-*-ubyte.gz in %s), or pass --data DIR.\n",
                     data_directory.string().c_str(), std::string(sg::fashion_mnist_debian_directory).c_str());
        return 2;
    }

    const auto start = std::chrono::steady_clock::now();
    sg::ValueDataset train_images = sg::load_mnist(data_directory, "train");
    const sg::ValueDataset test_images = sg::load_mnist(data_directory, "t10k");
    if (num_train < train_images.size()) train_images = sg::stratified_split(train_images, num_train, 1).first;
    const sg::SpikeDataset train = sg::linear_latency_encode(train_images, latency);
    const sg::SpikeDataset test = sg::linear_latency_encode(test_images, latency);
    std::printf("Fashion-MNIST from %s: %zu training, %zu test examples; one spike per pixel > %.0f, "
                "at 2 ms (255) to 18 ms (0)\n",
                data_directory.string().c_str(), train.size(), test.size(), latency.thresh);

    auto model = sg::EventPropCompiler{.example_timesteps = example_timesteps,
                                       .loss = sg::SparseCategoricalCrossentropy{},
                                       .optimiser = sg::Adam{.lr = initial_learning_rate},
                                       .batch_size = batch_size,
                                       .dt = dt,
                                       .seed = 1,
                                       .num_threads = unsigned(threads)}
                     .compile<sg::cpu>(net);
    std::printf("Network: 784 spike inputs -> %zu LIF -> 10 LI (mean voltage readout), %d steps of %.0f ms;\n"
                "EventProp, Adam %.0e decaying %.0f%% an epoch, batch %zu, %zu epochs\n",
                num_hidden, example_timesteps, double(dt), double(initial_learning_rate),
                100.0 * (1.0 - double(learning_rate_decay)), batch_size, epochs);
    std::fflush(stdout);  // keep this text ahead of the progress bars on stderr

    model.train(train, {.epochs = int(epochs), .shuffle_seed = 1}, sg::ProgressBar{},
                sg::LearningRateSchedule{[](int epoch, float) {
                    return initial_learning_rate * std::pow(learning_rate_decay, float(epoch));
                }});

    // Accuracy per class from the predicted classes (the highest mean voltage).
    const std::vector<std::size_t> predicted = model.predict(test, sg::ProgressBar{}).classes();
    std::size_t correct[10] = {}, total[10] = {};
    for (std::size_t e = 0; e < predicted.size(); ++e) {
        const auto label = std::size_t(test.labels[e]);
        ++total[label];
        if (predicted[e] == label) ++correct[label];
    }
    std::size_t all_correct = 0;
    for (std::size_t c = 0; c < 10; ++c) {
        std::printf("  %-12s %6.2f%% of %zu\n", class_names[c], 100.0 * double(correct[c]) / double(total[c]), total[c]);
        all_correct += correct[c];
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("Test accuracy: %.2f%% on %zu examples (chance: 10.00%%), %.1f s in total\n",
                100.0 * double(all_correct) / double(test.size()), test.size(), seconds);
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "fashion_mnist_eventprop: %s\n", e.what());
    return 1;
}
