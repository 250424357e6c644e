// A connection whose endpoint has a listed population's name but another type
// (here another size) does not refer to the listed population.
#include <spikegraph/graph/network.hpp>
#include <spikegraph/model/leaky_integrate_fire.hpp>
#include <spikegraph/model/spike_input.hpp>

namespace sg = spikegraph;

constexpr auto a = sg::population<"a", 4>(sg::SpikeInput{});
constexpr auto b = sg::population<"b", 4>(sg::LeakyIntegrateFire{});
constexpr auto b5 = sg::population<"b", 5>(sg::LeakyIntegrateFire{});

int main() {
    [[maybe_unused]] constexpr auto ok = sg::network(a, b, a >> sg::Dense{} >> b);
#ifdef SPIKEGRAPH_EXPECT_COMPILE_ERROR
    [[maybe_unused]] constexpr auto bad = sg::network(a, b, a >> sg::Dense{} >> b5);
#endif
    return 0;
}
