// EventPropCompiler checks its learning rule: it has no adjoint for ALIF, so
// an ALIF hidden population is a compile error, not a wrong gradient.
#include <spikegraph/spikegraph.hpp>

namespace sg = spikegraph;

constexpr auto in = sg::population<"in", 4>(sg::SpikeInput{});
constexpr auto lif = sg::population<"hidden", 8>(sg::LeakyIntegrateFire{});
constexpr auto alif = sg::population<"hidden", 8>(sg::AdaptiveLeakyIntegrateFire{});
constexpr auto out = sg::population<"out", 2>(sg::LeakyIntegrate{}, sg::AvgVar{});

constexpr auto lif_net = sg::network(in >> sg::Dense{} >> sg::Exponential{5.0f} >> lif,
                                     lif >> sg::Dense{} >> sg::Exponential{5.0f} >> out);
constexpr auto alif_net = sg::network(in >> sg::Dense{} >> sg::Exponential{5.0f} >> alif,
                                      alif >> sg::Dense{} >> sg::Exponential{5.0f} >> out);

int main() {
    const sg::EventPropCompiler compiler{.example_timesteps = 10};
    (void)compiler.compile<sg::cpu>(lif_net);
#ifdef SPIKEGRAPH_EXPECT_COMPILE_ERROR
    (void)compiler.compile<sg::cpu>(alif_net);
#endif
    return 0;
}
