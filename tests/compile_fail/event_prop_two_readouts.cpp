// EventProp's loss is a function of one output population's readout; with two
// populations read out, which one the loss applies to would be a guess.
#include <spikegraph/spikegraph.hpp>

namespace sg = spikegraph;

constexpr auto in = sg::population<"in", 4>(sg::SpikeInput{});
constexpr auto hidden = sg::population<"hidden", 8>(sg::LeakyIntegrateFire{});
constexpr auto out = sg::population<"out", 2>(sg::LeakyIntegrate{}, sg::AvgVar{});
constexpr auto other_out = sg::population<"other_out", 2>(sg::LeakyIntegrate{}, sg::SumVar{});

constexpr auto one_readout_net = sg::network(in >> sg::Dense{} >> sg::Exponential{5.0f} >> hidden,
                                             hidden >> sg::Dense{} >> sg::Exponential{5.0f} >> out);
constexpr auto two_readout_net = sg::network(in >> sg::Dense{} >> sg::Exponential{5.0f} >> hidden,
                                             hidden >> sg::Dense{} >> sg::Exponential{5.0f} >> out,
                                             hidden >> sg::Dense{} >> sg::Exponential{5.0f} >> other_out);

int main() {
    const sg::EventPropCompiler compiler{.example_timesteps = 10};
    (void)compiler.compile<sg::cpu>(one_readout_net);
#ifdef SPIKEGRAPH_EXPECT_COMPILE_ERROR
    (void)compiler.compile<sg::cpu>(two_readout_net);
#endif
    return 0;
}
