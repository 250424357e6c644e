// Train on the GPU: the quickstart's Yin-Yang network trained with EventProp
// on the CUDA backend (a progress bar per epoch), then the test set evaluated
// three ways: by the CUDA training model itself, and by a CUDA and a CPU
// inference model given the trained weights. The program prints the three
// accuracies and how many test readouts differ between the two inference
// models (expected: none; exit status 1 otherwise).
//
// --cpu-reference also trains the same net on the CPU backend with the same
// settings and prints the largest absolute difference between the CPU- and
// the CUDA-trained weights. The two differ only in the float summation order
// of each batch's gradient (the GPU sums lanes with atomics), so expect a
// small difference, not zero.
//
// Without a usable CUDA device it says so and exits with status 2.
//
//   cuda_yin_yang [--epochs 10] [--batch 256] [--cpu-reference]      (--batch: inference batch size)
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

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

// The compiler structs are built in plain functions: GCC 12 fails on their
// designated initialisers inside lambdas and templates.
sg::EventPropCompiler training() {
    return sg::EventPropCompiler{.example_timesteps = example_timesteps,
                                 .loss = sg::SparseCategoricalCrossentropy{},
                                 .optimiser = sg::Adam{.lr = 0.001f, .beta1 = 0.9f, .beta2 = 0.99f},
                                 .batch_size = 32,
                                 .dt = dt,
                                 .seed = 1,
                                 .softmax_temperature = 0.5f,
                                 .ttfs_alpha = 0.1f};
}

sg::InferenceCompiler inference(std::size_t batch_size) {
    return sg::InferenceCompiler{.example_timesteps = example_timesteps, .batch_size = batch_size, .dt = dt};
}

// The same training on either backend: --epochs epochs, the learning rate decaying by 5 % per epoch.
template <class Model>
void fit(Model& model, const sg::SpikeDataset& train, const sg::SpikeDataset& validation, int epochs) {
    sg::TrainOptions options;
    options.epochs = epochs;
    model.train(train, validation, options, sg::ProgressBar{},
                sg::LearningRateSchedule{[](int epoch, float) { return 0.001f * std::pow(0.95f, float(epoch)); }});
}

float accuracy(const sg::Metrics& metrics) { return 100.0f * float(metrics.at("sparse_categorical_accuracy")); }

}  // namespace

int main(int argc, char** argv) try {
    int epochs = 10;
    std::size_t batch_size = 256;
    bool cpu_reference = false;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if ((arg == "--epochs" || arg == "--batch") && i + 1 < argc) {
            const long value = std::strtol(argv[++i], nullptr, 10);
            if (value <= 0) throw sg::InvalidArgument(std::string(arg) + " needs a positive integer");
            (arg == "--epochs" ? (void)(epochs = int(value)) : (void)(batch_size = std::size_t(value)));
        } else if (arg == "--cpu-reference") {
            cpu_reference = true;
        } else {
            std::fprintf(stderr, "usage: %s [--epochs 10] [--batch 256] [--cpu-reference]\n", argv[0]);
            return arg == "--help" ? 0 : 2;
        }
    }
    try {
        sg::cuda_backend::require_device();  // before anything else: says so at once without a GPU
    } catch (const sg::CudaError& e) {
        std::fprintf(stderr, "cuda_yin_yang: %s\ncuda_yin_yang: this example trains on a GPU; none is usable here\n",
                     e.what());
        return 2;
    }
    const auto splits = sg::datasets::yin_yang_splits(15360, 1000, 1000);
    const sg::SpikeDataset train = sg::datasets::encode_yin_yang(splits.train, {});
    const sg::SpikeDataset validation = sg::datasets::encode_yin_yang(splits.validation, {});
    const sg::SpikeDataset test = sg::datasets::encode_yin_yang(splits.test, {});

    std::printf("Training on the GPU (cuda backend), %d epochs\n", epochs);
    auto trainer = training().compile<sg::cuda>(net);
    fit(trainer, train, validation, epochs);
    const float trained_accuracy = accuracy(trainer.evaluate(test));

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
    std::printf("Test accuracy: CUDA training model %.2f%%; inference models: CUDA %.2f%%, CPU %.2f%%\n",
                trained_accuracy, accuracy(gpu.evaluate(test)), accuracy(cpu.evaluate(test)));
    std::printf("Readouts that differ between the CUDA and CPU inference models: %zu of %zu\n", differing,
                on_gpu.values.size());

    if (cpu_reference) {
        std::printf("Training the same net on the CPU (cpu backend) for reference\n");
        auto reference = training().compile<sg::cpu>(net);
        fit(reference, train, validation, epochs);
        float largest = 0.0f, scale = 0.0f;
        auto compare = [&](const std::vector<float>& on_cuda, const std::vector<float>& on_cpu_backend) {
            for (std::size_t i = 0; i < on_cuda.size(); ++i) {
                largest = std::max(largest, std::fabs(on_cuda[i] - on_cpu_backend[i]));
                scale = std::max(scale, std::fabs(on_cpu_backend[i]));
            }
        };
        compare(trainer.weights<"input_hidden">(), reference.weights<"input_hidden">());
        compare(trainer.weights<"hidden_output">(), reference.weights<"hidden_output">());
        std::printf("CPU-trained test accuracy %.2f%%; largest |CPU - CUDA| trained weight difference: %.3g "
                    "(largest |weight| %.3g)\n",
                    accuracy(reference.evaluate(test)), double(largest), double(scale));
    }
    return differing == 0 ? 0 : 1;
} catch (const std::exception& e) {
    std::fprintf(stderr, "cuda_yin_yang: %s\n", e.what());
    return 1;
}
