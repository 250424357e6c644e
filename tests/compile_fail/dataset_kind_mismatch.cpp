// A PoissonInput population takes rates (ValueDataset), not spike events (SpikeDataset).
#include <spikegraph/spikegraph.hpp>

namespace sg = spikegraph;

constexpr auto in = sg::population<"in", 4>(sg::PoissonInput{});
constexpr auto out = sg::population<"out", 2>(sg::LeakyIntegrate{}, sg::AvgVar{});
constexpr auto net = sg::network(in >> sg::Dense{} >> out);

int main() {
    auto model = sg::InferenceCompiler{.example_timesteps = 10}.compile<sg::cpu>(net);
    sg::ValueDataset rates;
    (void)model.evaluate(rates);
#ifdef SPIKEGRAPH_EXPECT_COMPILE_ERROR
    sg::SpikeDataset spikes;
    (void)model.evaluate(spikes);
#endif
    return 0;
}
