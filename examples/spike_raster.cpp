// Spike rasters as SVG: Yin-Yang points, population-coded and Poisson-encoded
// (sg::poisson_encode), drive a hidden layer of LIF neurons; SpikeRecorders
// capture the input and hidden spikes of every example, and one example's
// spikes are written as SVG rasters.
//
//   spike_raster [--out raster.svg] [--example N]
//
// Writes the hidden layer's raster to --out and the input raster next to it
// (raster_input.svg). Open them in a browser, or: rsvg-convert raster.svg -o raster.png
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <string>
#include <string_view>

#include <spikegraph/spikegraph.hpp>
#include <spikegraph/data/preprocessing.hpp>
#include <spikegraph/data/yin_yang.hpp>
#include <spikegraph/io/svg.hpp>

namespace sg = spikegraph;

namespace {

constexpr std::size_t features = sg::datasets::YinYang::num_features;  // x, y, 1 - x, 1 - y
constexpr std::size_t per_feature = 25;  // Gaussian tuning curves per feature
constexpr std::size_t num_inputs = features * per_feature;
constexpr std::size_t num_hidden = 128;
constexpr double duration_ms = 200.0;
constexpr float dt = 1.0f;

constexpr auto net = sg::sequential(
    sg::InputLayer<num_inputs>(sg::SpikeInput{}),
    sg::Layer<num_hidden, "hidden">(sg::LeakyIntegrateFire{.tau_mem = 20.0f, .tau_refrac = 2.0f},
                                    sg::Dense{sg::Normal{0.0f, 0.05f}}, sg::Exponential{5.0f}),
    sg::Layer<3, "output">(sg::LeakyIntegrate{.tau_mem = 20.0f}, sg::Dense{sg::Normal{0.0f, 0.1f}},
                           sg::Exponential{5.0f}, sg::AvgVar{}));

// Each feature f in [0, 1] drives its 25 neurons through Gaussian tuning
// curves (centres spread over [0, 1]), giving values in [0, 1] for poisson_encode.
sg::ValueDataset population_code(const sg::datasets::YinYang& points) {
    sg::ValueDataset data;
    data.num_inputs = num_inputs;
    data.num_classes = sg::datasets::YinYang::num_classes;
    data.labels = points.labels;
    const double width = 1.0 / double(per_feature);
    for (std::size_t e = 0; e < points.size(); ++e)
        for (std::size_t f = 0; f < features; ++f) {
            const double value = points.features[e * features + f];
            for (std::size_t k = 0; k < per_feature; ++k) {
                const double centre = (double(k) + 0.5) / double(per_feature);
                const double z = (value - centre) / (1.5 * width);
                data.values.push_back(float(std::exp(-0.5 * z * z)));
            }
        }
    return data;
}

}  // namespace

int main(int argc, char** argv) try {
    std::filesystem::path out = "raster.svg";
    std::size_t example = 0;
    constexpr std::size_t num_examples = 8;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--out" && i + 1 < argc) {
            out = argv[++i];
        } else if (arg == "--example" && i + 1 < argc) {
            char* end = nullptr;
            example = std::strtoul(argv[++i], &end, 10);
            if (*end != '\0' || example >= num_examples) {
                std::fprintf(stderr, "spike_raster: --example needs 0..%zu, got '%s'\n", num_examples - 1, argv[i]);
                return 2;
            }
        } else if (arg == "--help" || arg == "-h") {
            std::printf("usage: %s [--out raster.svg] [--example N]\n", argv[0]);
            return 0;
        } else {
            std::fprintf(stderr, "spike_raster: unknown argument '%s' (try --help)\n", argv[i]);
            return 2;
        }
    }

    const sg::ValueDataset values = population_code(sg::datasets::yin_yang(num_examples, 42));
    // Up to 100 Hz per input neuron, 200 steps of 1 ms.
    const sg::SpikeDataset input =
        sg::poisson_encode(values, {.max_rate_hz = 100.0, .duration_ms = duration_ms, .dt = dt, .seed = 1});
    std::printf("Encoded %zu Yin-Yang points as Poisson spikes: %zu inputs, at most %zu spikes per example\n",
                input.size(), input.num_inputs, sg::calc_max_spikes(input));

    auto model = sg::InferenceCompiler{.example_timesteps = int(duration_ms / dt), .batch_size = 4, .dt = dt,
                                       .seed = 3, .verbose = false}
                     .compile<sg::cpu>(net);
    sg::SpikeRecorder<"hidden"> hidden;
    sg::SpikeRecorder<"input"> inputs;
    model.predict(input, hidden, inputs);

    const auto& label = values.labels[example];
    const char* class_names[] = {"yin", "yang", "dot"};
    sg::RasterOptions options;
    options.title = "Hidden layer (" + std::to_string(num_hidden) + " LIF), Yin-Yang example " +
                    std::to_string(example) + " (" + class_names[label] + ")";
    options.color = "#b03a2e";
    sg::write_svg(out, sg::spike_raster_svg(hidden, example, num_hidden, duration_ms, options));

    std::filesystem::path input_out = out;
    input_out.replace_filename(out.stem().string() + "_input" + out.extension().string());
    options.title = "Poisson input (4 features x 25 tuning curves), example " + std::to_string(example);
    options.color = "#1f4e79";
    sg::write_svg(input_out, sg::spike_raster_svg(inputs, example, num_inputs, duration_ms, options));

    const std::size_t k = std::size_t(example);  // every example is recorded, in order
    std::printf("Example %zu: %zu input spikes, %zu hidden spikes in %.0f ms\n", example, inputs.spike_times[k].size(),
                hidden.spike_times[k].size(), duration_ms);
    std::printf("Wrote %s\nWrote %s\n", std::filesystem::absolute(out).string().c_str(),
                std::filesystem::absolute(input_out).string().c_str());
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "spike_raster: %s\n", e.what());
    return 1;
}
