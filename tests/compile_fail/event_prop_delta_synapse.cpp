// EventProp's adjoint dynamics are derived for Exponential synapses; a Delta
// synapse must be rejected when the network is compiled for training.
#include <spikegraph/spikegraph.hpp>

namespace sg = spikegraph;

constexpr auto in = sg::population<"in", 4>(sg::SpikeInput{});
constexpr auto hidden = sg::population<"hidden", 8>(sg::LeakyIntegrateFire{});
constexpr auto out = sg::population<"out", 2>(sg::LeakyIntegrate{}, sg::AvgVar{});

constexpr auto exponential_net = sg::network(in >> sg::Dense{} >> sg::Exponential{5.0f} >> hidden,
                                             hidden >> sg::Dense{} >> sg::Exponential{5.0f} >> out);
constexpr auto delta_net = sg::network(in >> sg::Dense{} >> sg::Delta{} >> hidden,
                                       hidden >> sg::Dense{} >> sg::Exponential{5.0f} >> out);

int main() {
    const sg::EventPropCompiler compiler{.example_timesteps = 10};
    (void)compiler.compile<sg::cpu>(exponential_net);
#ifdef SPIKEGRAPH_EXPECT_COMPILE_ERROR
    (void)compiler.compile<sg::cpu>(delta_net);
#endif
    return 0;
}
