// The other direction: a SpikeInput population replays events and cannot take a ValueDataset.
#include <spikegraph/spikegraph.hpp>

namespace sg = spikegraph;

constexpr auto in = sg::population<"in", 4>(sg::SpikeInput{});
constexpr auto out = sg::population<"out", 2>(sg::LeakyIntegrate{}, sg::AvgVar{});
constexpr auto net = sg::network(in >> sg::Dense{} >> out);

int main() {
    auto model = sg::InferenceCompiler{.example_timesteps = 10}.compile<sg::cpu>(net);
    sg::SpikeDataset spikes;
    (void)model.predict(spikes);
#ifdef SPIKEGRAPH_EXPECT_COMPILE_ERROR
    sg::ValueDataset values;
    (void)model.predict(values);
#endif
    return 0;
}
