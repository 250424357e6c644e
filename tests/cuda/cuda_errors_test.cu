// The CUDA backend's errors, on every machine (not labelled gpu, so CI runs
// it): without a CUDA device, compiling a network for spikegraph::cuda throws
// a CudaError that says there is no device; with one, a batch too large for
// the device's memory throws a CudaError naming cudaMalloc, the byte count and
// the buffer, and no silent wrong result happens either way.
#include <catch2/catch.hpp>

#include <cstdio>
#include <string>

#include <cuda_runtime.h>

#include <spikegraph/spikegraph.hpp>

namespace sg = spikegraph;

namespace {

constexpr auto input = sg::population<"input", 20>(sg::SpikeInput{});
constexpr std::size_t kHuge = std::size_t{1} << 24;
constexpr auto hidden = sg::population<"hidden", kHuge>(sg::LeakyIntegrateFire{});
constexpr auto output = sg::population<"output", 3>(sg::LeakyIntegrate{}, sg::AvgVar{});
// Connections are built after every population's state is allocated, so the
// huge state fails first and no 2^24-neuron weight matrix is ever built.
constexpr auto net = sg::network(input >> sg::Dense{} >> hidden, hidden >> sg::Dense{} >> output);
constexpr auto small_hidden = sg::population<"hidden", 64>(sg::LeakyIntegrateFire{});
constexpr auto small_net = sg::network(input >> sg::Dense{} >> small_hidden, small_hidden >> sg::Dense{} >> output);

bool have_device() {
    int count = 0;
    const bool ok = cudaGetDeviceCount(&count) == cudaSuccess && count > 0;
    (void)cudaGetLastError();
    return ok;
}

sg::InferenceCompiler compiler(std::size_t batch_size) {
    return sg::InferenceCompiler{.example_timesteps = 10, .batch_size = batch_size, .verbose = false};
}

}  // namespace

TEST_CASE("the cuda backend rejects a batch wider than the CUDA grid before touching the device", "[cuda]") {
    try {
        auto model = compiler(65536).compile<sg::cuda>(net);
        FAIL("batch_size 65536 was accepted");
    } catch (const sg::InvalidArgument& error) {
        CHECK(std::string(error.what()).find("batch_size must be <= 65535 on the cuda backend") != std::string::npos);
    }
}

TEST_CASE("the cuda backend reports a missing device or exhausted device memory by name", "[cuda]") {
    if (!have_device()) {
        std::printf("cuda_errors: no CUDA device here: checking the no-device error\n");
        try {
            auto model = compiler(2).compile<sg::cuda>(net);
            FAIL("compile<cuda> succeeded without a CUDA device");
        } catch (const sg::CudaError& error) {
            const std::string message = error.what();
            INFO(message);
            CHECK(message.find("spikegraph cuda backend") != std::string::npos);
            CHECK((message.find("no usable CUDA device") != std::string::npos ||
                   message.find("no CUDA device found") != std::string::npos));
            CHECK(message.find("cpu backend") != std::string::npos);
        }
        return;
    }
    // 65535 lanes x 2^24 neurons x 4 bytes, about 4 TiB for one state variable: more than any GPU has.
    const std::size_t lanes = 65535;
    try {
        auto model = compiler(lanes).compile<sg::cuda>(net);
        FAIL("a 4 TiB allocation succeeded");
    } catch (const sg::CudaError& error) {
        const std::string message = error.what();
        INFO(message);
        CHECK(message.find("cudaMalloc of " + std::to_string(lanes * kHuge * 4) + " bytes") != std::string::npos);
        CHECK(message.find("population 'hidden'") != std::string::npos);
        CHECK(error.status() == cudaErrorMemoryAllocation);
    }
    // The device is still usable afterwards.
    auto model = compiler(2).compile<sg::cuda>(small_net);
    sg::SpikeDataset data;
    data.num_inputs = 20;
    data.examples = {sg::make_spike_events({0.0f}, {3}, 20)};
    data.labels = {0};
    CHECK(model.predict(data).values.size() == 3);
}
