#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>
#include <vector>

#include <spikegraph/data/dataset.hpp>

namespace spikegraph {

// The inputs of one batch for one input population, as pointers into a
// dataset (nothing is copied): lane i simulates dataset example example_index[i].
// The example index also keys the random numbers of Poisson inputs, so an
// example gets the same spikes whatever batch or lane it lands in.
struct InputBatch {
    std::vector<const SpikeEvents*> spikes;  // SpikeInput: one per lane
    std::vector<const float*> values;        // value inputs: one row per lane
    std::vector<std::uint64_t> example_index;

    std::size_t lanes() const { return example_index.size(); }
};

// Lanes [0, count) take examples [first, first + count) of the dataset.
inline InputBatch make_input_batch(const SpikeDataset& data, std::size_t first, std::size_t count) {
    InputBatch batch;
    for (std::size_t i = 0; i < count; ++i) {
        batch.spikes.push_back(&data.examples[first + i]);
        batch.example_index.push_back(first + i);
    }
    return batch;
}
inline InputBatch make_input_batch(const ValueDataset& data, std::size_t first, std::size_t count) {
    InputBatch batch;
    for (std::size_t i = 0; i < count; ++i) {
        batch.values.push_back(data.example(first + i));
        batch.example_index.push_back(first + i);
    }
    return batch;
}

// Lane i takes dataset example indices[i] (a shuffled batch).
template <class Dataset>
InputBatch make_input_batch(const Dataset& data, std::span<const std::size_t> indices) {
    InputBatch batch;
    for (std::size_t i : indices) {
        if constexpr (std::is_same_v<Dataset, SpikeDataset>) batch.spikes.push_back(&data.examples.at(i));
        else batch.values.push_back(data.example(i));
        batch.example_index.push_back(i);
    }
    return batch;
}

}  // namespace spikegraph
