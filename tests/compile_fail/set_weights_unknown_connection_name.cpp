// set_weights<"name">(...) must name a connection of the network.
#include <spikegraph/spikegraph.hpp>

#include <vector>

namespace sg = spikegraph;

constexpr auto in = sg::population<"in", 4>(sg::SpikeInput{});
constexpr auto out = sg::population<"out", 2>(sg::LeakyIntegrate{}, sg::AvgVar{});
constexpr auto net = sg::network(sg::named<"w">(in >> sg::Dense{} >> out));

int main() {
    auto model = sg::InferenceCompiler{.example_timesteps = 10}.compile<sg::cpu>(net);
    const std::vector<float> weights(8, 0.5f);
    model.set_weights<"w">(weights);
#ifdef SPIKEGRAPH_EXPECT_COMPILE_ERROR
    // The default name no longer exists once the connection was renamed.
    model.set_weights<"in_out">(weights);
#endif
    return 0;
}
