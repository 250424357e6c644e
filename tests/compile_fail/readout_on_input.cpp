// An input population only replays data; it cannot have a readout.
#include <spikegraph/graph/population.hpp>
#include <spikegraph/model/leaky_integrate.hpp>
#include <spikegraph/model/spike_input.hpp>

namespace sg = spikegraph;

int main() {
    [[maybe_unused]] constexpr auto in = sg::population<"in", 4>(sg::SpikeInput{});
    [[maybe_unused]] constexpr auto out = sg::population<"out", 4>(sg::LeakyIntegrate{}, sg::AvgVar{});
#ifdef SPIKEGRAPH_EXPECT_COMPILE_ERROR
    [[maybe_unused]] constexpr auto bad = sg::population<"in", 4>(sg::SpikeInput{}, sg::AvgVar{});
#endif
    return 0;
}
