#pragma once
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include <spikegraph/data/dataset.hpp>
#include <spikegraph/error.hpp>
#include <spikegraph/io/npy.hpp>

// Event-camera / cochlea recordings stored as tonic does: a 1-D structured
// .npy array with fields x, y, t, p (any integer or float dtypes, e.g.
// tonic's [('x', '<i8'), ('y', '<i8'), ('t', '<i8'), ('p', '<i8')], or
// DVSGesture's int16 x/y, bool p, int64 t), turned into SpikeEvents for a
// SpikeInput population.
//
//   SpikeEvents e = read_event_array("sample.npy", SensorSize{34, 34, 2});
//
// Neuron ids follow tonic's frame layout: ToFrame makes frames of shape
// (polarity, height, width) per time bin, so flattening one frame gives
//   id = (p * height + y) * width + x,
// and a population of width * height * polarities inputs sees the same order
// as a flattened ToFrame output. Times: t is in microseconds by default
// (tonic's convention), converted to ms with time_unit_ms. Fields y and p may
// be absent (audio datasets such as SHD have t, x, p): then y = 0 (which needs
// height 1) and p = 0. Every event is checked (integral coordinates within
// the sensor, finite non-negative non-decreasing times); errors name the
// file, the event index, the field and the value.

namespace spikegraph {

// tonic's sensor_size (width, height, polarities).
struct SensorSize {
    std::size_t width = 0;
    std::size_t height = 1;
    std::size_t polarities = 2;

    std::size_t neurons() const { return width * height * polarities; }
};

struct EventArrayOptions {
    double time_unit_ms = 1e-3;     // ms per unit of the t field (tonic: microseconds)
    bool merge_polarities = false;  // every event to polarity 0, as tonic's MergePolarities
    std::string x_field = "x", y_field = "y", t_field = "t", p_field = "p";
};

// SpikeEvents (times in ms) of one recording held in `events`.
inline SpikeEvents events_from_array(const NpyArray& events, const SensorSize& sensor, const EventArrayOptions& options = {}) {
    const std::string& where = events.source;
    if (sensor.width == 0 || sensor.height == 0 || sensor.polarities == 0)
        detail::throw_invalid(where, ": sensor size (", sensor.width, ", ", sensor.height, ", ", sensor.polarities,
                              "): expected every dimension > 0");
    const long double neurons = static_cast<long double>(sensor.width) * sensor.height * sensor.polarities;
    if (neurons > static_cast<long double>(std::numeric_limits<std::uint32_t>::max()))
        detail::throw_invalid(where, ": sensor size (", sensor.width, ", ", sensor.height, ", ", sensor.polarities,
                              "): expected at most 2^32 - 1 neurons");
    if (!(std::isfinite(options.time_unit_ms) && options.time_unit_ms > 0.0))
        detail::throw_invalid(where, ": time_unit_ms: expected a finite value > 0, got ", options.time_unit_ms);
    if (!events.structured())
        detail::throw_invalid(where, ": dtype: expected a structured array with fields '", options.x_field, "', '",
                              options.y_field, "', '", options.t_field, "', '", options.p_field, "' (as tonic saves events), got ",
                              events.descr);
    if (events.shape.size() != 1)
        detail::throw_invalid(where, ": shape: expected one dimension (one record per event), got ",
                              detail::shape_literal(events.shape));
    for (const std::string* required : {&options.x_field, &options.t_field})
        if (!events.has_field(*required)) (void)events.field<double>(*required);  // throws, naming the fields present
    const bool has_y = events.has_field(options.y_field), has_p = events.has_field(options.p_field);
    if (!has_y && sensor.height != 1)
        detail::throw_invalid(where, ": field '", options.y_field, "': expected it for a sensor of height ", sensor.height,
                              ", got no such field");

    const std::size_t n = events.shape[0];
    const std::vector<std::int64_t> x = events.field<std::int64_t>(options.x_field, "event");
    const std::vector<std::int64_t> y = has_y ? events.field<std::int64_t>(options.y_field, "event") : std::vector<std::int64_t>(n, 0);
    const std::vector<std::int64_t> p = has_p ? events.field<std::int64_t>(options.p_field, "event") : std::vector<std::int64_t>(n, 0);
    const std::vector<double> t = events.field<double>(options.t_field, "event");

    auto check = [&](std::size_t i, const std::string& field, std::int64_t value, std::size_t limit, std::string_view what) {
        if (value < 0 || std::uint64_t(value) >= limit)
            detail::throw_invalid(where, ": event ", i, ": field '", field, "' has value ", value, ", expected 0 <= ", field,
                                  " < ", limit, " (", what, ")");
    };
    std::vector<float> times(n);
    std::vector<std::uint32_t> ids(n);
    for (std::size_t i = 0; i < n; ++i) {
        check(i, options.x_field, x[i], sensor.width, "sensor width");
        check(i, options.y_field, y[i], sensor.height, "sensor height");
        const std::int64_t polarity = options.merge_polarities ? 0 : p[i];
        if (!options.merge_polarities) check(i, options.p_field, polarity, sensor.polarities, "sensor polarities; merge_polarities maps all to 0");
        if (!std::isfinite(t[i]) || t[i] < 0.0)
            detail::throw_invalid(where, ": event ", i, ": field '", options.t_field, "' has value ", t[i],
                                  ", expected a finite time >= 0");
        if (i > 0 && t[i] < t[i - 1])
            detail::throw_invalid(where, ": event ", i, ": field '", options.t_field, "' has value ", t[i], " after ", t[i - 1],
                                  ", expected non-decreasing times");
        const double ms = t[i] * options.time_unit_ms;
        if (!(ms <= double(std::numeric_limits<float>::max())))
            detail::throw_invalid(where, ": event ", i, ": field '", options.t_field, "' has value ", t[i],
                                  ", which is beyond float range in ms");
        times[i] = static_cast<float>(ms);
        ids[i] = static_cast<std::uint32_t>((std::uint64_t(polarity) * sensor.height + std::uint64_t(y[i])) * sensor.width +
                                            std::uint64_t(x[i]));
    }
    // Sorts equal times by neuron id, as SpikeInput expects.
    return make_spike_events(std::move(times), std::move(ids), sensor.neurons(), where);
}

inline SpikeEvents read_event_array(const std::filesystem::path& path, const SensorSize& sensor,
                                    const EventArrayOptions& options = {}) {
    return events_from_array(read_npy(path), sensor, options);
}

}  // namespace spikegraph
