#pragma once
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <spikegraph/data/dataset.hpp>
#include <spikegraph/data/yin_yang.hpp>
#include <spikegraph/error.hpp>

namespace spikegraph {

// Latency encodings of static values into one spike per input neuron, as
// mlGeNN's ml_genn/utils/data.py. Times are computed in double precision (as
// numpy does) and stored as float (as GeNN does).

// linear_latency_encode_data: values are uint8 intensities in [0, 255]; a value
// v > thresh spikes at  min_time + (max_time - min_time) (255 - v) / 255,
// so 255 spikes at min_time and values <= thresh never spike.
struct LinearLatency {
    double max_time = 0.0;  // required: spike time of a value of 0
    double min_time = 0.0;  // spike time of a value of 255
    double thresh = 1.0;    // values must exceed this to spike
};

// log_latency_encode_data: a value v > thresh spikes at  tau_eff log(v / (v - thresh));
// values <= thresh never spike. mlGeNN has no defaults for either parameter.
struct LogLatency {
    double tau_eff = 0.0;                                      // required, > 0
    double thresh = std::numeric_limits<double>::quiet_NaN();  // required, >= 0
};

namespace detail {

template <class TimeOf>
SpikeDataset latency_encode(const ValueDataset& data, std::string_view encoding, TimeOf&& time_of) {
    check_dataset_shape(data, encoding, /*require_inputs=*/true);
    SpikeDataset out;
    out.num_inputs = data.num_inputs;
    out.labels = data.labels;
    out.num_classes = data.num_classes;
    out.examples.reserve(data.size());
    for (std::size_t e = 0; e < data.size(); ++e) {
        std::vector<float> times;
        std::vector<std::uint32_t> ids;
        const float* row = data.example(e);
        for (std::size_t i = 0; i < data.num_inputs; ++i) {
            const double value = row[i];
            if (!std::isfinite(value))
                throw_invalid(encoding, ": example ", e, ", feature ", i, " is not finite (", row[i], ")");
            double time = 0.0;
            if (!time_of(value, e, i, time)) continue;
            times.push_back(static_cast<float>(time));
            ids.push_back(static_cast<std::uint32_t>(i));
        }
        out.examples.push_back(make_spike_events(std::move(times), std::move(ids), data.num_inputs,
                                                 concat_message(encoding, ": example ", e)));
    }
    return out;
}

}  // namespace detail

// One spike per input whose value exceeds encoding.thresh; labels carry over.
inline SpikeDataset linear_latency_encode(const ValueDataset& data, const LinearLatency& encoding) {
    constexpr std::string_view name = "linear_latency_encode";
    if (!std::isfinite(encoding.max_time) || !std::isfinite(encoding.min_time) || encoding.min_time < 0.0 ||
        encoding.max_time < encoding.min_time)
        detail::throw_invalid(name, ": need finite times with 0 <= min_time <= max_time, got min_time=",
                              encoding.min_time, " max_time=", encoding.max_time);
    if (!std::isfinite(encoding.thresh)) detail::throw_invalid(name, ": thresh must be finite, got ", encoding.thresh);
    const double range = encoding.max_time - encoding.min_time;
    return detail::latency_encode(data, name, [&](double value, std::size_t e, std::size_t i, double& time) {
        if (value < 0.0 || value > 255.0)
            detail::throw_invalid(name, ": example ", e, ", feature ", i, " is ", value,
                                  "; expected a uint8 intensity in [0, 255], as mlGeNN");
        if (!(value > encoding.thresh)) return false;
        time = ((255.0 - value) / 255.0) * range + encoding.min_time;
        return true;
    });
}

inline SpikeDataset log_latency_encode(const ValueDataset& data, const LogLatency& encoding) {
    constexpr std::string_view name = "log_latency_encode";
    if (!(std::isfinite(encoding.tau_eff) && encoding.tau_eff > 0.0))
        detail::throw_invalid(name, ": tau_eff must be finite and > 0, got ", encoding.tau_eff);
    if (!(std::isfinite(encoding.thresh) && encoding.thresh >= 0.0))
        detail::throw_invalid(name, ": thresh must be finite and >= 0, got ", encoding.thresh);
    return detail::latency_encode(data, name, [&](double value, std::size_t, std::size_t, double& time) {
        if (!(value > encoding.thresh)) return false;
        time = encoding.tau_eff * std::log(value / (value - encoding.thresh));
        return true;
    });
}

namespace datasets {

// The encoding of mlGeNN's EventProp Yin-Yang example (examples/event_prop/yin_yang.py,
// via ml_genn.utils.data.generate_yin_yang_dataset): each feature f in
// (x, y, 1 - x, 1 - y) spikes once at offset + f * scale, and with `bias` a
// fifth neuron, neuron 0, spikes at `offset` (the features move to neurons 1..4).
// The example uses scale = EXAMPLE_TIME - 4 DT = 30 - 0.04 ms with dt = 0.01 ms.
struct YinYangEncoding {
    double scale = 29.96;
    double offset = 0.0;
    bool bias = true;

    std::size_t num_inputs() const { return bias ? 5 : 4; }
};

inline SpikeDataset encode_yin_yang(const YinYang& data, const YinYangEncoding& encoding = {}) {
    constexpr std::string_view name = "encode_yin_yang";
    if (!(std::isfinite(encoding.scale) && encoding.scale >= 0.0))
        spikegraph::detail::throw_invalid(name, ": scale must be finite and >= 0, got ", encoding.scale);
    if (!(std::isfinite(encoding.offset) && encoding.offset >= 0.0))
        spikegraph::detail::throw_invalid(name, ": offset must be finite and >= 0, got ", encoding.offset);
    const std::size_t n = data.size();
    if (data.features.size() != n * YinYang::num_features)
        spikegraph::detail::throw_invalid(name, ": ", n, " labels but ", data.features.size(), " feature values (expected ",
                                          n * YinYang::num_features, ")");
    const bool exact = !data.coordinates.empty();
    if (exact && data.coordinates.size() != n * 2)
        spikegraph::detail::throw_invalid(name, ": ", n, " examples but ", data.coordinates.size(),
                                          " coordinates (expected 2 per example, or none)");

    const std::size_t first = encoding.bias ? 1 : 0;
    SpikeDataset out;
    out.num_inputs = encoding.num_inputs();
    out.num_classes = YinYang::num_classes;
    out.labels = data.labels;
    out.examples.reserve(n);
    for (std::size_t e = 0; e < n; ++e) {
        if (data.labels[e] < 0 || data.labels[e] >= std::int32_t(YinYang::num_classes))
            spikegraph::detail::throw_invalid(name, ": example ", e, " has label ", data.labels[e], ", expected 0, 1 or 2");
        double features[YinYang::num_features];
        for (std::size_t f = 0; f < YinYang::num_features; ++f) {
            const float value = data.features[e * YinYang::num_features + f];
            if (!std::isfinite(value))
                spikegraph::detail::throw_invalid(name, ": example ", e, ", feature ", f, " is not finite (", value, ")");
            features[f] = value;
        }
        if (exact) {
            const double x = data.coordinates[2 * e], y = data.coordinates[2 * e + 1];
            if (!std::isfinite(x) || !std::isfinite(y))
                spikegraph::detail::throw_invalid(name, ": example ", e, ", coordinates (", x, ", ", y, ") are not finite");
            features[0] = x, features[1] = y, features[2] = 1.0 - x, features[3] = 1.0 - y;
        }
        std::vector<float> times;
        std::vector<std::uint32_t> ids;
        if (encoding.bias) times.push_back(static_cast<float>(encoding.offset)), ids.push_back(0);
        for (std::size_t f = 0; f < YinYang::num_features; ++f) {
            const double time = encoding.offset + features[f] * encoding.scale;
            if (time < 0.0)
                spikegraph::detail::throw_invalid(name, ": example ", e, ", feature ", f, " = ", features[f],
                                                  " gives the negative spike time ", time, " ms");
            times.push_back(static_cast<float>(time));
            ids.push_back(static_cast<std::uint32_t>(first + f));
        }
        out.examples.push_back(make_spike_events(std::move(times), std::move(ids), out.num_inputs,
                                                 spikegraph::detail::concat_message(name, ": example ", e)));
    }
    return out;
}

}  // namespace datasets
}  // namespace spikegraph
