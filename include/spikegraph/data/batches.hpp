#pragma once
#include <cstddef>
#include <iterator>

#include <spikegraph/error.hpp>

namespace spikegraph {

// Examples [first, first + count) of a dataset.
struct Batch {
    std::size_t first = 0;
    std::size_t count = 0;

    bool operator==(const Batch&) const = default;
};

// The batches of num_examples examples in order, every one batch_size
// examples except a final partial one (mlGeNN's batch_dataset):
//   for (auto [first, count] : batches(data.size(), 32))
//       sim.set_input<0>(make_input_batch(data, first, count));
class Batches {
public:
    class iterator {
    public:
        // Yields Batch by value: a C++20 forward iterator, a legacy input iterator.
        using iterator_concept = std::forward_iterator_tag;
        using iterator_category = std::input_iterator_tag;
        using value_type = Batch;
        using difference_type = std::ptrdiff_t;
        using pointer = void;
        using reference = Batch;

        iterator() = default;
        Batch operator*() const {
            const std::size_t left = num_examples_ - first_;
            return {first_, left < batch_size_ ? left : batch_size_};
        }
        iterator& operator++() {
            const std::size_t left = num_examples_ - first_;
            first_ += left < batch_size_ ? left : batch_size_;
            return *this;
        }
        iterator operator++(int) {
            iterator old = *this;
            ++*this;
            return old;
        }
        bool operator==(const iterator& other) const { return first_ == other.first_; }

    private:
        friend class Batches;
        iterator(std::size_t first, std::size_t num_examples, std::size_t batch_size)
            : first_(first), num_examples_(num_examples), batch_size_(batch_size) {}
        std::size_t first_ = 0, num_examples_ = 0, batch_size_ = 1;
    };

    Batches(std::size_t num_examples, std::size_t batch_size) : num_examples_(num_examples), batch_size_(batch_size) {
        if (batch_size == 0) detail::throw_invalid("batches: batch_size must be > 0, got 0");
    }

    iterator begin() const { return {0, num_examples_, batch_size_}; }
    iterator end() const { return {num_examples_, num_examples_, batch_size_}; }
    // Number of batches, ceil(num_examples / batch_size).
    std::size_t size() const { return num_examples_ / batch_size_ + (num_examples_ % batch_size_ != 0); }
    bool empty() const { return num_examples_ == 0; }
    Batch operator[](std::size_t i) const {
        if (i >= size()) detail::throw_invalid("batches: batch ", i, " requested but there are ", size());
        return *iterator{i * batch_size_, num_examples_, batch_size_};
    }

private:
    std::size_t num_examples_, batch_size_;
};

inline Batches batches(std::size_t num_examples, std::size_t batch_size) { return {num_examples, batch_size}; }

}  // namespace spikegraph
