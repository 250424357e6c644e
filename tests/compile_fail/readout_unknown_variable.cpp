// A readout naming a variable the neuron model lacks ("W": LeakyIntegrate has only V).
#include <spikegraph/graph/population.hpp>
#include <spikegraph/model/leaky_integrate.hpp>

namespace sg = spikegraph;

int main() {
    [[maybe_unused]] constexpr auto ok = sg::population<"o", 3>(sg::LeakyIntegrate{}, sg::SumVar<"V">{});
#ifdef SPIKEGRAPH_EXPECT_COMPILE_ERROR
    [[maybe_unused]] constexpr auto bad = sg::population<"o", 3>(sg::LeakyIntegrate{}, sg::SumVar<"W">{});
#endif
    return 0;
}
