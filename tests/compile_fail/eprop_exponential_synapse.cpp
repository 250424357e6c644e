// e-prop's eligibility traces are derived for Delta synapses (as mlGeNN's
// EPropCompiler); an Exponential synapse must be rejected at compile time.
#include <spikegraph/spikegraph.hpp>

namespace sg = spikegraph;

constexpr auto in = sg::population<"in", 4>(sg::SpikeInput{});
constexpr auto hidden = sg::population<"hidden", 8>(sg::AdaptiveLeakyIntegrateFire{});
constexpr auto out = sg::population<"out", 2>(sg::LeakyIntegrate{}, sg::SumVar{});

constexpr auto delta_net = sg::network(in >> sg::Dense{} >> sg::Delta{} >> hidden,
                                       hidden >> sg::Dense{} >> sg::Delta{} >> hidden,
                                       hidden >> sg::Dense{} >> sg::Delta{} >> out);
constexpr auto exponential_net = sg::network(in >> sg::Dense{} >> sg::Delta{} >> hidden,
                                             hidden >> sg::Dense{} >> sg::Exponential{5.0f} >> hidden,
                                             hidden >> sg::Dense{} >> sg::Delta{} >> out);

int main() {
    const sg::EPropCompiler compiler{.example_timesteps = 10};
    (void)compiler.compile<sg::cpu>(delta_net);
#ifdef SPIKEGRAPH_EXPECT_COMPILE_ERROR
    (void)compiler.compile<sg::cpu>(exponential_net);
#endif
    return 0;
}
