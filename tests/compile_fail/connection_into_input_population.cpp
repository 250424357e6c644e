// Input populations replay data; nothing can project into them.
#include <spikegraph/graph/connection.hpp>
#include <spikegraph/model/leaky_integrate_fire.hpp>
#include <spikegraph/model/poisson_input.hpp>

namespace sg = spikegraph;

constexpr auto in = sg::population<"in", 4>(sg::PoissonInput{});
constexpr auto h = sg::population<"h", 4>(sg::LeakyIntegrateFire{});

int main() {
    [[maybe_unused]] constexpr auto ok = in >> sg::OneToOne{} >> h;
#ifdef SPIKEGRAPH_EXPECT_COMPILE_ERROR
    [[maybe_unused]] constexpr auto bad = h >> sg::OneToOne{} >> in;
#endif
    return 0;
}
