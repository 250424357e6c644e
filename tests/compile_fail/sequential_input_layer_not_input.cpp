// InputLayer needs an input model; a LIF population there would receive no data.
#include <spikegraph/graph/sequential.hpp>
#include <spikegraph/model/leaky_integrate_fire.hpp>
#include <spikegraph/model/spike_input.hpp>

namespace sg = spikegraph;

int main() {
    [[maybe_unused]] constexpr auto ok = sg::InputLayer<8>(sg::SpikeInput{});
#ifdef SPIKEGRAPH_EXPECT_COMPILE_ERROR
    [[maybe_unused]] constexpr auto bad = sg::InputLayer<8>(sg::LeakyIntegrateFire{});
#endif
    return 0;
}
