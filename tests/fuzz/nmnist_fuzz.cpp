// libFuzzer target for the N-MNIST .bin reader and its conversion to
// SpikeEvents, with N-MNIST's 34 x 34 sensor and the largest the format
// allows (256 x 240, so that most random events are in range and reach the
// conversion). The only accepted failure is spikegraph::InvalidArgument; any
// other exception, a crash, a sanitizer report or a broken invariant (trap)
// is a bug.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include <spikegraph/data/nmnist.hpp>

namespace sg = spikegraph;

namespace {

void require(bool ok) {
    if (!ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::uint8_t> bytes(data, size);
    for (const sg::NmnistSensor sensor : {sg::NmnistSensor{}, sg::NmnistSensor{256, 240}}) {
        std::vector<sg::NmnistEvent> events;
        try {
            events = sg::parse_nmnist_events(bytes, "fuzz input", sensor);
        } catch (const sg::InvalidArgument&) {
            continue;
        }
        require(size % 5 == 0 && events.size() <= size / 5);
        const std::uint64_t max_t = (std::uint64_t{1} << 23) - 1 + (size / 5) * 8192;
        for (const auto& e : events) require(e.x < sensor.width && e.y < sensor.height && e.p <= 1 && e.t_us <= max_t);

        // Both two-polarity layouts, and one channel per pixel.
        for (int variant = 0; variant < 3; ++variant) {
            sg::NmnistEncoding encoding;
            encoding.sensor = sensor;
            encoding.layout = variant == 1 ? sg::NmnistLayout::ml_genn : sg::NmnistLayout::polarity_major;
            encoding.polarity_channels = variant != 2;
            try {
                const sg::SpikeEvents spikes = sg::nmnist_to_spike_events(events, encoding, "fuzz events");
                require(spikes.size() == events.size() && spikes.ids.size() == spikes.times.size());
                require(std::is_sorted(spikes.times.begin(), spikes.times.end()));
                const std::size_t neurons = sg::nmnist_num_neurons(encoding);
                for (auto id : spikes.ids) require(id < neurons);
            } catch (const sg::InvalidArgument&) {
                __builtin_trap();  // every event was checked against the sensor: nothing to reject
            }
        }
    }
    return 0;
}
