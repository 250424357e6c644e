#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <utility>

#include <spikegraph/train/metrics.hpp>

namespace spikegraph {

// What callbacks are told. Every hook is optional: a callback is any object
// with some of
//   on_run_begin(const RunInfo&)
//   on_batch_begin(std::size_t batch, Simulator& sim)      e.g. enable recording
//   on_batch_end(std::size_t batch, const BatchResult<Simulator>&)
//   on_run_end(const Metrics&)
struct RunInfo {
    std::string_view phase;  // "evaluate" or "predict"
    std::size_t num_examples;
    std::size_t num_batches;
    std::size_t batch_size;
    int example_timesteps;
    float dt;
};

template <class Simulator>
struct BatchResult {
    std::size_t first_example;            // dataset index of lane 0
    std::size_t lanes;                    // examples in this batch
    const Simulator& simulator;           // recorded spikes/variables of this batch
    const Metrics& metrics_so_far;        // running metrics after this batch
};

namespace detail {

template <class Callback>
void call_run_begin(Callback& c, const RunInfo& info) {
    if constexpr (requires { c.on_run_begin(info); }) c.on_run_begin(info);
}
template <class Callback, class Simulator>
void call_batch_begin(Callback& c, std::size_t batch, Simulator& sim) {
    if constexpr (requires { c.on_batch_begin(batch, sim); }) c.on_batch_begin(batch, sim);
}
template <class Callback, class Simulator>
void call_batch_end(Callback& c, std::size_t batch, const BatchResult<Simulator>& result) {
    if constexpr (requires { c.on_batch_end(batch, result); }) c.on_batch_end(batch, result);
}
template <class Callback>
void call_run_end(Callback& c, const Metrics& metrics) {
    if constexpr (requires { c.on_run_end(metrics); }) c.on_run_end(metrics);
}

}  // namespace detail
}  // namespace spikegraph
