// Per-neuron biases exist only for models whose Dynamics have a bias
// (LeakyIntegrate); asking a LeakyIntegrateFire population for them must be
// rejected at compile time.
#include <spikegraph/spikegraph.hpp>

namespace sg = spikegraph;

constexpr auto in = sg::population<"in", 4>(sg::SpikeInput{});
constexpr auto hidden = sg::population<"hidden", 8>(sg::LeakyIntegrateFire{});
constexpr auto out = sg::population<"out", 2>(sg::LeakyIntegrate{}, sg::SumVar{});
constexpr auto net = sg::network(in >> sg::Dense{} >> sg::Exponential{} >> hidden,
                                 hidden >> sg::Dense{} >> sg::Exponential{} >> out);

int main() {
    auto model = sg::InferenceCompiler{.example_timesteps = 10, .verbose = false}.compile<sg::cpu>(net);
    (void)model.biases<"out">();
#ifdef SPIKEGRAPH_EXPECT_COMPILE_ERROR
    (void)model.biases<"hidden">();
#endif
    return 0;
}
