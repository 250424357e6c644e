// Same clash, with both populations listed explicitly (they differ in model, not size).
#include <spikegraph/graph/network.hpp>
#include <spikegraph/model/integrate_fire.hpp>
#include <spikegraph/model/leaky_integrate_fire.hpp>

namespace sg = spikegraph;

constexpr auto x = sg::population<"x", 8>(sg::LeakyIntegrateFire{});
constexpr auto other_x = sg::population<"x", 8>(sg::IntegrateFire{});

int main() {
    // Listing the same population twice is harmless.
    [[maybe_unused]] constexpr auto ok = sg::network(x, x);
#ifdef SPIKEGRAPH_EXPECT_COMPILE_ERROR
    [[maybe_unused]] constexpr auto bad = sg::network(x, other_x);
#endif
    return 0;
}
