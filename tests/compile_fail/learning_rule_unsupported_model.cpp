// EventProp's gradients exist for LIF/LI only: a net with an ALIF population must be rejected.
#include <spikegraph/compile/learning_rule.hpp>

namespace sg = spikegraph;

constexpr auto in = sg::population<"in", 4>(sg::SpikeInput{});
constexpr auto lif = sg::population<"lif", 8>(sg::LeakyIntegrateFire{});
constexpr auto alif = sg::population<"alif", 8>(sg::AdaptiveLeakyIntegrateFire{});
constexpr auto out = sg::population<"out", 2>(sg::LeakyIntegrate{}, sg::AvgVar{});

constexpr auto lif_net = sg::network(in >> sg::Dense{} >> lif, lif >> sg::Dense{} >> out);
constexpr auto alif_net = sg::network(in >> sg::Dense{} >> alif, alif >> sg::Dense{} >> out);

int main() {
    sg::check_learning_rule<sg::rules::EventProp>(lif_net);
    sg::check_learning_rule<sg::rules::EProp>(lif_net);
    sg::check_learning_rule<sg::rules::EProp>(alif_net);  // e-prop does train ALIF
#ifdef SPIKEGRAPH_EXPECT_COMPILE_ERROR
    sg::check_learning_rule<sg::rules::EventProp>(alif_net);
#endif
    return 0;
}
