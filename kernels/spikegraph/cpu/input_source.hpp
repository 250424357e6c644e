#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include <spikegraph/compile/input_batch.hpp>
#include <spikegraph/error.hpp>
#include <spikegraph/model/neuron.hpp>
#include <spikegraph/philox.hpp>

namespace spikegraph::cpu_backend {

// The spikes of one input population, per lane, for every CPU simulator
// (inference and training): SpikeInput replays a dataset's events, value
// inputs compare a Philox uniform with a bound prepared once per example.
template <class Pop, std::size_t PopulationIndex>
class InputSource {
public:
    using Model = typename Pop::neuron_type;
    static_assert(is_input_model<Model>, "spikegraph: InputSource needs an input population");

    void allocate(const Model& model, float dt, std::size_t lanes) {
        dynamics_ = model.dynamics(dt);
        dt_ = dt;
        example_index_.assign(lanes, 0);
        if constexpr (Model::kind == NeuronKind::value_input) {
            prepared_.assign(lanes * Pop::size, 0.0f);
        } else {
            events_.assign(lanes, nullptr);
            cursor_.assign(lanes, 0);
            carried_.assign(lanes, {});
            carried_next_.assign(lanes, {});
            last_fired_.assign(lanes * Pop::size, -1);
        }
    }

    void set_lane(std::size_t lane, const InputBatch& batch) {
        example_index_[lane] = batch.example_index[lane];
        if constexpr (Model::kind == NeuronKind::value_input) {
            const float* row = batch.values.at(lane);
            float* prepared = prepared_.data() + lane * Pop::size;
            for (std::size_t i = 0; i < Pop::size; ++i) prepared[i] = dynamics_.prepare(row[i]);
        } else {
            events_[lane] = batch.spikes.at(lane);
        }
    }

    void reset_lane(std::size_t lane) {
        if constexpr (Model::kind == NeuronKind::spike_input) {
            cursor_[lane] = 0;
            carried_[lane].clear();
            std::fill_n(last_fired_.begin() + std::ptrdiff_t(lane * Pop::size), Pop::size, -1);
        }
    }

    // Appends the ids in [begin, end) that fire in this step to queue.
    // SpikeInput follows GeNN's SpikeSourceArray: a neuron whose next event is
    // due fires once this step; further due events of that neuron wait a step each.
    void emit(std::size_t lane, int step, std::uint64_t seed, std::size_t begin, std::size_t end, std::uint32_t* queue,
              std::uint32_t& count) {
        if constexpr (Model::kind == NeuronKind::value_input) {
            const float* prepared = prepared_.data() + lane * Pop::size;
            const auto example = static_cast<std::uint32_t>(example_index_[lane]);
            const auto example_high = static_cast<std::uint32_t>(example_index_[lane] >> 32);
            for (std::size_t i = begin; i < end; ++i) {
                float u = 0.0f;
                if constexpr (Model::needs_random)
                    u = detail::uniform(seed, std::uint32_t(step), std::uint32_t(i), example,
                                        (std::uint32_t(PopulationIndex) << 24) ^ example_high);
                if (dynamics_.fires(prepared[i], u)) queue[count++] = std::uint32_t(i);
            }
        } else {
            std::int32_t* last = last_fired_.data() + lane * Pop::size;
            auto& carried = carried_[lane];
            auto& next = carried_next_[lane];
            next.clear();
            auto offer = [&](std::uint32_t id) {
                if (last[id] == step) {
                    next.push_back(id);
                } else {
                    last[id] = step;
                    queue[count++] = id;
                }
            };
            for (std::uint32_t id : carried) offer(id);
            if (const SpikeEvents* events = events_[lane]) {
                const double t = double(step) * double(dt_);
                std::size_t& cursor = cursor_[lane];
                while (cursor < events->size() && double(events->times[cursor]) <= t) offer(events->ids[cursor++]);
            }
            carried.swap(next);
        }
    }

private:
    typename Model::Dynamics dynamics_{};
    float dt_ = 1.0f;
    std::vector<std::uint64_t> example_index_;
    std::vector<float> prepared_;                 // value inputs: [lane][neuron]
    std::vector<const SpikeEvents*> events_;      // spike inputs: per lane
    std::vector<std::size_t> cursor_;
    std::vector<std::vector<std::uint32_t>> carried_, carried_next_;
    std::vector<std::int32_t> last_fired_;
};

// Hands a batch to input population Pop's source, after checking it fits the
// simulator's batch_size; returns the number of lanes that will run.
template <class Pop, class Source>
std::size_t load_input_batch(Source& source, const InputBatch& batch, std::size_t batch_size) {
    static_assert(is_input_model<typename Pop::neuron_type>, "spikegraph: set_input needs an input population");
    if (batch.lanes() > batch_size)
        detail::throw_invalid("population '", name_view<Pop::name>, "': batch of ", batch.lanes(),
                              " examples exceeds batch_size ", batch_size);
    for (std::size_t lane = 0; lane < batch.lanes(); ++lane) source.set_lane(lane, batch);
    return batch.lanes();
}

}  // namespace spikegraph::cpu_backend
