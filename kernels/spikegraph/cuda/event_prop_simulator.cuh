#pragma once
// The CUDA backend's EventProp simulator: the interface of
// cpu_backend::EventPropSimulator (run, readout, backward, gradients,
// weights, statistics, spike recording) over device buffers and the kernels
// of event_prop_kernels.cuh. The forward and the backward time loops each run
// as CUDA Graphs of up to 256 steps, so no step waits for the host.
//
// What differs from the CPU simulator: dL/dw is summed over the lanes of a
// batch with float atomics, so with more than one lane its last bits depend
// on the order the GPU adds them in; spikes, readouts and every adjoint of a
// lane follow the CPU simulator's order of operations.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <spikegraph/cuda/runtime.hpp>

#include <spikegraph/compile/input_batch.hpp>
#include <spikegraph/compile/simulation_options.hpp>
#include <spikegraph/connection_storage.hpp>
#include <spikegraph/connection_storage_check.hpp>
#include <spikegraph/cpu/buffer_tuples.hpp>
#include <spikegraph/cuda/cuda_error.hpp>
#include <spikegraph/cuda/device_buffer.hpp>
#include <spikegraph/cuda/device_input.hpp>
#include <spikegraph/cuda/event_prop_kernels.cuh>
#include <spikegraph/cuda/graph_cache.hpp>
#include <spikegraph/cuda/training_simulator.cuh>
#include <spikegraph/graph/network.hpp>
#include <spikegraph/recorded_spikes.hpp>
#include <spikegraph/train/regularisation.hpp>

namespace spikegraph::cuda_backend {

template <class Pop, std::size_t Index>
struct EventPropPopulationBuffers {
    using Model = typename Pop::neuron_type;
    typename Model::Dynamics dynamics{};
    typename Pop::readout_type::Dynamics readout_dynamics{};
    NeuronState<Model> initial{};
    std::array<DeviceBuffer<float>, Model::Variables::size> variables;
    DeviceBuffer<float> readout_value, lambda_v, output_gradient, drive;
    DeviceBuffer<std::int32_t> readout_step;
    DeviceBuffer<std::uint32_t> neuron_spikes, queue_counts, step_start;
    DeviceBuffer<EventPropSpikeRecord> queue, records;
    std::uint32_t capacity = 0;
    std::vector<std::uint32_t> host_step_start;  // [lane][step + 1] after a run
    std::vector<std::uint64_t> host_totals;
    mutable std::vector<std::uint32_t> host_counts;
    DeviceInput<Pop, Index> input;
    DeviceNeuronBiases bias;
};

template <class Conn>
struct EventPropConnectionBuffers {
    typename Exponential::Dynamics synapse{};
    ExponentialArrival arrival{};
    DeviceSynapses synapses;
    DeviceBuffer<float> in_syn, lambda_j, u_bar;
    DeviceBuffer<unsigned long long> events;
    std::vector<std::uint64_t> host_events;
};

template <class Net>
class EventPropSimulator : public TrainingSimulatorBase<Net, EventPropPopulationBuffers, EventPropConnectionBuffers> {
    using Base = TrainingSimulatorBase<Net, EventPropPopulationBuffers, EventPropConnectionBuffers>;

public:
    using Base::num_connections, Base::num_populations;
    static constexpr std::size_t output = std::size_t(Net::first_readout() >= 0 ? Net::first_readout() : 0);
    using Layout = EventPropLayout<Net>;
    using Description = EventPropDeviceNetwork<Net>;

    static_assert(fits_kernel_parameter<Description>);

    EventPropSimulator(const Net& net, const SimulationOptions& options) : Base(net, options) { allocate(); }
    ~EventPropSimulator() {
        DeviceGuard guard(this->device_);
        forward_graphs_.release();
        backward_graphs_.release();
    }

    void set_regularisation(const SpikeRegularisation& r) { regularisation_ = r; }

    // Forward pass of the active lanes, keeping what backward() needs. When a
    // lane fires more spikes than the records hold, they grow and the batch
    // runs again, so memory follows the spikes.
    void run() {
        DeviceGuard guard(this->device_);
        this->upload_changed_weights();
        const unsigned lanes = unsigned(this->active_lanes_);
        this->ran_ = false;
        if (lanes == 0) return;
        for (;;) {
            const Description description = describe(lanes);
            cudaGraphExec_t graph = forward_graphs_.get(description, this->stream_, "the EventProp forward time loop",
                                                        [&](cudaStream_t stream) { capture_forward(description, stream); });
            launch_reset(description, false);
            this->run_graph(graph, graph_launches(this->options_.example_timesteps),
                            "the EventProp forward pass of " + std::to_string(lanes) + " lanes");
            if (!grow_records(lanes)) break;
        }
        collect_statistics(lanes);
        collect_recordings(lanes);
        this->ran_ = true;
    }

    template <std::size_t P>
    void readout(std::span<float> out) const {
        DeviceGuard guard(this->device_);
        using Pop = typename Net::template population_type<P>;
        static_assert(Pop::has_readout, "spikegraph: this population has no readout");
        const auto& b = std::get<P>(this->populations_);
        const std::size_t count = this->active_lanes_ * Pop::size;
        b.readout_value.download(out.first(count), "the readout of population '" + Pop::name.str() + "'", this->stream_);
        if constexpr (!std::is_same_v<typename Pop::readout_type, FirstSpikeTime>)
            for (std::size_t i = 0; i < count; ++i) out[i] = b.readout_dynamics.result(out[i]);
    }

    // Backward pass after run(): readout_gradient holds dL/dy for population
    // P's readout y, [lane][neuron] over the active lanes. Adds dL/dw of every
    // connection, summed over lanes, to the gradients.
    template <std::size_t P>
    void backward(std::span<const float> readout_gradient) {
        using Pop = typename Net::template population_type<P>;
        static_assert(Pop::has_readout, "spikegraph: backward needs the output population's readout");
        static_assert(P == output, "spikegraph: EventProp's output is the network's one population with a readout");
        if (!this->ran_) detail::throw_invalid("EventProp backward() called before a forward run()");
        if (readout_gradient.size() != this->active_lanes_ * Pop::size)
            detail::throw_invalid("population '", name_view<Pop::name>, "': readout gradient has ", readout_gradient.size(),
                                  " values, expected ", this->active_lanes_ * Pop::size);
        DeviceGuard guard(this->device_);
        const unsigned lanes = unsigned(this->active_lanes_);
        std::get<P>(this->populations_).output_gradient.upload(readout_gradient, "the readout gradient", this->stream_);
        upload_drives();
        const Description description = describe(lanes);
        cudaGraphExec_t graph = backward_graphs_.get(description, this->stream_, "the EventProp backward time loop",
                                                     [&](cudaStream_t stream) { capture_backward(description, stream); });
        launch_reset(description, true);
        this->run_graph(graph, graph_launches(this->options_.example_timesteps),
                        "the EventProp backward pass of " + std::to_string(lanes) + " lanes");
        this->download_gradients();
    }

    // Spikes of each neuron of population P in the last run, [lane][neuron].
    template <std::size_t P>
    std::span<const std::uint32_t> neuron_spike_counts() const {
        DeviceGuard guard(this->device_);
        using Pop = typename Net::template population_type<P>;
        static_assert(!Layout::template is_spike_input<P>, "spikegraph: a SpikeInput population's counts are its input's");
        const auto& b = std::get<P>(this->populations_);
        b.host_counts.resize(this->active_lanes_ * Pop::size);
        b.neuron_spikes.download(b.host_counts, "the spike counts of population '" + Pop::name.str() + "'", this->stream_);
        return b.host_counts;
    }
    // Spike records kept by the last run (all lanes), a measure of the memory EventProp needs.
    std::size_t stored_spikes() const {
        std::size_t total = 0;
        this->for_each_population([&]<std::size_t P>(const auto& b) {
            for (std::size_t lane = 0; lane < this->active_lanes_; ++lane) total += b.host_totals[lane];
        });
        return total;
    }
    // Records each lane may keep per population before they grow.
    template <std::size_t P>
    std::uint32_t record_capacity() const {
        return std::get<P>(this->populations_).capacity;
    }

private:
    using Base::for_each_connection, Base::for_each_population;

    void allocate() {
        const std::size_t lanes = this->options_.batch_size;
        const std::size_t steps = std::size_t(this->options_.example_timesteps);
        const float dt = this->options_.dt;
        for_each_population([&]<std::size_t P>(auto& b) {
            using Pop = typename Net::template population_type<P>;
            using Model = typename Pop::neuron_type;
            const auto& pop = this->net_.template population<P>();
            const std::string what = " of population '" + Pop::name.str() + "'";
            pop.neuron.validate(name_view<Pop::name>);
            b.host_totals.assign(lanes, 0);
            b.input.allocate(pop.neuron, this->options_);
            if constexpr (!Layout::template is_spike_input<P>) {
                b.neuron_spikes.allocate(lanes * Pop::size, "the spike counts" + what);
                b.queue.allocate(lanes * Pop::size, "the spike queue" + what);
                b.queue_counts.allocate(lanes * segments_of<Pop>, "the spike queue counts" + what);
                b.step_start.allocate(lanes * (steps + 1), "the record offsets" + what);
                // A first guess of 1 spike in 32 neuron-steps; run() grows it to what a batch needs.
                if constexpr (is_spiking_model<Model>)
                    b.capacity = std::uint32_t(std::min<std::size_t>(steps * Pop::size, 64 + steps * Pop::size / 32));
                b.records.allocate(lanes * b.capacity, "the spike records" + what);
            }
            if constexpr (!is_input_model<Model>) {
                EventPropNeuron<Model, typename Pop::readout_type>::validate(pop.neuron, name_view<Pop::name>);
                b.dynamics = pop.neuron.dynamics(dt);
                b.readout_dynamics = pop.readout.dynamics(dt, this->options_.example_timesteps);
                b.initial = pop.neuron.initial_state();
                for (auto& v : b.variables) v.allocate(lanes * Pop::size, "a state variable" + what);
                b.readout_value.allocate(lanes * Pop::size, "the readout" + what);
                b.readout_step.allocate(lanes * Pop::size, "the readout steps" + what);
                b.lambda_v.allocate(lanes * Pop::size, "the adjoint of V" + what);
                b.drive.allocate(Pop::size, "the regulariser's drive" + what);
                b.drive.upload(std::vector<float>(Pop::size, 0.0f), "the regulariser's drive" + what, this->stream_);
                if constexpr (P == output) b.output_gradient.allocate(lanes * Pop::size, "the readout gradient" + what);
            }
        });
        for_each_connection([&]<std::size_t C>(auto& b) {
            using Conn = typename Net::template connection_type<C>;
            using Post = typename Conn::post_type;
            const auto& c = this->net_.template connection<C>();
            const std::string what = " of connection '" + Conn::name.str() + "'";
            c.synapse.validate(name_view<Conn::name>);
            b.synapse = c.synapse.dynamics(dt);
            b.arrival = connection_arrival<C>(this->net_, dt);
            b.in_syn.allocate(lanes * Post::size, "in_syn" + what);
            b.lambda_j.allocate(lanes * Post::size, "the adjoint of in_syn" + what);
            b.u_bar.allocate(lanes * Conn::pre_type::size, "the offset adjoints" + what);
            b.events.allocate(lanes, "the event counts" + what);
            b.host_events.assign(lanes, 0);
        });
        this->build_connections();
        this->step_base_.allocate(1, "the step counter");
    }

    // The regulariser's dL/dV per spike of each hidden neuron, from the
    // batch's spike counts (the output population gets none).
    void upload_drives() {
        if (!regularisation_.active() && !drives_set_) return;
        for_each_population([&]<std::size_t P>(auto& b) {
            using Pop = typename Net::template population_type<P>;
            if constexpr (!is_input_model<typename Pop::neuron_type>) {
                const std::size_t lanes = P == output || !regularisation_.active() ? 0 : this->active_lanes_;
                const std::span<const std::uint32_t> counts =
                    lanes != 0 ? neuron_spike_counts<P>() : std::span<const std::uint32_t>{};
                b.drive.upload(regularisation_.drives(counts.data(), lanes, Pop::size),
                               "the regulariser's drive of population '" + Pop::name.str() + "'", this->stream_);
            }
        });
        drives_set_ = regularisation_.active();
    }

    Description describe(unsigned lanes) {
        Description description;
        std::memset(static_cast<void*>(&description), 0, sizeof description);
        for_each_population([&]<std::size_t P>(auto& b) {
            auto& d = get<P>(description.populations);
            d.dynamics = b.dynamics;
            d.readout = b.readout_dynamics;
            d.initial = b.initial;
            d.bias = b.bias.device_data();
            for (std::size_t v = 0; v < b.variables.size(); ++v) d.variables[v] = b.variables[v].data();
            d.readout_value = b.readout_value.data();
            d.readout_step = b.readout_step.data();
            d.neuron_spikes = b.neuron_spikes.data();
            d.queue = b.queue.data();
            d.queue_counts = b.queue_counts.data();
            d.records = b.records.data();
            d.capacity = b.capacity;
            if constexpr (Layout::template is_spike_input<P>) d.step_start = b.input.schedule_offsets.data();
            else d.step_start = b.step_start.data();
            d.prepared = b.input.prepared.data();
            d.example_index = b.input.example_index.data();
            d.schedule_ids = b.input.schedule_ids.data();
            d.lambda_v = b.lambda_v.data();
            d.output_gradient = b.output_gradient.data();
            d.drive = b.drive.data();
        });
        for_each_connection([&]<std::size_t C>(auto& b) {
            auto& d = get<C>(description.connections);
            d.synapse = b.synapse;
            d.arrival = b.arrival;
            d.in_syn = b.in_syn.data();
            d.lambda_j = b.lambda_j.data();
            b.synapses.describe(d);
            d.gradient = b.synapses.gradient.data();
            d.u_bar = b.u_bar.data();
            d.events = b.events.data();
        });
        description.seed = this->options_.seed;
        description.dt = this->options_.dt;
        description.timesteps = this->options_.example_timesteps;
        description.lanes = lanes;
        description.step_base = this->step_base_.data();
        return description;
    }

    void capture_forward(const Description& description, cudaStream_t stream) {
        const int steps = steps_per_graph(this->options_.example_timesteps);
        const dim3 update_grid(Layout::update_blocks, description.lanes);
        const dim3 propagate_grid(Layout::propagate_blocks, description.lanes);
        for (int step = 0; step < steps; ++step) {
            launch_kernel(event_prop_update_kernel<Net>, update_grid, dim3(block_size), stream, description, step);
            launch_kernel(event_prop_propagate_kernel<Net>, propagate_grid, dim3(block_size), stream, description, step);
        }
        launch_kernel(advance_step_kernel<Net>, dim3(1), dim3(1), stream, description.step_base, steps);
    }
    void capture_backward(const Description& description, cudaStream_t stream) {
        const int steps = steps_per_graph(this->options_.example_timesteps);
        const dim3 propagate_grid(Layout::reverse_propagate_blocks, description.lanes);
        const dim3 update_grid(Layout::reverse_update_blocks, description.lanes);
        for (int step = 0; step < steps; ++step) {
            if constexpr (Layout::reverse_propagate_blocks > 0)
                launch_kernel(event_prop_reverse_propagate_kernel<Net>, propagate_grid, dim3(block_size), stream, description, step);
            launch_kernel(event_prop_reverse_update_kernel<Net, output>, update_grid, dim3(block_size), stream, description, step);
        }
        launch_kernel(advance_step_kernel<Net>, dim3(1), dim3(1), stream, description.step_base, -steps);
    }

    void launch_reset(const Description& description, bool backward) {
        launch_kernel(event_prop_reset_kernel<Net>, dim3(this->neuron_blocks(description.lanes)), dim3(block_size), this->stream_,
                      description, backward);
        check(cudaGetLastError(), "launching event_prop_reset_kernel");
    }

    // Reads every lane's record offsets; when a lane needed more records than
    // its population holds, grows them (by a quarter more than needed) and
    // says the batch must run again.
    bool grow_records(unsigned lanes) {
        const std::size_t stride = std::size_t(this->options_.example_timesteps) + 1;
        bool grown = false;
        for_each_population([&]<std::size_t P>(auto& b) {
            using Pop = typename Net::template population_type<P>;
            if constexpr (!Layout::template is_spike_input<P>) {
                b.host_step_start.resize(lanes * stride);
                b.step_start.download(b.host_step_start, "the record offsets of population '" + Pop::name.str() + "'", this->stream_);
                std::size_t needed = 0;
                for (unsigned lane = 0; lane < lanes; ++lane) needed = std::max<std::size_t>(needed, b.host_step_start[lane * stride + stride - 1]);
                if (needed <= b.capacity) return;
                const std::size_t capacity = std::min<std::size_t>(needed + needed / 4, stride * Pop::size);
                b.capacity = 0;  // if the allocation fails, no kernel may write records
                b.records.allocate(this->options_.batch_size * capacity, "the spike records of population '" + Pop::name.str() + "'");
                b.capacity = std::uint32_t(capacity);
                grown = true;
            }
        });
        return grown;
    }

    void collect_statistics(unsigned lanes) {
        const std::size_t stride = std::size_t(this->options_.example_timesteps) + 1;
        for_each_population([&]<std::size_t P>(auto& b) {
            for (unsigned lane = 0; lane < lanes; ++lane) {
                if constexpr (Layout::template is_spike_input<P>)
                    b.host_totals[lane] = b.input.schedule.end(lane, this->options_.example_timesteps - 1) -
                                          b.input.schedule.begin(lane, 0);
                else
                    b.host_totals[lane] = b.host_step_start[lane * stride + stride - 1];
            }
        });
        this->download_events(lanes);
    }

    void collect_recordings(unsigned lanes) {
        const int steps = this->options_.example_timesteps;
        const std::size_t stride = std::size_t(steps) + 1;
        for_each_population([&]<std::size_t P>(auto& b) {
            using Pop = typename Net::template population_type<P>;
            if (!this->spike_recording_[P]) return;
            auto& recorded = this->recorded_spikes_[P];
            recorded.steps.assign(lanes, {});
            recorded.ids.assign(lanes, {});
            if constexpr (Layout::template is_spike_input<P>) {
                b.input.schedule.append_to(recorded);
            } else {
                std::vector<EventPropSpikeRecord> records(std::size_t(lanes) * b.capacity);
                b.records.download(records, "the spike records of population '" + Pop::name.str() + "'", this->stream_);
                for (unsigned lane = 0; lane < lanes; ++lane)
                    for (int step = 0; step < steps; ++step)
                        for (std::uint32_t r = b.host_step_start[lane * stride + std::size_t(step)];
                             r < b.host_step_start[lane * stride + std::size_t(step) + 1]; ++r) {
                            recorded.steps[lane].push_back(step);
                            recorded.ids[lane].push_back(records[std::size_t(lane) * b.capacity + r].id);
                        }
            }
        });
    }

    bool drives_set_ = false;
    SpikeRegularisation regularisation_{};
    GraphCache<Description> forward_graphs_, backward_graphs_;
};

}  // namespace spikegraph::cuda_backend
