// EventProp learns a real task: latency-encoded MNIST digits (the shared t10k
// files), a 2,000-example training subset and 500 held-out test examples, the
// network of mlGeNN's latency MNIST example (examples/mnist_eventprop.cpp is
// the full run). Chance is 10%; a few epochs reach about 90%. A broken
// gradient (wrong sign, wrong jump, missing term) leaves the accuracy far below
// the threshold; the test takes a few seconds in a Release build.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <string>

#include <spikegraph/data/idx.hpp>
#include <spikegraph/spikegraph.hpp>

namespace sg = spikegraph;
namespace fs = std::filesystem;

namespace {

constexpr sg::LeakyIntegrateFire lif{.v_thresh = 1.0f,
                                     .tau_mem = 20.0f,
                                     .relative_reset = false,
                                     .integrate_during_refrac = false,
                                     .scale_i = true};
constexpr sg::Exponential synapse{.tau = 5.0f, .scale_i = true};

constexpr auto net = sg::sequential(
    sg::InputLayer<784>(sg::SpikeInput{}),
    sg::Layer<128, "hidden">(lif, sg::Dense{sg::Normal{0.078f, 0.045f}}, synapse),
    sg::Layer<10, "output">(sg::LeakyIntegrate{.tau_mem = 20.0f, .scale_i = true}, sg::Dense{sg::Normal{0.2f, 0.37f}},
                            synapse, sg::AvgVar{}));

}  // namespace

TEST_CASE("EventProp learns latency-encoded MNIST well above chance", "[event_prop][learning][real-data]") {
    const char* root = std::getenv("SPIKEGRAPH_SHARED_DATA");
    const fs::path directory = root != nullptr ? fs::path(root) / "mnist" : fs::path();
    const bool present = root != nullptr && *root != '\0' &&
                         fs::exists(directory / "t10k-images-idx3-ubyte.gz") &&
                         fs::exists(directory / "t10k-labels-idx1-ubyte.gz");
    if (!present) {
        WARN("SKIPPED: " << (root ? "no MNIST t10k files in " + directory.string()
                                  : std::string("SPIKEGRAPH_SHARED_DATA is not set"))
                         << "; the EventProp MNIST learning test did not run");
        return;
    }

    // 2,000 training and 500 test examples, disjoint, both stratified.
    const sg::ValueDataset all = sg::load_mnist(directory, "t10k");
    const auto [train_images, rest] = sg::stratified_split(all, 2000, 11);
    const sg::ValueDataset test_images = sg::stratified_split(rest, 500, 12).first;
    // mlGeNN's encoding: pixel 255 spikes at 2 ms, pixel 2 at almost 18 ms, pixels <= 1 never.
    const sg::LinearLatency latency{.max_time = 18.0, .min_time = 2.0, .thresh = 1.0};
    const sg::SpikeDataset train = sg::linear_latency_encode(train_images, latency);
    const sg::SpikeDataset test = sg::linear_latency_encode(test_images, latency);
    REQUIRE(train.size() == 2000);
    REQUIRE(test.size() == 500);

    auto model = sg::EventPropCompiler{.example_timesteps = 20,
                                       .loss = sg::SparseCategoricalCrossentropy{},
                                       .optimiser = sg::Adam{.lr = 1e-2f},
                                       .batch_size = 32,
                                       .dt = 1.0f,
                                       .seed = 3,
                                       .num_threads = 2,
                                       .verbose = false}
                     .compile<sg::cpu>(net);

    const sg::Metrics before = model.evaluate_with_loss(test);
    const sg::History history = model.train(train, {.epochs = 8, .shuffle_seed = 5});
    const sg::Metrics after = model.evaluate_with_loss(test);
    const double accuracy_before = before.at("sparse_categorical_accuracy");
    const double accuracy = after.at("sparse_categorical_accuracy");
    INFO("test accuracy " << accuracy_before << " before training, " << accuracy << " after; test loss "
                          << before.at("loss") << " -> " << after.at("loss") << "; training loss "
                          << history.epochs.front().at("loss") << " (epoch 1) -> " << history.last().at("loss"));

    REQUIRE(history.epochs.size() == 8);
    // The untrained network is near chance, so the accuracy below is learnt.
    CHECK(accuracy_before < 0.4);
    CHECK(history.last().at("loss") < 0.5 * history.epochs.front().at("loss"));
    CHECK(after.at("loss") < 0.7);  // chance is ln 10 = 2.3
    REQUIRE(accuracy >= 0.85);
}
