#pragma once
// Subsets, shuffles and splits of datasets; the same for SpikeDataset and
// ValueDataset, labels always follow their examples.
#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <numeric>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include <spikegraph/data/dataset.hpp>
#include <spikegraph/error.hpp>
#include <spikegraph/philox.hpp>

namespace spikegraph {

// Two parts of one dataset: structured bindings give
//   auto [train, validation] = validation_split(data, 0.1);
template <DatasetType D>
struct Split {
    D first;
    D second;
};

namespace detail {

// PhiloxStream ids, apart from those of weights and connectivity (0x10000 + ...).
inline constexpr std::uint32_t shuffle_stream = 0x73687566u;           // "shuf"
inline constexpr std::uint32_t stratified_split_stream = 0x73706c74u;  // "splt"

template <DatasetType D>
D take_examples(const D& data, std::span<const std::size_t> indices, std::string_view name) {
    D out;
    out.num_classes = data.num_classes;
    out.num_inputs = data.num_inputs;
    if constexpr (std::same_as<D, ValueDataset>)
        out.values.reserve(indices.size() * data.num_inputs);
    else
        out.examples.reserve(indices.size());
    if (!data.labels.empty()) out.labels.reserve(indices.size());
    for (std::size_t k = 0; k < indices.size(); ++k) {
        const std::size_t i = indices[k];
        if (i >= data.size())
            throw_invalid(name, ": index ", k, " is ", i, " but the dataset has ", data.size(), " examples");
        if constexpr (std::same_as<D, ValueDataset>)
            out.values.insert(out.values.end(), data.example(i), data.example(i) + data.num_inputs);
        else
            out.examples.push_back(data.examples[i]);
        if (!data.labels.empty()) out.labels.push_back(data.labels[i]);
    }
    return out;
}

// In-place Fisher-Yates shuffle: position i swaps with a uniform j <= i.
inline void fisher_yates(std::span<std::size_t> items, PhiloxStream& rng) {
    for (std::size_t i = items.size(); i > 1; --i) {
        const std::size_t j = rng.next_below(static_cast<std::uint32_t>(i));
        std::swap(items[i - 1], items[j]);
    }
}

inline void check_shuffle_size(std::size_t n, std::string_view name) {
    if (n > (std::size_t(1) << 32))
        throw_invalid(name, ": ", n, " examples; at most 2^32 can be shuffled");
}

}  // namespace detail

// The examples at `indices`, in that order (an index may repeat).
template <DatasetType D>
D subset(const D& data, std::span<const std::size_t> indices) {
    detail::check_dataset_shape(data, "subset");
    return detail::take_examples(data, indices, "subset");
}
template <DatasetType D>
D subset(const D& data, std::initializer_list<std::size_t> indices) {
    return subset(data, std::span<const std::size_t>(indices.begin(), indices.size()));
}

// A uniformly random permutation of 0 .. n-1 (Fisher-Yates driven by Philox):
// the same for the same (n, seed) on every platform.
inline std::vector<std::size_t> shuffled_indices(std::size_t n, std::uint64_t seed) {
    detail::check_shuffle_size(n, "shuffled_indices");
    std::vector<std::size_t> order(n);
    std::iota(order.begin(), order.end(), std::size_t{0});
    detail::PhiloxStream rng(seed, detail::shuffle_stream);
    detail::fisher_yates(order, rng);
    return order;
}

// The dataset in the order shuffled_indices(data.size(), seed).
template <DatasetType D>
D shuffle(const D& data, std::uint64_t seed) {
    detail::check_dataset_shape(data, "shuffle");
    detail::check_shuffle_size(data.size(), "shuffle");
    const std::vector<std::size_t> order = shuffled_indices(data.size(), seed);
    return detail::take_examples(data, std::span<const std::size_t>(order), "shuffle");
}

// Keras' validation_split: the LAST examples, taken before any shuffling,
// become `second`; `first` keeps floor(n (1 - fraction)) examples (computed in
// double, as Keras). Both parts must be non-empty, as in Keras.
template <DatasetType D>
Split<D> validation_split(const D& data, double fraction) {
    constexpr std::string_view name = "validation_split";
    if (!(fraction > 0.0 && fraction < 1.0))
        detail::throw_invalid(name, ": fraction must be in (0, 1), got ", fraction);
    detail::check_dataset_shape(data, name);
    const std::size_t n = data.size();
    const auto split_at = static_cast<std::size_t>(std::floor(double(n) * (1.0 - fraction)));
    if (split_at == 0 || split_at >= n)
        detail::throw_invalid(name, ": ", n, " examples cannot be split with fraction ", fraction, " (", split_at,
                              " training and ", n - std::min(split_at, n),
                              " validation examples); both parts must be non-empty");
    std::vector<std::size_t> head(split_at), tail(n - split_at);
    std::iota(head.begin(), head.end(), std::size_t{0});
    std::iota(tail.begin(), tail.end(), split_at);
    return {detail::take_examples(data, std::span<const std::size_t>(head), name),
            detail::take_examples(data, std::span<const std::size_t>(tail), name)};
}

// How many examples of each class a stratified split puts into `first` when
// it takes `count` of the n examples (largest remainder rounding): class c with
// n_c examples gets floor(n_c count / n), and the classes with the largest
// remainders (n_c count mod n; ties: lower class first) one more each until
// the total is count. Every class's share is within one example of
// n_c count / n, and the total is exactly count.
inline std::vector<std::size_t> stratified_counts(std::span<const std::size_t> class_sizes, std::size_t count) {
    const std::size_t n = std::accumulate(class_sizes.begin(), class_sizes.end(), std::size_t{0});
    if (count > n) detail::throw_invalid("stratified_counts: count ", count, " exceeds the ", n, " examples");
    if (n > (std::size_t(1) << 32))
        detail::throw_invalid("stratified_counts: ", n, " examples; at most 2^32 are supported");
    std::vector<std::size_t> take(class_sizes.size(), 0);
    if (n == 0) return take;
    std::vector<std::pair<std::uint64_t, std::size_t>> remainders;  // (remainder, class)
    std::size_t given = 0;
    for (std::size_t c = 0; c < class_sizes.size(); ++c) {
        const std::uint64_t scaled = std::uint64_t(class_sizes[c]) * count;  // < 2^64 as n, count <= 2^32
        take[c] = std::size_t(scaled / n);
        given += take[c];
        remainders.emplace_back(scaled % n, c);
    }
    std::stable_sort(remainders.begin(), remainders.end(),
                     [](const auto& a, const auto& b) { return a.first > b.first; });
    for (std::size_t k = 0; given < count; ++k, ++given) ++take[remainders[k].second];
    return take;
}

// Splits into `first` with `first_count` examples and `second` with the rest,
// each class divided in the proportion first_count : n - first_count up to
// rounding (stratified_counts). Which examples of a class go first is random
// (seeded Fisher-Yates per class); both parts keep the dataset's order.
// Needs labels in [0, num_classes) and at least one example per class.
// E.g. an 8k/2k split of MNIST's 10k test set:  stratified_split(test, 8000, 42).
template <DatasetType D, std::integral Count>
    requires(!std::same_as<Count, bool>)
Split<D> stratified_split(const D& data, Count first_count, std::uint64_t seed) {
    constexpr std::string_view name = "stratified_split";
    detail::check_dataset_shape(data, name);
    const std::size_t n = data.size();
    if (first_count <= 0 || std::uint64_t(first_count) >= n)
        detail::throw_invalid(name, ": first_count must be in [1, ", n == 0 ? 0 : n - 1, "] for ", n,
                              " examples, got ", first_count);
    if (data.labels.empty()) detail::throw_invalid(name, ": the dataset has no labels to stratify by");
    if (data.num_classes == 0) detail::throw_invalid(name, ": the dataset has num_classes = 0");
    detail::check_shuffle_size(n, name);

    std::vector<std::vector<std::size_t>> members(data.num_classes);
    for (std::size_t e = 0; e < n; ++e) {
        const std::int32_t label = data.labels[e];
        if (label < 0 || std::size_t(label) >= data.num_classes)
            detail::throw_invalid(name, ": example ", e, " has label ", label, ", expected 0..", data.num_classes - 1);
        members[std::size_t(label)].push_back(e);
    }
    std::vector<std::size_t> sizes(data.num_classes);
    for (std::size_t c = 0; c < data.num_classes; ++c) {
        if (members[c].empty())
            detail::throw_invalid(name, ": class ", c, " of ", data.num_classes,
                                  " has no examples (is num_classes right?)");
        sizes[c] = members[c].size();
    }
    const std::vector<std::size_t> take = stratified_counts(sizes, std::size_t(first_count));

    detail::PhiloxStream rng(seed, detail::stratified_split_stream);
    std::vector<bool> in_first(n, false);
    for (std::size_t c = 0; c < data.num_classes; ++c) {
        detail::fisher_yates(members[c], rng);
        for (std::size_t k = 0; k < take[c]; ++k) in_first[members[c][k]] = true;
    }
    std::vector<std::size_t> first, second;
    first.reserve(std::size_t(first_count));
    second.reserve(n - std::size_t(first_count));
    for (std::size_t e = 0; e < n; ++e) (in_first[e] ? first : second).push_back(e);
    return {detail::take_examples(data, std::span<const std::size_t>(first), name),
            detail::take_examples(data, std::span<const std::size_t>(second), name)};
}

// As above with first_count = round(first_fraction * n), halves rounded up.
template <DatasetType D>
Split<D> stratified_split(const D& data, double first_fraction, std::uint64_t seed) {
    if (!(first_fraction > 0.0 && first_fraction < 1.0))
        detail::throw_invalid("stratified_split: first_fraction must be in (0, 1), got ", first_fraction);
    detail::check_dataset_shape(data, "stratified_split");
    const auto count = static_cast<std::uint64_t>(std::floor(first_fraction * double(data.size()) + 0.5));
    if (count == 0 || count >= data.size())
        detail::throw_invalid("stratified_split: first_fraction ", first_fraction, " of ", data.size(),
                              " examples gives ", count, " and ", data.size() - std::min<std::uint64_t>(count, data.size()),
                              " examples; both parts must be non-empty");
    return stratified_split(data, count, seed);
}

}  // namespace spikegraph
