#pragma once
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <string>
#include <string_view>
#include <vector>

#include <spikegraph/error.hpp>

namespace spikegraph {

// One example's spike events, sorted by time (ties by neuron id), times in ms
// from the example's start: what a SpikeInput population replays.
struct SpikeEvents {
    std::vector<float> times;
    std::vector<std::uint32_t> ids;

    std::size_t size() const { return times.size(); }
};

// Builds SpikeEvents from unsorted (time, id) pairs, checking every event, as
// mlGeNN's preprocess_spikes does. `where` names the example in errors.
inline SpikeEvents make_spike_events(std::vector<float> times, std::vector<std::uint32_t> ids,
                                     std::size_t num_neurons, std::string_view where = "spike events") {
    if (times.size() != ids.size())
        detail::throw_invalid(where, ": ", times.size(), " spike times but ", ids.size(), " neuron ids");
    for (std::size_t i = 0; i < times.size(); ++i) {
        if (!std::isfinite(times[i]) || times[i] < 0.0f)
            detail::throw_invalid(where, ": spike ", i, " has time ", times[i], " ms, expected a finite time >= 0");
        if (ids[i] >= num_neurons)
            detail::throw_invalid(where, ": spike ", i, " has neuron id ", ids[i], ", expected < ", num_neurons);
    }
    std::vector<std::size_t> order(times.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        return times[a] < times[b] || (times[a] == times[b] && ids[a] < ids[b]);
    });
    SpikeEvents events;
    events.times.reserve(order.size());
    events.ids.reserve(order.size());
    for (std::size_t i : order) {
        events.times.push_back(times[i]);
        events.ids.push_back(ids[i]);
    }
    return events;
}

// Labels shared by both dataset kinds: one class index per example.
struct Labels {
    std::vector<std::int32_t> labels;  // empty: unlabelled (predict only)
    std::size_t num_classes = 0;
};

// Examples as spike events, for SpikeInput populations.
struct SpikeDataset : Labels {
    std::size_t num_inputs = 0;  // neurons in the input layer the events address
    std::vector<SpikeEvents> examples;

    std::size_t size() const { return examples.size(); }
};

// Examples as one value per input neuron ([example][neuron], row-major), for
// PoissonInput (rates, spikes/ms) and BinarySpikeInput populations.
struct ValueDataset : Labels {
    std::size_t num_inputs = 0;
    std::vector<float> values;

    std::size_t size() const { return num_inputs == 0 ? 0 : values.size() / num_inputs; }
    const float* example(std::size_t i) const { return values.data() + i * num_inputs; }
};

template <class D>
concept DatasetType = std::same_as<D, SpikeDataset> || std::same_as<D, ValueDataset>;

namespace detail {

// The structure every dataset must have, checked once wherever one is taken
// in: values a whole number of examples, one label per example (or none).
// Encoders also need at least one input (require_inputs). `name` says who asks.
template <DatasetType D>
void check_dataset_shape(const D& data, std::string_view name, bool require_inputs = false) {
    if constexpr (std::same_as<D, ValueDataset>) {
        if (data.num_inputs == 0 && (require_inputs || !data.values.empty()))
            throw_invalid(name, ": the dataset has num_inputs = 0 (and ", data.values.size(), " values)");
        if (data.num_inputs != 0 && data.values.size() % data.num_inputs != 0)
            throw_invalid(name, ": ", data.values.size(), " values is not a multiple of ", data.num_inputs,
                          " inputs per example");
    }
    if (!data.labels.empty() && data.labels.size() != data.size())
        throw_invalid(name, ": the dataset has ", data.size(), " examples but ", data.labels.size(), " labels");
}

// Checks a dataset against the network's input and readout populations before
// any simulation, so bad data fails with a message instead of wrong results.
template <DatasetType D>
void validate_dataset(const D& data, std::string_view input_name, std::size_t input_size,
                      std::string_view output_name, std::size_t output_size, bool need_labels) {
    if (data.num_inputs != input_size)
        throw_invalid("dataset has ", data.num_inputs, " inputs per example but input population '", input_name,
                      "' has ", input_size, " neurons");
    check_dataset_shape(data, "dataset");
    if constexpr (std::same_as<D, ValueDataset>) {
        for (std::size_t i = 0; i < data.values.size(); ++i)
            if (!std::isfinite(data.values[i]))
                throw_invalid("dataset values: example ", i / input_size, ", input ", i % input_size,
                              " is not finite (", data.values[i], ")");
    } else {
        for (std::size_t e = 0; e < data.examples.size(); ++e) {
            const auto& ex = data.examples[e];
            if (ex.times.size() != ex.ids.size())
                throw_invalid("dataset example ", e, ": ", ex.times.size(), " spike times but ", ex.ids.size(), " ids");
            for (std::size_t i = 0; i < ex.size(); ++i) {
                if (ex.ids[i] >= input_size)
                    throw_invalid("dataset example ", e, ": spike ", i, " has neuron id ", ex.ids[i],
                                  " but input population '", input_name, "' has ", input_size, " neurons");
                if (!std::isfinite(ex.times[i]) || ex.times[i] < 0.0f || (i > 0 && ex.times[i] < ex.times[i - 1]))
                    throw_invalid("dataset example ", e, ": spike ", i, " has time ", ex.times[i],
                                  " ms; times must be finite, >= 0 and sorted (use make_spike_events)");
            }
        }
    }
    if (need_labels && data.labels.empty()) throw_invalid("dataset has no labels; evaluate needs labelled data");
    for (std::size_t e = 0; e < data.labels.size(); ++e)
        if (data.labels[e] < 0 || static_cast<std::size_t>(data.labels[e]) >= output_size)
            throw_invalid("dataset example ", e, ": label ", data.labels[e], " is out of range for output population '",
                          output_name, "' with ", output_size, " neurons (expected 0..", output_size - 1, ")");
}

}  // namespace detail
}  // namespace spikegraph
