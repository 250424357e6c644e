// The CUDA backend replays SpikeInput events from a schedule built on the host
// (kernels/spikegraph/cuda/spike_input_schedule.hpp). Host code, so it is
// checked here on every machine: the schedule must hold, per step, exactly the
// spikes the CPU backend's input queue emits, in the same order (including the
// events of one neuron due in the same step, which wait a step each).
#include <catch2/catch.hpp>

#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

#include <spikegraph/cuda/spike_input_schedule.hpp>
#include <spikegraph/spikegraph.hpp>

namespace sg = spikegraph;

namespace {

constexpr auto input = sg::population<"input", 30>(sg::SpikeInput{});
constexpr auto output = sg::population<"output", 2>(sg::LeakyIntegrate{}, sg::SumVar{});
constexpr auto net = sg::network(input >> sg::Dense{} >> output);
using Net = std::remove_cvref_t<decltype(net)>;
using InputPopulation = Net::population_type<0>;

}  // namespace

TEST_CASE("the spike input schedule equals the CPU backend's input spikes, order included", "[cuda][schedule]") {
    constexpr int steps = 40;
    std::mt19937 gen(3);
    sg::SpikeDataset data;
    data.num_inputs = 30;
    for (int e = 0; e < 3; ++e) {
        std::vector<float> times;
        std::vector<std::uint32_t> ids;
        for (int s = 0; s < 200; ++s) {
            times.push_back(float(gen() % 20) * 0.5f);  // crowded: many neurons have two events in one step
            ids.push_back(std::uint32_t(gen() % 30));
        }
        times.push_back(100.0f);  // after the example's end: never replayed
        ids.push_back(0);
        data.examples.push_back(sg::make_spike_events(times, ids, 30));
        data.labels.push_back(0);
    }
    const sg::InputBatch batch = sg::make_input_batch(data, 0, 3);
    const auto schedule =
        sg::cuda_backend::build_spike_input_schedule<InputPopulation, 0>(sg::SpikeInput{}, 0.5f, batch, steps);
    REQUIRE(schedule.lanes() == 3);

    auto model = sg::InferenceCompiler{.example_timesteps = steps, .batch_size = 3, .dt = 0.5f, .num_threads = 1,
                                       .verbose = false}
                     .compile<sg::cpu>(net);
    auto& simulator = model.simulator();
    simulator.set_input<0>(batch);
    simulator.record_spikes(0, true);
    simulator.run();
    const sg::RecordedSpikes& recorded = simulator.recorded_spikes(0);

    std::size_t carried = 0;
    for (std::size_t lane = 0; lane < 3; ++lane) {
        std::vector<std::int32_t> steps_from_schedule;
        std::vector<std::uint32_t> ids_from_schedule;
        for (int step = 0; step < steps; ++step) {
            for (std::uint32_t s = schedule.begin(lane, step); s < schedule.end(lane, step); ++s) {
                steps_from_schedule.push_back(step);
                ids_from_schedule.push_back(schedule.ids[s]);
            }
            // A step whose ids are not ascending holds carried-over spikes.
            for (std::uint32_t s = schedule.begin(lane, step) + 1; s < schedule.end(lane, step); ++s)
                carried += schedule.ids[s] < schedule.ids[s - 1];
        }
        INFO("lane " << lane);
        CHECK(ids_from_schedule == recorded.ids[lane]);
        CHECK(steps_from_schedule == recorded.steps[lane]);
        CHECK(schedule.end(lane, steps - 1) - schedule.begin(lane, 0) == 200);  // every event before t = 20 ms
    }
    CHECK(carried > 0);  // the order-sensitive case really occurred
}
