#pragma once
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include <spikegraph/compile/input_batch.hpp>
#include <spikegraph/cpu/input_source.hpp>
#include <spikegraph/error.hpp>
#include <spikegraph/recorded_spikes.hpp>

namespace spikegraph::cuda_backend {

// The ids a SpikeInput population emits in every step of one batch, in the
// order the CPU backend's spike queue holds them (ids carried over from the
// step before first, then newly due events in time order). The order matters:
// propagation adds weights in queue order, and float addition is not
// associative. Host code, built once per batch by the very InputSource the
// CPU backend runs, so both backends replay the same events the same way.
struct SpikeInputSchedule {
    int timesteps = 0;
    std::vector<std::uint32_t> offsets;  // [lane][step + 1], absolute positions in ids
    std::vector<std::uint32_t> ids;

    std::size_t lanes() const { return timesteps > 0 ? offsets.size() / std::size_t(timesteps + 1) : 0; }
    // The ids of one lane's step: [begin, end) of ids.
    std::uint32_t begin(std::size_t lane, int step) const { return offsets[lane * std::size_t(timesteps + 1) + std::size_t(step)]; }
    std::uint32_t end(std::size_t lane, int step) const { return begin(lane, step + 1); }
    // Appends every lane's spikes to a recording.
    void append_to(RecordedSpikes& recorded) const {
        for (std::size_t lane = 0; lane < lanes(); ++lane)
            for (int step = 0; step < timesteps; ++step)
                for (std::uint32_t s = begin(lane, step); s < end(lane, step); ++s) {
                    recorded.steps[lane].push_back(step);
                    recorded.ids[lane].push_back(ids[s]);
                }
    }
};

template <class Pop, std::size_t PopulationIndex>
SpikeInputSchedule build_spike_input_schedule(const typename Pop::neuron_type& model, float dt, const InputBatch& batch,
                                              int timesteps) {
    static_assert(Pop::neuron_type::kind == NeuronKind::spike_input,
                  "spikegraph: a spike input schedule needs a SpikeInput population");
    const std::size_t lanes = batch.lanes();
    cpu_backend::InputSource<Pop, PopulationIndex> source;
    source.allocate(model, dt, lanes);
    SpikeInputSchedule schedule;
    schedule.timesteps = timesteps;
    schedule.offsets.reserve(lanes * std::size_t(timesteps + 1));
    std::vector<std::uint32_t> queue(Pop::size);
    for (std::size_t lane = 0; lane < lanes; ++lane) {
        source.set_lane(lane, batch);
        source.reset_lane(lane);
        for (int step = 0; step < timesteps; ++step) {
            schedule.offsets.push_back(std::uint32_t(schedule.ids.size()));
            std::uint32_t count = 0;
            source.emit(lane, step, 0, 0, Pop::size, queue.data(), count);
            if (schedule.ids.size() + count > std::numeric_limits<std::uint32_t>::max())
                detail::throw_invalid("population '", name_view<Pop::name>,
                                      "': a batch holds more than 2^32 - 1 input spikes; use a smaller batch_size");
            schedule.ids.insert(schedule.ids.end(), queue.begin(), queue.begin() + count);
        }
        schedule.offsets.push_back(std::uint32_t(schedule.ids.size()));
    }
    return schedule;
}

}  // namespace spikegraph::cuda_backend
