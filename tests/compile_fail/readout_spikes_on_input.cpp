// A spike-based readout on an input population: inputs spike, but still cannot have a readout.
#include <spikegraph/graph/population.hpp>
#include <spikegraph/model/spike_input.hpp>

namespace sg = spikegraph;

int main() {
    [[maybe_unused]] constexpr auto in = sg::population<"in", 4>(sg::SpikeInput{});
#ifdef SPIKEGRAPH_EXPECT_COMPILE_ERROR
    [[maybe_unused]] constexpr auto bad = sg::population<"in", 4>(sg::SpikeInput{}, sg::SpikeCount{});
#endif
    return 0;
}
