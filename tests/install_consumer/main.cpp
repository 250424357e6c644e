// Uses the installed headers through find_package(spikegraph), as a user would:
// builds a small network, compiles it for the CPU backend and runs predict, so
// the test proves the installed package works, not only that it can be included.
#include <spikegraph/spikegraph.hpp>

#include <cmath>
#include <cstdio>
#include <exception>

namespace sg = spikegraph;

int main() {
    // Constant weights keep the outcome certain: any input spike pushes every
    // hidden neuron over threshold (1.5 >= 1), and hidden spikes drive the output up.
    constexpr auto input = sg::population<"input", 4>(sg::SpikeInput{});
    constexpr auto hidden = sg::population<"hidden", 8>(sg::LeakyIntegrateFire{.tau_mem = 20.0f});
    constexpr auto output = sg::population<"output", 2>(sg::LeakyIntegrate{.tau_mem = 20.0f}, sg::AvgVar{});
    constexpr auto net = sg::network(input >> sg::Dense{sg::Constant{1.5f}} >> hidden,
                                     hidden >> sg::Dense{sg::Constant{0.25f}} >> sg::Exponential{5.0f} >> output);

    try {
        auto model = sg::InferenceCompiler{.example_timesteps = 20, .batch_size = 2, .num_threads = 1, .verbose = false}
                         .compile<sg::cpu>(net);

        sg::SpikeDataset data;
        data.num_inputs = 4;
        data.examples.push_back(sg::make_spike_events({1.0f, 3.0f, 5.0f}, {0, 1, 2}, 4, "example 0"));
        data.examples.push_back(sg::make_spike_events({2.0f, 2.0f}, {3, 0}, 4, "example 1"));
        data.examples.push_back(sg::SpikeEvents{});  // no input: the output must stay at 0

        const sg::Predictions predictions = model.predict(data);
        if (predictions.num_outputs != 2 || predictions.size() != 3 || predictions.values.size() != 6) {
            std::fprintf(stderr, "predict returned %zu examples x %zu outputs (%zu values), expected 3 x 2\n",
                         predictions.size(), predictions.num_outputs, predictions.values.size());
            return 1;
        }
        for (std::size_t e = 0; e < predictions.size(); ++e) {
            for (float value : predictions.example(e)) {
                const bool driven = e < 2;
                if (!std::isfinite(value) || (driven && !(value > 0.0f)) || (!driven && value != 0.0f)) {
                    std::fprintf(stderr, "example %zu: unexpected output %g\n", e, double(value));
                    return 1;
                }
            }
        }
        std::printf("spikegraph install consumer: predict ok (%g %g | %g %g | %g %g)\n",
                    double(predictions.values[0]), double(predictions.values[1]), double(predictions.values[2]),
                    double(predictions.values[3]), double(predictions.values[4]), double(predictions.values[5]));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "spikegraph install consumer: %s\n", e.what());
        return 1;
    }
    return 0;
}
