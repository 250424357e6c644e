// MNIST digits, latency-encoded, trained with EventProp on the CPU backend, set
// up after mlGeNN's latency MNIST example (ml_genn/examples/eventprop/latency_mnist.py):
// 784 spike inputs -> LIF hidden layer -> 10 leaky integrators read out by their
// mean membrane voltage, 20 steps of 1 ms, Adam(1e-2), batches of 32.
//
// Only MNIST's 10,000 test images are available (../shared/data/mnist), so they
// are split 8,000 for training and 2,000 for testing (stratified, fixed seed).
// With 8,000 images the mlGeNN network (128 hidden neurons) overfits at about
// 95% test accuracy however long it trains. Shifting every training image by
// up to 2 pixels in each direction, anew each epoch (as mlGeNN's
// latency_mnist_augment.py does with normally distributed shifts), with 256
// hidden neurons, 40 epochs and a learning rate decaying by 5% per epoch
// reaches about 97.5% (97.55% with the defaults; under a minute on 2 cores).
//
//   mnist_eventprop [--epochs N] [--batch B] [--threads T] [--shift P] [--data DIR]
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <random>
#include <string>
#include <string_view>

#include <spikegraph/data/idx.hpp>
#include <spikegraph/spikegraph.hpp>

namespace sg = spikegraph;

namespace {

constexpr std::size_t image_side = 28;
constexpr std::size_t num_pixels = image_side * image_side;
constexpr std::size_t num_hidden = 256;
constexpr int example_timesteps = 20;  // 20 ms at dt = 1 ms
constexpr float dt = 1.0f;
constexpr std::uint64_t split_seed = 42;

// mlGeNN's linear_latency_encode_data(images, EXAMPLE_TIME - 2 DT, 2 DT): pixel
// 255 spikes at 2 ms, pixel 2 at almost 18 ms, pixels <= 1 never.
constexpr sg::LinearLatency latency{.max_time = 18.0, .min_time = 2.0, .thresh = 1.0};

// mlGeNN's EventProp defaults: absolute reset, no integration while
// refractory (tau_refrac None there, 0 here), scaled input currents.
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
constexpr float learning_rate_decay = 0.95f;  // per epoch

std::size_t parse_count(std::string_view option, const char* text, std::size_t minimum) {
    char* end = nullptr;
    const unsigned long long value = std::strtoull(text, &end, 10);
    if (end == text || *end != '\0' || text[0] == '-' || value < minimum) {
        std::fprintf(stderr, "mnist_eventprop: %.*s needs an integer >= %zu, got '%s'\n", int(option.size()),
                     option.data(), minimum, text);
        std::exit(2);
    }
    return std::size_t(value);
}

// --data, else $SPIKEGRAPH_SHARED_DATA/mnist, else the shared folder next to
// this source tree (SPIKEGRAPH_EXAMPLES_SHARED_DATA, set by examples/CMakeLists.txt).
std::filesystem::path default_data_directory() {
    if (const char* root = std::getenv("SPIKEGRAPH_SHARED_DATA"); root != nullptr && *root != '\0')
        return std::filesystem::path(root) / "mnist";
#ifdef SPIKEGRAPH_EXAMPLES_SHARED_DATA
    return std::filesystem::path(SPIKEGRAPH_EXAMPLES_SHARED_DATA) / "mnist";
#else
    return std::filesystem::path("..") / "shared" / "data" / "mnist";
#endif
}

bool has_file(const std::filesystem::path& directory, const std::string& name) {
    return std::filesystem::exists(directory / name) || std::filesystem::exists(directory / (name + ".gz"));
}

// Each image moved by (dx, dy), both uniform in [-max_shift, max_shift];
// pixels moved in from outside are 0. The generator is std::mt19937, whose
// output the standard fixes, so the shifts are the same on every platform.
sg::ValueDataset shifted_images(const sg::ValueDataset& images, int max_shift, std::mt19937& rng) {
    sg::ValueDataset out = images;
    const auto choices = std::uint32_t(2 * max_shift + 1);
    for (std::size_t e = 0; e < images.size(); ++e) {
        const int dx = int(rng() % choices) - max_shift;
        const int dy = int(rng() % choices) - max_shift;
        const float* source = images.example(e);
        float* target = out.values.data() + e * num_pixels;
        for (int y = 0; y < int(image_side); ++y)
            for (int x = 0; x < int(image_side); ++x) {
                const int sx = x - dx, sy = y - dy;
                const bool inside = sx >= 0 && sx < int(image_side) && sy >= 0 && sy < int(image_side);
                target[std::size_t(y) * image_side + std::size_t(x)] =
                    inside ? source[std::size_t(sy) * image_side + std::size_t(sx)] : 0.0f;
            }
    }
    return out;
}

// A ProgressBar titled "epoch k/N": every train() call below runs one epoch
// (each on freshly shifted images), so the library's own title would read "k/k".
struct EpochProgress {
    sg::ProgressBar bar;
    std::string title;
    void on_run_begin(const sg::RunInfo& info) {
        sg::RunInfo titled = info;
        titled.phase = title;
        bar.on_run_begin(titled);
    }
    template <class Simulator>
    void on_batch_end(std::size_t batch, const sg::BatchResult<Simulator>& result) {
        bar.on_batch_end(batch, result);
    }
    void on_run_end(const sg::Metrics& metrics) { bar.on_run_end(metrics); }
};

}  // namespace

int main(int argc, char** argv) try {
    std::size_t epochs = 40;
    std::size_t batch_size = 32;
    std::size_t threads = 0;
    std::size_t max_shift = 2;
    std::filesystem::path data_directory;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--epochs" && i + 1 < argc) epochs = parse_count(arg, argv[++i], 1);
        else if (arg == "--batch" && i + 1 < argc) batch_size = parse_count(arg, argv[++i], 1);
        else if (arg == "--threads" && i + 1 < argc) threads = parse_count(arg, argv[++i], 1);
        else if (arg == "--shift" && i + 1 < argc) max_shift = parse_count(arg, argv[++i], 0);
        else if (arg == "--data" && i + 1 < argc) data_directory = argv[++i];
        else if (arg == "--help" || arg == "-h") {
            std::printf("usage: %s [--epochs N] [--batch B] [--threads T] [--shift P] [--data DIR]\n"
                        "  --epochs N   training epochs (default 40)\n"
                        "  --batch B    examples per gradient step (default 32)\n"
                        "  --threads T  CPU threads (default: all)\n"
                        "  --shift P    shift training images by up to P pixels, anew each epoch (default 2; 0: off)\n"
                        "  --data DIR   folder with t10k-images-idx3-ubyte[.gz] and t10k-labels-idx1-ubyte[.gz]\n"
                        "               (default: $SPIKEGRAPH_SHARED_DATA/mnist, else %s)\n",
                        argv[0], default_data_directory().string().c_str());
            return 0;
        } else {
            std::fprintf(stderr, "mnist_eventprop: unknown or incomplete argument '%s' (try --help)\n", argv[i]);
            return 2;
        }
    }
    if (max_shift >= image_side) {
        std::fprintf(stderr, "mnist_eventprop: --shift must be below %zu, got %zu\n", image_side, max_shift);
        return 2;
    }
    if (data_directory.empty()) data_directory = default_data_directory();
    if (!has_file(data_directory, "t10k-images-idx3-ubyte") || !has_file(data_directory, "t10k-labels-idx1-ubyte")) {
        std::fprintf(stderr,
                     "mnist_eventprop: MNIST's t10k-images-idx3-ubyte[.gz] and t10k-labels-idx1-ubyte[.gz] are not "
                     "both in '%s'; pass --data DIR or set SPIKEGRAPH_SHARED_DATA (the folder holding mnist/)\n",
                     data_directory.string().c_str());
        return 2;
    }

    const auto start = std::chrono::steady_clock::now();
    const sg::ValueDataset all = sg::load_mnist(data_directory, "t10k");
    const auto [train_images, test_images] = sg::stratified_split(all, 8000, split_seed);
    const sg::SpikeDataset test = sg::linear_latency_encode(test_images, latency);
    std::printf("MNIST t10k from %s: %zu training, %zu test examples (stratified, seed %llu); one spike per pixel "
                "> %.0f, at 2 ms (255) to 18 ms (0)\n",
                data_directory.string().c_str(), train_images.size(), test.size(),
                static_cast<unsigned long long>(split_seed), latency.thresh);

    auto model = sg::EventPropCompiler{.example_timesteps = example_timesteps,
                                       .loss = sg::SparseCategoricalCrossentropy{},
                                       .optimiser = sg::Adam{.lr = initial_learning_rate},
                                       .batch_size = batch_size,
                                       .dt = dt,
                                       .seed = 1,
                                       .num_threads = unsigned(threads),
                                       .verbose = false}  // EpochProgress draws the bar
                     .compile<sg::cpu>(net);
    std::printf("Network: 784 spike inputs -> %zu LIF -> 10 LI (mean voltage readout), %d steps of %.0f ms;\n"
                "EventProp, Adam %.0e decaying %.0f%% an epoch, batch %zu, %zu epochs, shifts up to %zu px\n",
                num_hidden, example_timesteps, double(dt), double(initial_learning_rate),
                100.0 * (1.0 - double(learning_rate_decay)), batch_size, epochs, max_shift);
    std::fflush(stdout);  // keep this text ahead of the progress bars on stderr

    std::mt19937 shift_rng(7);
    sg::LearningRateSchedule schedule{
        [](int epoch, float) { return initial_learning_rate * std::pow(learning_rate_decay, float(epoch)); }};
    sg::SpikeDataset train;
    for (std::size_t epoch = 0; epoch < epochs; ++epoch) {
        if (max_shift > 0)
            train = sg::linear_latency_encode(shifted_images(train_images, int(max_shift), shift_rng), latency);
        else if (epoch == 0)
            train = sg::linear_latency_encode(train_images, latency);
        EpochProgress progress{sg::ProgressBar{}, "epoch " + std::to_string(epoch + 1) + "/" + std::to_string(epochs)};
        model.train(train, {.epochs = int(epoch) + 1, .shuffle_seed = 1}, progress, schedule);
    }

    const sg::Metrics metrics = model.evaluate(test, sg::ProgressBar{});
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("Test accuracy: %.2f%% on %zu examples (chance: 10.00%%), %.1f s in total\n",
                100.0 * metrics.at("sparse_categorical_accuracy"), test.size(), seconds);
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "mnist_eventprop: %s\n", e.what());
    return 1;
}
