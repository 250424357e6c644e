// A VarRecorder must name a population of the network being evaluated.
#include <spikegraph/spikegraph.hpp>

namespace sg = spikegraph;

constexpr auto in = sg::population<"in", 4>(sg::SpikeInput{});
constexpr auto hidden = sg::population<"hidden", 3>(sg::LeakyIntegrateFire{});
constexpr auto out = sg::population<"out", 2>(sg::LeakyIntegrate{}, sg::AvgVar{});
constexpr auto net = sg::network(in >> sg::Dense{} >> hidden, hidden >> sg::Dense{} >> out);

int main() {
    auto model = sg::InferenceCompiler{.example_timesteps = 10}.compile<sg::cpu>(net);
    sg::SpikeDataset data;
    sg::VarRecorder<"hidden"> v;
    (void)model.predict(data, v);
#ifdef SPIKEGRAPH_EXPECT_COMPILE_ERROR
    sg::VarRecorder<"nope"> nope;
    (void)model.predict(data, nope);
#endif
    return 0;
}
