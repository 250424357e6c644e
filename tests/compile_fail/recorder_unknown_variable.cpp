// VarRecorder<"hidden", "W">: LIF's state is V and RefracTime, there is no W.
#include <spikegraph/spikegraph.hpp>

namespace sg = spikegraph;

constexpr auto in = sg::population<"in", 4>(sg::SpikeInput{});
constexpr auto hidden = sg::population<"hidden", 3>(sg::LeakyIntegrateFire{});
constexpr auto out = sg::population<"out", 2>(sg::LeakyIntegrate{}, sg::AvgVar{});
constexpr auto net = sg::network(in >> sg::Dense{} >> hidden, hidden >> sg::Dense{} >> out);

int main() {
    auto model = sg::InferenceCompiler{.example_timesteps = 10}.compile<sg::cpu>(net);
    sg::SpikeDataset data;
    sg::VarRecorder<"hidden", "V"> v;
    sg::VarRecorder<"hidden", "RefracTime"> refrac;
    (void)model.evaluate(data, v, refrac);
#ifdef SPIKEGRAPH_EXPECT_COMPILE_ERROR
    sg::VarRecorder<"hidden", "W"> w;
    (void)model.evaluate(data, w);
#endif
    return 0;
}
