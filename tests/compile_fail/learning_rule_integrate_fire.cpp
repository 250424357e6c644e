// Neither EventProp nor e-prop trains IntegrateFire; check the e-prop side here.
#include <spikegraph/compile/learning_rule.hpp>

namespace sg = spikegraph;

constexpr auto in = sg::population<"in", 4>(sg::PoissonInput{});
constexpr auto lif = sg::population<"hidden", 8>(sg::LeakyIntegrateFire{});
constexpr auto if_ = sg::population<"hidden", 8>(sg::IntegrateFire{});
constexpr auto out = sg::population<"out", 2>(sg::LeakyIntegrate{}, sg::AvgVar{});

constexpr auto lif_net = sg::network(in >> sg::Dense{} >> lif, lif >> sg::Dense{} >> out);
constexpr auto if_net = sg::network(in >> sg::Dense{} >> if_, if_ >> sg::Dense{} >> out);

int main() {
    sg::check_learning_rule<sg::rules::EProp>(lif_net);
#ifdef SPIKEGRAPH_EXPECT_COMPILE_ERROR
    sg::check_learning_rule<sg::rules::EProp>(if_net);
#endif
    return 0;
}
