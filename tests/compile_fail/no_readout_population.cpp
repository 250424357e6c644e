// evaluate/predict read their results from a readout; this network has none.
#include <spikegraph/spikegraph.hpp>

namespace sg = spikegraph;

constexpr auto in = sg::population<"in", 4>(sg::SpikeInput{});
constexpr auto hidden = sg::population<"hidden", 3>(sg::LeakyIntegrateFire{});
constexpr auto out = sg::population<"out", 2>(sg::LeakyIntegrate{}, sg::AvgVar{});
constexpr auto with_readout = sg::network(in >> sg::Dense{} >> hidden, hidden >> sg::Dense{} >> out);
constexpr auto without_readout = sg::network(in >> sg::Dense{} >> hidden);

int main() {
    auto ok = sg::InferenceCompiler{.example_timesteps = 10}.compile<sg::cpu>(with_readout);
    sg::SpikeDataset data;
    (void)ok.evaluate(data);
    // Compiling a readout-less network is allowed (e.g. to drive the simulator directly).
    auto model = sg::InferenceCompiler{.example_timesteps = 10}.compile<sg::cpu>(without_readout);
    model.simulator().run();
#ifdef SPIKEGRAPH_EXPECT_COMPILE_ERROR
    (void)model.evaluate(data);
#endif
    return 0;
}
