// OneToOne maps neuron i to neuron i, so the two populations must be the same size.
#include <spikegraph/graph/connection.hpp>
#include <spikegraph/model/leaky_integrate_fire.hpp>

namespace sg = spikegraph;

constexpr auto a = sg::population<"a", 4>(sg::LeakyIntegrateFire{});
constexpr auto b = sg::population<"b", 4>(sg::LeakyIntegrateFire{});
constexpr auto c = sg::population<"c", 3>(sg::LeakyIntegrateFire{});

int main() {
    [[maybe_unused]] constexpr auto same = a >> sg::OneToOne{} >> b;
#ifdef SPIKEGRAPH_EXPECT_COMPILE_ERROR
    [[maybe_unused]] constexpr auto mismatch = a >> sg::OneToOne{} >> c;
#endif
    return 0;
}
