// named<"">(connection) would give a connection no usable name.
#include <spikegraph/graph/connection.hpp>
#include <spikegraph/model/leaky_integrate_fire.hpp>
#include <spikegraph/model/spike_input.hpp>

namespace sg = spikegraph;

constexpr auto in = sg::population<"in", 4>(sg::SpikeInput{});
constexpr auto h = sg::population<"h", 8>(sg::LeakyIntegrateFire{});

int main() {
    [[maybe_unused]] constexpr auto ok = sg::named<"w">(in >> sg::Dense{} >> h);
#ifdef SPIKEGRAPH_EXPECT_COMPILE_ERROR
    [[maybe_unused]] constexpr auto bad = sg::named<"">(in >> sg::Dense{} >> h);
#endif
    return 0;
}
