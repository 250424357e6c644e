#pragma once
// Preprocessing of spike data, as mlGeNN's ml_genn/utils/data.py:
// preprocess_spikes, calc_max_spikes, calc_latest_spike_time, time scaling and
// binning. Including this header also brings in the other data utilities:
// Poisson encoding, shuffles and splits, and batch iteration.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

#include <spikegraph/data/batches.hpp>
#include <spikegraph/data/dataset.hpp>
#include <spikegraph/data/dataset_split.hpp>
#include <spikegraph/data/poisson_encoding.hpp>
#include <spikegraph/error.hpp>
#include <spikegraph/time_grid.hpp>

namespace spikegraph {

// One example's events from unsorted (time in ms, neuron id) pairs, checked
// and sorted by time (ties by id). mlGeNN's preprocess_spikes returns GeNN's
// per-neuron layout instead; here the simulator builds that itself.
inline SpikeEvents preprocess_spikes(std::vector<float> times, std::vector<std::uint32_t> ids,
                                     std::size_t num_neurons) {
    return make_spike_events(std::move(times), std::move(ids), num_neurons, "preprocess_spikes");
}

// The most events any example has (0 for a dataset without examples): what
// GeNN sizes its spike buffers by.
inline std::size_t calc_max_spikes(const SpikeDataset& data) {
    std::size_t most = 0;
    for (const SpikeEvents& example : data.examples) most = std::max(most, example.size());
    return most;
}

// The latest event time over all examples, in ms, e.g. to choose
// example_timesteps = ceil(latest / dt) + 1. Examples without spikes are
// skipped; a dataset with no spike at all has no latest time and throws.
inline float calc_latest_spike_time(const SpikeDataset& data) {
    bool any = false;
    float latest = 0.0f;
    for (const SpikeEvents& example : data.examples) {
        for (float t : example.times) {
            if (!any || t > latest) latest = t;
            any = true;
        }
    }
    if (!any)
        detail::throw_invalid("calc_latest_spike_time: the dataset (", data.size(),
                              " examples) has no spikes, so there is no latest spike time");
    return latest;
}

namespace detail {

template <class MapEvents>
SpikeDataset map_spike_dataset(const SpikeDataset& data, std::string_view name, MapEvents&& map_events) {
    check_dataset_shape(data, name);
    SpikeDataset out;
    out.labels = data.labels;
    out.num_classes = data.num_classes;
    out.num_inputs = data.num_inputs;
    out.examples.reserve(data.size());
    for (std::size_t e = 0; e < data.size(); ++e) {
        const SpikeEvents& in = data.examples[e];
        if (in.times.size() != in.ids.size())
            throw_invalid(name, ": example ", e, " has ", in.times.size(), " spike times but ", in.ids.size(), " ids");
        out.examples.push_back(map_events(in, e));
    }
    return out;
}

}  // namespace detail

// Multiplies every spike time by `factor` (e.g. 1e-3 for microseconds to ms,
// as tonic's time_scale), rounding to the nearest float.
inline SpikeDataset scale_times(const SpikeDataset& data, double factor) {
    constexpr std::string_view name = "scale_times";
    if (!(std::isfinite(factor) && factor > 0.0))
        detail::throw_invalid(name, ": factor must be finite and > 0, got ", factor);
    return detail::map_spike_dataset(data, name, [&](const SpikeEvents& in, std::size_t e) {
        std::vector<float> times(in.size());
        for (std::size_t i = 0; i < in.size(); ++i) {
            if (!(std::isfinite(in.times[i]) && in.times[i] >= 0.0f))
                detail::throw_invalid(name, ": example ", e, ": spike ", i, " has time ", in.times[i],
                                      " ms, expected a finite time >= 0");
            times[i] = static_cast<float>(double(in.times[i]) * factor);
        }
        // Re-sorted: rounding can make distinct times equal, and ties order by id.
        return make_spike_events(std::move(times), in.ids, data.num_inputs,
                                 detail::concat_message(name, ": example ", e));
    });
}

// What bin_spikes does with several events of one neuron in one bin.
enum class DuplicateSpikes {
    merge,  // one spike: a neuron fires at most once a step anyway
    keep,   // all of them: a SpikeInput replays the extras one step later each
};

struct BinOptions {
    DuplicateSpikes duplicates = DuplicateSpikes::merge;
    // A (neuron, bin) with fewer events is dropped: mlGeNN's
    // preprocess_tonic_spikes(histogram_thresh = h) is min_events = h + 1.
    std::size_t min_events = 1;
};

// Moves every event to the start of its bin, k * bin_ms for t in
// [k bin_ms, (k + 1) bin_ms), on the simulator's grid: with dt = bin_ms a
// SpikeInput fires in step k. A time within float rounding below a bin edge
// counts as on the edge, so binning binned data changes nothing. By default
// a neuron keeps one spike per bin (BinOptions::duplicates).
inline SpikeDataset bin_spikes(const SpikeDataset& data, float bin_ms, const BinOptions& options = {}) {
    constexpr std::string_view name = "bin_spikes";
    if (!(std::isfinite(bin_ms) && bin_ms > 0.0f))
        detail::throw_invalid(name, ": bin_ms must be finite and > 0, got ", bin_ms);
    if (options.min_events == 0) detail::throw_invalid(name, ": min_events must be >= 1, got 0");
    return detail::map_spike_dataset(data, name, [&](const SpikeEvents& in, std::size_t e) {
        std::vector<float> times(in.size());
        for (std::size_t i = 0; i < in.size(); ++i) {
            const float t = in.times[i];
            if (!(std::isfinite(t) && t >= 0.0f))
                detail::throw_invalid(name, ": example ", e, ": spike ", i, " has time ", t,
                                      " ms, expected a finite time >= 0");
            if (double(t) / double(bin_ms) >= 0x1p52)
                detail::throw_invalid(name, ": example ", e, ": spike ", i, " at ", t, " ms is more than 2^52 bins of ",
                                      bin_ms, " ms from 0");
            times[i] = detail::grid_time(detail::grid_step_at_or_below(t, bin_ms), bin_ms);
        }
        SpikeEvents sorted = make_spike_events(std::move(times), in.ids, data.num_inputs,
                                               detail::concat_message(name, ": example ", e));
        if (options.duplicates == DuplicateSpikes::keep && options.min_events == 1) return sorted;
        // Equal (time, id) pairs are adjacent after sorting: one run per (neuron, bin).
        SpikeEvents out;
        for (std::size_t i = 0; i < sorted.size();) {
            std::size_t end = i + 1;
            while (end < sorted.size() && sorted.times[end] == sorted.times[i] && sorted.ids[end] == sorted.ids[i]) ++end;
            if (end - i >= options.min_events) {
                const std::size_t copies = options.duplicates == DuplicateSpikes::merge ? 1 : end - i;
                out.times.insert(out.times.end(), copies, sorted.times[i]);
                out.ids.insert(out.ids.end(), copies, sorted.ids[i]);
            }
            i = end;
        }
        return out;
    });
}

}  // namespace spikegraph
