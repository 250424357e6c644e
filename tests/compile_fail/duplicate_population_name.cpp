// Two different populations named "x" (sizes differ): the network could not tell them apart.
#include <spikegraph/graph/network.hpp>
#include <spikegraph/model/leaky_integrate_fire.hpp>
#include <spikegraph/model/spike_input.hpp>

namespace sg = spikegraph;

constexpr auto in = sg::population<"in", 4>(sg::SpikeInput{});
constexpr auto x = sg::population<"x", 8>(sg::LeakyIntegrateFire{});
constexpr auto other_x = sg::population<"x", 6>(sg::LeakyIntegrateFire{});

int main() {
    // The same population reached through several connections is fine.
    [[maybe_unused]] constexpr auto ok = sg::network(in >> sg::Dense{} >> x, x >> sg::Dense{} >> x);
#ifdef SPIKEGRAPH_EXPECT_COMPILE_ERROR
    // Connection names kept distinct so that only the population clash is reported.
    [[maybe_unused]] constexpr auto bad =
        sg::network(in >> sg::Dense{} >> x, sg::named<"in_other_x">(in >> sg::Dense{} >> other_x));
#endif
    return 0;
}
