// A population with no neurons (a zero dimension) is rejected.
#include <spikegraph/graph/population.hpp>
#include <spikegraph/model/leaky_integrate_fire.hpp>

namespace sg = spikegraph;

int main() {
    [[maybe_unused]] constexpr auto ok = sg::population<"h", 2, 3>(sg::LeakyIntegrateFire{});
#ifdef SPIKEGRAPH_EXPECT_COMPILE_ERROR
    [[maybe_unused]] constexpr auto bad = sg::population<"h", 2, 0>(sg::LeakyIntegrateFire{});
#endif
    return 0;
}
