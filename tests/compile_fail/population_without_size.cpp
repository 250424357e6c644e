// population<"h">(...) gives no shape at all.
#include <spikegraph/graph/population.hpp>
#include <spikegraph/model/leaky_integrate_fire.hpp>

namespace sg = spikegraph;

int main() {
    [[maybe_unused]] constexpr auto ok = sg::population<"h", 5>(sg::LeakyIntegrateFire{});
#ifdef SPIKEGRAPH_EXPECT_COMPILE_ERROR
    [[maybe_unused]] constexpr auto bad = sg::population<"h">(sg::LeakyIntegrateFire{});
#endif
    return 0;
}
