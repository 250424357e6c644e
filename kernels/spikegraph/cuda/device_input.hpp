#pragma once
// An input population's batch on the device, shared by the CUDA simulators:
// value inputs (Poisson, binary) as each neuron's prepared firing bound and
// the example index that seeds its random stream, exactly as the CPU backend
// prepares them; SpikeInput as the host-built schedule of every step's ids
// (spike_input_schedule.hpp). Copied to the device once per batch.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <spikegraph/cuda/runtime.hpp>

#include <spikegraph/compile/input_batch.hpp>
#include <spikegraph/compile/simulation_options.hpp>
#include <spikegraph/cpu/input_source.hpp>
#include <spikegraph/cuda/device_buffer.hpp>
#include <spikegraph/cuda/spike_input_schedule.hpp>
#include <spikegraph/model/neuron.hpp>

namespace spikegraph::cuda_backend {

template <class Pop, std::size_t Index>
struct DeviceInput {
    using Model = typename Pop::neuron_type;
    typename Model::Dynamics dynamics{};
    // value inputs
    DeviceBuffer<float> prepared;                 // [lane][neuron]
    DeviceBuffer<std::uint64_t> example_index;    // [lane]
    std::vector<float> host_prepared;
    std::vector<std::uint64_t> host_example_index;
    // SpikeInput
    SpikeInputSchedule schedule;
    DeviceBuffer<std::uint32_t> schedule_offsets, schedule_ids;  // [lane][step + 1], ids

    static std::string what() { return "inputs of population '" + Pop::name.str() + "'"; }

    void allocate(const Model& model, const SimulationOptions& options) {
        const std::size_t lanes = options.batch_size;
        if constexpr (Model::kind == NeuronKind::value_input) {
            dynamics = model.dynamics(options.dt);
            prepared.allocate(lanes * Pop::size, "the " + what());
            example_index.allocate(lanes, "the example indices of population '" + Pop::name.str() + "'");
            host_prepared.assign(lanes * Pop::size, 0.0f);
            host_example_index.assign(lanes, 0);
        } else if constexpr (Model::kind == NeuronKind::spike_input) {
            schedule_offsets.allocate(lanes * std::size_t(options.example_timesteps + 1),
                                      "the input schedule of population '" + Pop::name.str() + "'");
        }
    }

    // Loads a batch (validated as the CPU backend validates it) and copies it
    // to the device; returns its lane count.
    std::size_t load(const Model& model, const InputBatch& batch, const SimulationOptions& options, cudaStream_t stream) {
        if constexpr (Model::kind == NeuronKind::value_input) {
            ValueLanes lanes{dynamics, host_prepared, host_example_index};
            const std::size_t count = cpu_backend::load_input_batch<Pop>(lanes, batch, options.batch_size);
            prepared.upload(std::span<const float>(host_prepared).first(count * Pop::size), what(), stream);
            example_index.upload(std::span<const std::uint64_t>(host_example_index).first(count), what(), stream);
            return count;
        } else {
            NoLanes lanes;
            const std::size_t count = cpu_backend::load_input_batch<Pop>(lanes, batch, options.batch_size);
            schedule = build_spike_input_schedule<Pop, Index>(model, options.dt, batch, options.example_timesteps);
            schedule_offsets.upload(schedule.offsets, what(), stream);
            schedule_ids.reserve(schedule.ids.size() > 0 ? schedule.ids.size() : 1, what());
            schedule_ids.upload(schedule.ids, what(), stream);
            return count;
        }
    }

private:
    // Prepares a value input's lanes on the host (the firing bound of each
    // neuron, as the CPU backend prepares it) for one upload.
    struct ValueLanes {
        const typename Model::Dynamics& dynamics;
        std::vector<float>& prepared;
        std::vector<std::uint64_t>& example_index;
        void set_lane(std::size_t lane, const InputBatch& batch) {
            const float* row = batch.values.at(lane);
            for (std::size_t i = 0; i < Pop::size; ++i) prepared[lane * Pop::size + i] = dynamics.prepare(row[i]);
            example_index[lane] = batch.example_index[lane];
        }
    };
    struct NoLanes {
        void set_lane(std::size_t, const InputBatch&) {}
    };
};

}  // namespace spikegraph::cuda_backend
