// e-prop's loss is per step on the output's membrane voltage, so the output
// must be LeakyIntegrate; a LeakyIntegrateFire output (here with a spike-count
// readout) must be rejected at compile time.
#include <spikegraph/spikegraph.hpp>

namespace sg = spikegraph;

constexpr auto in = sg::population<"in", 4>(sg::SpikeInput{});
constexpr auto hidden = sg::population<"hidden", 8>(sg::AdaptiveLeakyIntegrateFire{});
constexpr auto li_out = sg::population<"out", 2>(sg::LeakyIntegrate{}, sg::SumVar{});
constexpr auto lif_out = sg::population<"out", 2>(sg::LeakyIntegrateFire{}, sg::SpikeCount{});

constexpr auto li_net = sg::network(in >> sg::Dense{} >> sg::Delta{} >> hidden,
                                    hidden >> sg::Dense{} >> sg::Delta{} >> li_out);
constexpr auto lif_net = sg::network(in >> sg::Dense{} >> sg::Delta{} >> hidden,
                                     hidden >> sg::Dense{} >> sg::Delta{} >> lif_out);

int main() {
    const sg::EPropCompiler compiler{.example_timesteps = 10};
    (void)compiler.compile<sg::cpu>(li_net);
#ifdef SPIKEGRAPH_EXPECT_COMPILE_ERROR
    (void)compiler.compile<sg::cpu>(lif_net);
#endif
    return 0;
}
