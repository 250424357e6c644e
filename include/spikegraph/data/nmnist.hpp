#pragma once
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <spikegraph/byte_cursor.hpp>
#include <spikegraph/data/dataset.hpp>
#include <spikegraph/error.hpp>
#include <spikegraph/file_io.hpp>

// N-MNIST / N-Caltech101 `.bin` recordings (Orchard et al. 2015, ATIS sensor).
// No dependencies beyond the core library.
//
// Each event is 5 bytes: x = b0, y = b1, polarity p = b2 >> 7, and a 23-bit
// timestamp t = ((b2 & 0x7F) << 16) | (b3 << 8) | b4 in microseconds. An
// "event" with y == 240 is not an event but a timestamp-overflow marker: it
// adds 2^13 us to the time of every event after it. This is how the
// dataset's reference reader (Orchard's eventvision.py) and tonic's
// read_mnist_file decode the files, so times here equal tonic's.

namespace spikegraph {

struct NmnistEvent {
    std::uint32_t x = 0;
    std::uint32_t y = 0;
    std::uint32_t p = 0;      // 0 or 1 (OFF / ON)
    std::uint64_t t_us = 0;   // microseconds from the start of the recording, overflow markers applied
};

// Events must lie inside the sensor: N-MNIST is 34 x 34; N-Caltech101 uses
// the same file format on a larger sensor (up to 240 x 180).
struct NmnistSensor {
    std::uint32_t width = 34;
    std::uint32_t height = 34;
};

namespace detail {

inline constexpr std::uint32_t nmnist_overflow_marker_y = 240;
inline constexpr std::uint64_t nmnist_overflow_increment_us = std::uint64_t{1} << 13;
inline constexpr std::size_t nmnist_event_bytes = 5;

inline void check_nmnist_sensor(const NmnistSensor& sensor, std::string_view where) {
    if (sensor.width == 0 || sensor.height == 0)
        throw_invalid(where, ": sensor must be at least 1 x 1, got ", sensor.width, " x ", sensor.height);
    // y == 240 is the overflow marker, so no taller sensor fits the format.
    if (sensor.width > 256 || sensor.height > nmnist_overflow_marker_y)
        throw_invalid(where, ": sensor ", sensor.width, " x ", sensor.height,
                      " does not fit the format: expected width <= 256 and height <= 240 (y = 240 marks a "
                      "timestamp overflow)");
}

}  // namespace detail

// Decodes events from bytes in memory, in file order (times are not sorted
// here: N-MNIST files are in time order, and nmnist_to_spike_events sorts
// anyway). `source` names the data in errors. Throws InvalidArgument when the
// size is not a multiple of 5 (a truncated or padded file) or an event lies
// outside the sensor. A file cut at an event boundary cannot be told from a
// shorter recording and loads as one.
inline std::vector<NmnistEvent> parse_nmnist_events(std::span<const std::uint8_t> bytes,
                                                    std::string_view source = "N-MNIST data",
                                                    const NmnistSensor& sensor = {}) {
    detail::check_nmnist_sensor(sensor, source);
    constexpr std::size_t record = detail::nmnist_event_bytes;
    if (bytes.size() % record != 0)
        detail::throw_invalid(source, ": size ", bytes.size(), " bytes is not a multiple of the ", record,
                              "-byte event size: ", bytes.size() / record, " whole events, then ",
                              bytes.size() % record, " trailing bytes at byte ", bytes.size() - bytes.size() % record,
                              " (truncated or corrupt file)");
    detail::ByteCursor cursor(bytes, std::string(source));
    std::vector<NmnistEvent> events;
    events.reserve(bytes.size() / record);
    std::uint64_t overflow_us = 0;
    for (std::size_t record_index = 0; !cursor.at_end(); ++record_index) {
        const std::size_t offset = cursor.offset();
        const auto b = cursor.take(record, "event");
        const std::uint64_t t = (std::uint64_t{b[2] & 0x7Fu} << 16) | (std::uint64_t{b[3]} << 8) | b[4];
        if (b[1] == detail::nmnist_overflow_marker_y) {
            overflow_us += detail::nmnist_overflow_increment_us;
            continue;
        }
        // Events are numbered as returned (markers skipped), records as stored.
        if (b[0] >= sensor.width)
            cursor.fail_at(offset, detail::concat_message("x of event ", events.size(), " (record ", record_index, ")"),
                           "expected < ", sensor.width, " (sensor width), got ", int(b[0]));
        if (b[1] >= sensor.height)
            cursor.fail_at(offset + 1,
                           detail::concat_message("y of event ", events.size(), " (record ", record_index, ")"),
                           "expected < ", sensor.height, " (sensor height) or 240 (overflow marker), got ", int(b[1]));
        events.push_back(NmnistEvent{b[0], b[1], static_cast<std::uint32_t>(b[2] >> 7), t + overflow_us});
    }
    return events;
}

// Reads one `.bin` recording; errors name the file.
inline std::vector<NmnistEvent> read_nmnist_events(const std::filesystem::path& path, const NmnistSensor& sensor = {}) {
    return parse_nmnist_events(detail::read_file_bytes(path), detail::quoted_path(path), sensor);
}

// How (x, y, p) becomes an input neuron id.
enum class NmnistLayout {
    // id = (p * height + y) * width + x: channel-major, the [p][y][x] order of
    // tonic's ToFrame frames flattened (and of a C x H x W convolution input).
    polarity_major,
    // id = (y * width + x) * 2 + p: polarity fastest, as mlGeNN's
    // preprocess_tonic_spikes numbers a two-polarity sensor; use this to
    // exchange input weights with mlGeNN.
    ml_genn,
};

struct NmnistEncoding {
    NmnistSensor sensor{};
    double time_scale = 1.0 / 1000.0;  // us -> ms, mlGeNN's default
    bool polarity_channels = true;     // false: both polarities share id = y * width + x
    NmnistLayout layout = NmnistLayout::polarity_major;
};

// Input neurons the encoding addresses: 2 * 34 * 34 = 2312 for N-MNIST.
inline std::size_t nmnist_num_neurons(const NmnistEncoding& encoding = {}) {
    return std::size_t{encoding.sensor.width} * encoding.sensor.height * (encoding.polarity_channels ? 2 : 1);
}

// One example's SpikeEvents: times t_us * time_scale (computed in double,
// stored as float), sorted by time then id by make_spike_events. Events out
// of time order in the input are sorted, not rejected; events outside the
// sensor or with p > 1 are rejected, naming the event.
inline SpikeEvents nmnist_to_spike_events(std::span<const NmnistEvent> events, const NmnistEncoding& encoding = {},
                                          std::string_view where = "N-MNIST events") {
    detail::check_nmnist_sensor(encoding.sensor, where);
    if (!std::isfinite(encoding.time_scale) || !(encoding.time_scale > 0.0))
        detail::throw_invalid(where, ": time_scale must be finite and > 0, got ", encoding.time_scale);
    const std::uint32_t width = encoding.sensor.width;
    const std::uint32_t height = encoding.sensor.height;
    std::vector<float> times(events.size());
    std::vector<std::uint32_t> ids(events.size());
    for (std::size_t i = 0; i < events.size(); ++i) {
        const NmnistEvent& e = events[i];
        if (e.x >= width || e.y >= height || e.p > 1)
            detail::throw_invalid(where, ": event ", i, " has x = ", e.x, ", y = ", e.y, ", p = ", e.p,
                                  ", expected x < ", width, ", y < ", height, ", p 0 or 1");
        const std::uint32_t pixel = e.y * width + e.x;
        if (!encoding.polarity_channels) ids[i] = pixel;
        else if (encoding.layout == NmnistLayout::ml_genn) ids[i] = pixel * 2 + e.p;
        else ids[i] = e.p * width * height + pixel;
        times[i] = static_cast<float>(static_cast<double>(e.t_us) * encoding.time_scale);
    }
    return make_spike_events(std::move(times), std::move(ids), nmnist_num_neurons(encoding), where);
}

// read_nmnist_events + nmnist_to_spike_events, errors naming the file.
inline SpikeEvents load_nmnist_spike_events(const std::filesystem::path& path, const NmnistEncoding& encoding = {}) {
    return nmnist_to_spike_events(read_nmnist_events(path, encoding.sensor), encoding, detail::quoted_path(path));
}

}  // namespace spikegraph
