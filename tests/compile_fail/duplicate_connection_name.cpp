// Two connections with one name (two in -> h connections both default to "in_h").
#include <spikegraph/graph/network.hpp>
#include <spikegraph/model/leaky_integrate_fire.hpp>
#include <spikegraph/model/spike_input.hpp>

namespace sg = spikegraph;

constexpr auto in = sg::population<"in", 4>(sg::SpikeInput{});
constexpr auto h = sg::population<"h", 8>(sg::LeakyIntegrateFire{});

int main() {
    [[maybe_unused]] constexpr auto ok = sg::network(
        in >> sg::Dense{} >> sg::Exponential{5.0f} >> h,
        sg::named<"in_h_fast">(in >> sg::Dense{} >> sg::Delta{} >> h));
#ifdef SPIKEGRAPH_EXPECT_COMPILE_ERROR
    [[maybe_unused]] constexpr auto bad = sg::network(
        in >> sg::Dense{} >> sg::Exponential{5.0f} >> h,
        in >> sg::Dense{} >> sg::Delta{} >> h);
#endif
    return 0;
}
