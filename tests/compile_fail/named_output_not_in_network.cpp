// evaluate<"name"> must name a population of the network.
#include <spikegraph/spikegraph.hpp>

namespace sg = spikegraph;

constexpr auto in = sg::population<"in", 4>(sg::SpikeInput{});
constexpr auto out = sg::population<"out", 2>(sg::LeakyIntegrate{}, sg::AvgVar{});
constexpr auto net = sg::network(in >> sg::Dense{} >> out);

int main() {
    auto model = sg::InferenceCompiler{.example_timesteps = 10}.compile<sg::cpu>(net);
    sg::SpikeDataset data;
    (void)model.evaluate<"out">(data);
#ifdef SPIKEGRAPH_EXPECT_COMPILE_ERROR
    (void)model.evaluate<"output">(data);
#endif
    return 0;
}
