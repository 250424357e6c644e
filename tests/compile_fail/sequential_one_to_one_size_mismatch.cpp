// Shape checks also apply to sequential(): a OneToOne layer must match the previous layer's size.
#include <spikegraph/graph/sequential.hpp>
#include <spikegraph/model/leaky_integrate.hpp>
#include <spikegraph/model/leaky_integrate_fire.hpp>
#include <spikegraph/model/spike_input.hpp>

namespace sg = spikegraph;

int main() {
    [[maybe_unused]] constexpr auto ok = sg::sequential(sg::InputLayer<4>(sg::SpikeInput{}),
                                                        sg::Layer<4>(sg::LeakyIntegrateFire{}, sg::OneToOne{}),
                                                        sg::Layer<2, "out">(sg::LeakyIntegrate{}, sg::AvgVar{}));
#ifdef SPIKEGRAPH_EXPECT_COMPILE_ERROR
    [[maybe_unused]] constexpr auto bad = sg::sequential(sg::InputLayer<4>(sg::SpikeInput{}),
                                                         sg::Layer<5>(sg::LeakyIntegrateFire{}, sg::OneToOne{}),
                                                         sg::Layer<2, "out">(sg::LeakyIntegrate{}, sg::AvgVar{}));
#endif
    return 0;
}
