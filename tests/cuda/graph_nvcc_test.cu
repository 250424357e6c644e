// The graph layer under nvcc: a network written in a CUDA translation unit,
// kernels instantiated per population from the graph's types (as the CUDA
// backend does), and the CPU inference path compiled by nvcc's host pass.
// Each population's device update must equal the host's update_neuron.
#include <catch2/catch.hpp>

#include <cstdio>
#include <vector>

#include <cuda_runtime.h>

#include <spikegraph/spikegraph.hpp>

namespace sg = spikegraph;

namespace {

constexpr auto input = sg::population<"input", 3>(sg::SpikeInput{});
constexpr auto hidden = sg::population<"hidden", 64>(sg::LeakyIntegrateFire{.tau_mem = 10.0f}, sg::SpikeCount{});
constexpr auto adaptive = sg::population<"adaptive", 64>(sg::AdaptiveLeakyIntegrateFire{.beta = 0.5f}, sg::MaxVar<"A">{});
constexpr auto output = sg::population<"output", 2>(sg::LeakyIntegrate{}, sg::AvgVarExpWeight{});
constexpr auto net = sg::network(input >> sg::Dense{sg::Constant{0.5f}} >> hidden,
                                 hidden >> sg::Dense{sg::Constant{0.1f}} >> sg::Exponential{} >> adaptive,
                                 adaptive >> sg::Dense{} >> output);

// One thread a neuron; constant input current, `steps` steps, readout result out.
template <class Pop>
__global__ void run_population(typename Pop::neuron_type::Dynamics model, typename Pop::readout_type::Dynamics readout,
                               sg::NeuronState<typename Pop::neuron_type> initial, int steps, float* out) {
    const int n = int(blockIdx.x * blockDim.x + threadIdx.x);
    if (n >= int(Pop::size)) return;
    auto state = initial;
    float accumulator = readout.initial;
    constexpr int variable = sg::readout_variable_index<typename Pop::neuron_type, typename Pop::readout_type>;
    for (int step = 0; step < steps; ++step)
        sg::update_neuron<variable>(model, state, 0.05f + 0.01f * float(n % 8), readout, accumulator, step);
    out[n] = accumulator;
}

template <class Pop, class Population>
std::vector<float> host_population(const Population& pop, int steps) {
    const auto model = pop.neuron.dynamics(1.0f);
    const auto readout = pop.readout.dynamics(1.0f, steps);
    constexpr int variable = sg::readout_variable_index<typename Pop::neuron_type, typename Pop::readout_type>;
    std::vector<float> out(Pop::size);
    for (std::size_t n = 0; n < Pop::size; ++n) {
        auto state = pop.neuron.initial_state();
        float accumulator = readout.initial;
        for (int step = 0; step < steps; ++step)
            sg::update_neuron<variable>(model, state, 0.05f + 0.01f * float(n % 8), readout, accumulator, step);
        out[n] = accumulator;
    }
    return out;
}

template <class Net>
void compare_every_population(const Net& graph, int steps) {
    [&]<std::size_t... P>(std::index_sequence<P...>) {
        (
            [&] {
                using Pop = typename Net::template population_type<P>;
                if constexpr (!sg::is_input_model<typename Pop::neuron_type>) {
                    const auto& pop = graph.template population<P>();
                    float* device = nullptr;
                    REQUIRE(cudaMalloc(&device, Pop::size * sizeof(float)) == cudaSuccess);
                    run_population<Pop><<<1, 128>>>(pop.neuron.dynamics(1.0f), pop.readout.dynamics(1.0f, steps),
                                                    pop.neuron.initial_state(), steps, device);
                    REQUIRE(cudaGetLastError() == cudaSuccess);
                    std::vector<float> from_device(Pop::size);
                    REQUIRE(cudaMemcpy(from_device.data(), device, Pop::size * sizeof(float), cudaMemcpyDeviceToHost) ==
                            cudaSuccess);
                    cudaFree(device);
                    const auto from_host = host_population<Pop>(pop, steps);
                    INFO("population " << sg::name_view<Pop::name>);
                    for (std::size_t n = 0; n < Pop::size; ++n) REQUIRE(from_device[n] == Approx(from_host[n]).epsilon(1e-5));
                }
            }(),
            ...);
    }(std::make_index_sequence<Net::num_populations>{});
}

}  // namespace

TEST_CASE("kernels instantiated from graph types match the host update", "[gpu]") {
    compare_every_population(net, 200);
}

TEST_CASE("the CPU inference path compiles and runs in an nvcc translation unit", "[gpu]") {
    auto model = sg::InferenceCompiler{.example_timesteps = 20, .batch_size = 2}.compile<sg::cpu>(net);
    sg::SpikeDataset data;
    data.num_inputs = 3;
    data.examples = {sg::make_spike_events({0.0f, 1.0f}, {0, 1}, 3), sg::make_spike_events({2.0f}, {2}, 3)};
    data.labels = {0, 1};
    sg::SpikeRecorder<"hidden"> recorder;
    const auto metrics = model.evaluate(data, recorder);
    REQUIRE(metrics.count("sparse_categorical_accuracy") == 1);
    REQUIRE(recorder.spike_ids.size() == 2);
}
