// Train on the CPU, run inference on the GPU: the quickstart's Yin-Yang network
// trained with EventProp on the CPU backend for a few epochs, then its weights
// copied into an inference model on the CUDA backend and into one on the CPU
// backend. Both evaluate the test set; the program prints both accuracies and
// how many test readouts differ between the backends (expected: none).
//
//   cuda_yin_yang [--epochs 10] [--batch 256]      (--batch: inference batch size)
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string_view>

#include <spikegraph/spikegraph.hpp>

namespace sg = spikegraph;

namespace {

constexpr float dt = 0.1f;
constexpr int example_timesteps = 300;
constexpr sg::LeakyIntegrateFire lif{.v_thresh = 1.0f, .tau_mem = 20.0f, .relative_reset = false,
                                     .integrate_during_refrac = false, .scale_i = true};
constexpr sg::Exponential synapse{.tau = 5.0f, .scale_i = true};
constexpr auto net = sg::sequential(
    sg::InputLayer<5>(sg::SpikeInput{}),
    sg::Layer<100, "hidden">(lif, sg::Dense{sg::Normal{1.5f, 0.78f}}, synapse),
    sg::Layer<3, "output">(lif, sg::Dense{sg::Normal{0.93f, 0.1f}}, synapse, sg::FirstSpikeTime{}));

sg::InferenceCompiler inference(std::size_t batch_size) {
    return sg::InferenceCompiler{.example_timesteps = example_timesteps, .batch_size = batch_size, .dt = dt};
}

}  // namespace

int main(int argc, char** argv) try {
    int epochs = 10;
    std::size_t batch_size = 256;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if ((arg == "--epochs" || arg == "--batch") && i + 1 < argc) {
            const long value = std::strtol(argv[++i], nullptr, 10);
            if (value <= 0) throw sg::InvalidArgument(std::string(arg) + " needs a positive integer");
            (arg == "--epochs" ? (void)(epochs = int(value)) : (void)(batch_size = std::size_t(value)));
        } else {
            std::fprintf(stderr, "usage: %s [--epochs 10] [--batch 256]\n", argv[0]);
            return arg == "--help" ? 0 : 2;
        }
    }
    sg::cuda_backend::require_device();  // before training, not after: says so at once without a GPU
    const auto splits = sg::datasets::yin_yang_splits(15360, 1000, 1000);
    const sg::SpikeDataset train = sg::datasets::encode_yin_yang(splits.train, {});
    const sg::SpikeDataset validation = sg::datasets::encode_yin_yang(splits.validation, {});
    const sg::SpikeDataset test = sg::datasets::encode_yin_yang(splits.test, {});

    auto trainer = sg::EventPropCompiler{.example_timesteps = example_timesteps,
                                         .loss = sg::SparseCategoricalCrossentropy{},
                                         .optimiser = sg::Adam{.lr = 0.001f, .beta1 = 0.9f, .beta2 = 0.99f},
                                         .batch_size = 32,
                                         .dt = dt,
                                         .seed = 1,
                                         .softmax_temperature = 0.5f,
                                         .ttfs_alpha = 0.1f}
                       .compile<sg::cpu>(net);
    trainer.train(train, validation, {.epochs = epochs}, sg::ProgressBar{},
                  sg::LearningRateSchedule{[](int epoch, float) { return 0.001f * std::pow(0.95f, float(epoch)); }});

    auto gpu = inference(batch_size).compile<sg::cuda>(net);
    auto cpu = inference(batch_size).compile<sg::cpu>(net);
    gpu.set_weights<"input_hidden">(trainer.weights<"input_hidden">());
    gpu.set_weights<"hidden_output">(trainer.weights<"hidden_output">());
    cpu.set_weights<"input_hidden">(trainer.weights<"input_hidden">());
    cpu.set_weights<"hidden_output">(trainer.weights<"hidden_output">());

    const sg::Predictions on_gpu = gpu.predict(test);
    const sg::Predictions on_cpu = cpu.predict(test);
    std::size_t differing = 0;
    for (std::size_t i = 0; i < on_gpu.values.size(); ++i) differing += on_gpu.values[i] != on_cpu.values[i];
    std::printf("Test accuracy: CUDA %.2f%%, CPU %.2f%%; readouts that differ between the backends: %zu of %zu\n",
                100.0 * gpu.evaluate(test).at("sparse_categorical_accuracy"),
                100.0 * cpu.evaluate(test).at("sparse_categorical_accuracy"), differing, on_gpu.values.size());
    return differing == 0 ? 0 : 1;
} catch (const std::exception& e) {
    std::fprintf(stderr, "cuda_yin_yang: %s\n", e.what());
    return 1;
}
