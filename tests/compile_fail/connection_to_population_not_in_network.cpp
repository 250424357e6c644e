// Once populations are listed, a connection to an unlisted one (here c) is a mistake.
#include <spikegraph/graph/network.hpp>
#include <spikegraph/model/leaky_integrate.hpp>
#include <spikegraph/model/leaky_integrate_fire.hpp>
#include <spikegraph/model/spike_input.hpp>

namespace sg = spikegraph;

constexpr auto a = sg::population<"a", 4>(sg::SpikeInput{});
constexpr auto b = sg::population<"b", 4>(sg::LeakyIntegrateFire{});
constexpr auto c = sg::population<"c", 2>(sg::LeakyIntegrate{}, sg::AvgVar{});

int main() {
    [[maybe_unused]] constexpr auto ok = sg::network(a, b, c, a >> sg::Dense{} >> b, b >> sg::Dense{} >> c);
#ifdef SPIKEGRAPH_EXPECT_COMPILE_ERROR
    [[maybe_unused]] constexpr auto bad = sg::network(a, b, a >> sg::Dense{} >> c);
#endif
    return 0;
}
