// predict<"hidden"> names a population that has no readout to report.
#include <spikegraph/spikegraph.hpp>

namespace sg = spikegraph;

constexpr auto in = sg::population<"in", 4>(sg::SpikeInput{});
constexpr auto hidden = sg::population<"hidden", 3>(sg::LeakyIntegrateFire{});
constexpr auto out = sg::population<"out", 2>(sg::LeakyIntegrate{}, sg::AvgVar{});
constexpr auto net = sg::network(in >> sg::Dense{} >> hidden, hidden >> sg::Dense{} >> out);

int main() {
    auto model = sg::InferenceCompiler{.example_timesteps = 10}.compile<sg::cpu>(net);
    sg::SpikeDataset data;
    (void)model.predict<"out">(data);
#ifdef SPIKEGRAPH_EXPECT_COMPILE_ERROR
    (void)model.predict<"hidden">(data);
#endif
    return 0;
}
