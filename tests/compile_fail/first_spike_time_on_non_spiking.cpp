// FirstSpikeTime on LeakyIntegrate, which never spikes: it would always read "no spike".
#include <spikegraph/graph/population.hpp>
#include <spikegraph/model/leaky_integrate.hpp>
#include <spikegraph/model/leaky_integrate_fire.hpp>

namespace sg = spikegraph;

int main() {
    [[maybe_unused]] constexpr auto ok = sg::population<"o", 3>(sg::LeakyIntegrateFire{}, sg::FirstSpikeTime{});
#ifdef SPIKEGRAPH_EXPECT_COMPILE_ERROR
    [[maybe_unused]] constexpr auto bad = sg::population<"o", 3>(sg::LeakyIntegrate{}, sg::FirstSpikeTime{});
#endif
    return 0;
}
