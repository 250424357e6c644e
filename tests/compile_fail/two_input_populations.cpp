// One dataset feeds one input population: a network with two cannot be compiled for evaluate/predict.
#include <spikegraph/spikegraph.hpp>

namespace sg = spikegraph;

constexpr auto in = sg::population<"in", 4>(sg::SpikeInput{});
constexpr auto in2 = sg::population<"in2", 4>(sg::SpikeInput{});
constexpr auto out = sg::population<"out", 2>(sg::LeakyIntegrate{}, sg::AvgVar{});
constexpr auto one_input = sg::network(in >> sg::Dense{} >> out);
constexpr auto two_inputs = sg::network(in >> sg::Dense{} >> out, in2 >> sg::Dense{} >> out);

int main() {
    [[maybe_unused]] auto ok = sg::InferenceCompiler{.example_timesteps = 10}.compile<sg::cpu>(one_input);
#ifdef SPIKEGRAPH_EXPECT_COMPILE_ERROR
    [[maybe_unused]] auto bad = sg::InferenceCompiler{.example_timesteps = 10}.compile<sg::cpu>(two_inputs);
#endif
    return 0;
}
