// e-prop's learning signal reaches hidden neurons through their spikes'
// pseudo-derivative; a non-spiking LeakyIntegrate population is allowed only
// as the output, so an LI hidden layer must be rejected at compile time.
#include <spikegraph/spikegraph.hpp>

namespace sg = spikegraph;

constexpr auto in = sg::population<"in", 4>(sg::SpikeInput{});
constexpr auto lif = sg::population<"hidden", 8>(sg::LeakyIntegrateFire{});
constexpr auto li = sg::population<"hidden", 8>(sg::LeakyIntegrate{});
constexpr auto out = sg::population<"out", 2>(sg::LeakyIntegrate{}, sg::SumVar{});

constexpr auto lif_net = sg::network(in >> sg::Dense{} >> sg::Delta{} >> lif,
                                     lif >> sg::Dense{} >> sg::Delta{} >> out);
constexpr auto li_net = sg::network(in >> sg::Dense{} >> sg::Delta{} >> li,
                                    li >> sg::Dense{} >> sg::Delta{} >> out);

int main() {
    const sg::EPropCompiler compiler{.example_timesteps = 10};
    (void)compiler.compile<sg::cpu>(lif_net);
#ifdef SPIKEGRAPH_EXPECT_COMPILE_ERROR
    (void)compiler.compile<sg::cpu>(li_net);
#endif
    return 0;
}
