// EventProp's losses need a differentiable readout: LI with a variable readout,
// or LIF with FirstSpikeTime. A spike count is piecewise constant in the weights.
#include <spikegraph/spikegraph.hpp>

namespace sg = spikegraph;

constexpr auto in = sg::population<"in", 4>(sg::SpikeInput{});
constexpr auto hidden = sg::population<"hidden", 8>(sg::LeakyIntegrateFire{});
constexpr auto first_spike = sg::population<"out", 2>(sg::LeakyIntegrateFire{}, sg::FirstSpikeTime{});
constexpr auto spike_count = sg::population<"out", 2>(sg::LeakyIntegrateFire{}, sg::SpikeCount{});

constexpr auto first_spike_net = sg::network(in >> sg::Dense{} >> sg::Exponential{5.0f} >> hidden,
                                             hidden >> sg::Dense{} >> sg::Exponential{5.0f} >> first_spike);
constexpr auto spike_count_net = sg::network(in >> sg::Dense{} >> sg::Exponential{5.0f} >> hidden,
                                             hidden >> sg::Dense{} >> sg::Exponential{5.0f} >> spike_count);

int main() {
    const sg::EventPropCompiler compiler{.example_timesteps = 10};
    (void)compiler.compile<sg::cpu>(first_spike_net);
#ifdef SPIKEGRAPH_EXPECT_COMPILE_ERROR
    (void)compiler.compile<sg::cpu>(spike_count_net);
#endif
    return 0;
}
