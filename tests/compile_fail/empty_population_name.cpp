// Names identify populations in the network, recorders and errors: "" is rejected.
#include <spikegraph/graph/population.hpp>
#include <spikegraph/model/leaky_integrate_fire.hpp>

namespace sg = spikegraph;

int main() {
    [[maybe_unused]] constexpr auto ok = sg::population<"h", 5>(sg::LeakyIntegrateFire{});
#ifdef SPIKEGRAPH_EXPECT_COMPILE_ERROR
    [[maybe_unused]] constexpr auto bad = sg::population<"", 5>(sg::LeakyIntegrateFire{});
#endif
    return 0;
}
