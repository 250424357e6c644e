// A Layer is one population: it takes exactly one neuron model.
#include <spikegraph/graph/sequential.hpp>
#include <spikegraph/model/leaky_integrate.hpp>
#include <spikegraph/model/leaky_integrate_fire.hpp>

namespace sg = spikegraph;

int main() {
    [[maybe_unused]] constexpr auto ok = sg::Layer<8>(sg::LeakyIntegrateFire{}, sg::Exponential{5.0f});
#ifdef SPIKEGRAPH_EXPECT_COMPILE_ERROR
    [[maybe_unused]] constexpr auto bad = sg::Layer<8>(sg::LeakyIntegrateFire{}, sg::LeakyIntegrate{});
#endif
    return 0;
}
