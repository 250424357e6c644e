#pragma once
// The CUDA backend's inference simulator: the interface of
// cpu_backend::Simulator (docs/architecture.md, "The backend contract") over
// device buffers and the kernels of kernels.cuh. The time loop runs as a CUDA
// Graph of `steps_per_launch` steps (two kernels a step) launched back to back,
// so no step waits for the host; the host synchronises once per run().
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include <spikegraph/cuda/runtime.hpp>

#include <spikegraph/compile/input_batch.hpp>
#include <spikegraph/compile/simulation_options.hpp>
#include <spikegraph/connection_storage.hpp>
#include <spikegraph/connection_storage_check.hpp>
#include <spikegraph/cpu/buffer_tuples.hpp>
#include <spikegraph/cpu/input_source.hpp>
#include <spikegraph/cuda/cuda_error.hpp>
#include <spikegraph/cuda/device_buffer.hpp>
#include <spikegraph/cuda/device_connectivity.hpp>
#include <spikegraph/cuda/device_input.hpp>
#include <spikegraph/cuda/device_neuron_biases.hpp>
#include <spikegraph/cuda/graph_cache.hpp>
#include <spikegraph/cuda/device_network.cuh>
#include <spikegraph/cuda/kernels.cuh>
#include <spikegraph/cuda/spike_input_schedule.hpp>
#include <spikegraph/cuda/sparse_row_split.hpp>
#include <spikegraph/graph/network.hpp>
#include <spikegraph/recordings.hpp>

namespace spikegraph::cuda_backend {

template <class Net>
class Simulator : public Recordings<Net::num_populations>, public NeuronBiasQueries<Net, Simulator<Net>> {
    friend class NeuronBiasQueries<Net, Simulator<Net>>;

public:
    static constexpr std::size_t num_populations = Net::num_populations;
    static constexpr std::size_t num_connections = Net::num_connections;
    using Layout = KernelLayout<Net>;

    static_assert(fits_kernel_parameter<DeviceNetwork<Net>>);

    Simulator(const Net& net, const SimulationOptions& options) : net_(net), options_(options) {
        options_.validate();
        // Lanes are the grid's y dimension.
        if (options_.batch_size > 65535)
            detail::throw_invalid("batch_size must be <= 65535 on the cuda backend (the CUDA grid's y limit), got ",
                                  options_.batch_size);
        device_ = require_device();
        // Non-blocking: ordered with nothing but itself, so copies and kernels
        // of this simulator never wait for (or break the graph capture of) others.
        check(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreateWithFlags");
        try {
            allocate();
            reset(unsigned(options_.batch_size));  // defined state before the first run, as on the CPU
        } catch (...) {
            graphs_.release();
            cudaStreamDestroy(stream_);
            throw;
        }
    }
    Simulator(const Simulator&) = delete;
    Simulator& operator=(const Simulator&) = delete;
    ~Simulator() {
        int current = device_;
        if (cudaGetDevice(&current) == cudaSuccess && current != device_) cudaSetDevice(device_);
        graphs_.release();
        if (stream_) cudaStreamDestroy(stream_);
        if (current != device_) cudaSetDevice(current);
    }

    const SimulationOptions& options() const { return options_; }
    const Net& network() const { return net_; }
    std::size_t active_lanes() const { return active_lanes_; }

    // Gives input population P its inputs for the next run(); the batch's lane
    // count (<= batch_size) sets how many lanes run. Inputs are copied to the
    // device here, once per batch.
    template <std::size_t P>
    void set_input(const InputBatch& batch) {
        DeviceGuard guard(device_);
        active_lanes_ = std::get<P>(populations_).input.load(net_.template population<P>().neuron, batch, options_, stream_);
    }

    // Resets every state variable, input buffer and readout, then simulates
    // example_timesteps steps for the active lanes.
    void run() {
        DeviceGuard guard(device_);
        const unsigned lanes = unsigned(active_lanes_);
        const int steps = options_.example_timesteps;
        prepare_recording(lanes, steps);
        if (lanes == 0) return;
        const DeviceNetwork<Net> description = describe(lanes);
        cudaGraphExec_t graph = graph_for(description);
        launch_reset(description);
        for (int launch = 0; launch < graph_launches(steps); ++launch)
            check(cudaGraphLaunch(graph, stream_), "cudaGraphLaunch of the time loop");
        check(cudaStreamSynchronize(stream_), "simulating " + std::to_string(steps) + " steps of " +
                                                  std::to_string(lanes) + " lanes (the time loop's kernels)");
        collect_statistics(lanes);
        collect_recordings(lanes, steps);
    }

    // Readout of population P after run(): [lane][neuron] for the active lanes.
    template <std::size_t P>
    void readout(std::span<float> out) const {
        DeviceGuard guard(device_);
        using Pop = typename Net::template population_type<P>;
        static_assert(Pop::has_readout, "spikegraph: this population has no readout");
        const auto& b = std::get<P>(populations_);
        const std::size_t count = active_lanes_ * Pop::size;
        b.readout.download(out.first(count), "readout of population '" + Pop::name.str() + "'", stream_);
        for (std::size_t i = 0; i < count; ++i) out[i] = b.readout_dynamics.result(out[i]);
    }

    // Current value of variable V of population P: [lane][neuron], all lanes (copied from the device).
    template <std::size_t P, std::size_t V>
    std::span<const float> variable() const {
        DeviceGuard guard(device_);
        using Pop = typename Net::template population_type<P>;
        const auto& b = std::get<P>(populations_);
        b.host_variable.resize(options_.batch_size * Pop::size);
        b.variables[V].download(b.host_variable, "variable of population '" + Pop::name.str() + "'", stream_);
        return b.host_variable;
    }

    template <std::size_t C>
    const detail::ConnectionStorage& connection_storage() const {
        return std::get<C>(connections_).storage;
    }
    template <std::size_t C>
    void set_weights(std::span<const float> weights) {
        DeviceGuard guard(device_);
        using Conn = typename Net::template connection_type<C>;
        auto& b = std::get<C>(connections_);
        // Validated on a copy and uploaded before the host copy changes, so a
        // failure leaves host and device agreeing on the old weights.
        detail::ConnectionStorage updated = b.storage;
        detail::replace_weights(updated, weights, name_view<Conn::name>);
        b.synapses.weights.upload(updated.weights, "weights of connection '" + Conn::name.str() + "'", stream_);
        b.storage.weights = std::move(updated.weights);
    }
    template <std::size_t C>
    void set_connection_storage(detail::ConnectionStorage storage) {
        DeviceGuard guard(device_);
        using Conn = typename Net::template connection_type<C>;
        detail::check_connection_storage(storage, Conn::connectivity_type::kind, Conn::pre_type::size,
                                         Conn::post_type::size, "connection '" + Conn::name.str() + "'");
        upload_connection<C>(std::move(storage));
    }

    // Gives every neuron of population P its own bias, on host and device (NeuronBiasQueries reads them).
    template <std::size_t P>
    void set_biases(std::span<const float> biases) {
        DeviceGuard guard(device_);
        set_device_biases<Net, P>(populations_, biases, stream_);
    }

    template <std::size_t P>
    std::span<const std::uint64_t> spike_totals() const {
        return std::span<const std::uint64_t>(std::get<P>(populations_).host_totals).first(active_lanes_);
    }
    std::uint64_t synaptic_events() const {
        std::uint64_t total = 0;
        for_each_connection([&]<std::size_t C>(const auto& b) {
            for (std::size_t lane = 0; lane < active_lanes_; ++lane) total += b.host_events[lane];
        });
        return total;
    }

    // The device this simulator runs on (cudaGetDevice at construction).
    int device() const { return device_; }

private:
    template <class Pop, std::size_t Index>
    struct PopulationBuffers {
        using Model = typename Pop::neuron_type;
        static constexpr std::size_t num_variables = Model::Variables::size;
        typename Model::Dynamics dynamics{};
        typename Pop::readout_type::Dynamics readout_dynamics{};
        NeuronState<Model> initial{};
        std::array<DeviceBuffer<float>, num_variables> variables;
        DeviceBuffer<float> readout;
        DeviceBuffer<std::uint32_t> spike_ids, spike_counts;
        DeviceBuffer<unsigned long long> total_spikes;
        std::vector<std::uint64_t> host_totals;
        mutable std::vector<float> host_variable;
        DeviceInput<Pop, Index> input;  // input populations
        DeviceNeuronBiases bias;
        // recording
        DeviceBuffer<std::uint32_t> spike_record;
        std::array<DeviceBuffer<float>, num_variables> variable_record;
    };
    template <class Conn>
    struct ConnectionBuffers {
        typename Conn::synapse_type::Dynamics synapse{};
        detail::ConnectionStorage storage;
        DeviceBuffer<float> in_syn;
        DeviceConnectivity synapses;
        DeviceBuffer<unsigned long long> events;
        std::vector<std::uint64_t> host_events;
    };
    template <class F>
    void for_each_population(F&& f) {
        cpu_backend::for_each_buffer(populations_, f);
    }
    template <class F>
    void for_each_connection(F&& f) {
        cpu_backend::for_each_buffer(connections_, f);
    }
    template <class F>
    void for_each_connection(F&& f) const {
        cpu_backend::for_each_buffer(connections_, f);
    }

    void allocate() {
        const std::size_t lanes = options_.batch_size;
        for_each_population([&]<std::size_t P>(auto& b) {
            using Pop = typename Net::template population_type<P>;
            const auto& pop = net_.template population<P>();
            const std::string what = "population '" + Pop::name.str() + "'";
            pop.neuron.validate(name_view<Pop::name>);
            b.dynamics = pop.neuron.dynamics(options_.dt);
            b.readout_dynamics = pop.readout.dynamics(options_.dt, options_.example_timesteps);
            b.initial = pop.neuron.initial_state();
            for (auto& v : b.variables) v.allocate(lanes * Pop::size, "a state variable of " + what);
            if constexpr (Pop::has_readout) b.readout.allocate(lanes * Pop::size, "the readout of " + what);
            b.spike_ids.allocate(lanes * Pop::size, "the spike queue of " + what);
            b.spike_counts.allocate(lanes * segments_of<Pop>, "the spike counts of " + what);
            b.total_spikes.allocate(lanes, "the spike totals of " + what);
            b.host_totals.assign(lanes, 0);
            b.input.allocate(pop.neuron, options_);
        });
        for_each_connection([&]<std::size_t C>(auto& b) {
            using Conn = typename Net::template connection_type<C>;
            const auto& c = net_.template connection<C>();
            c.synapse.validate(name_view<Conn::name>);
            b.synapse = c.synapse.dynamics(options_.dt);
            b.in_syn.allocate(lanes * Conn::post_type::size, "in_syn of connection '" + Conn::name.str() + "'");
            b.events.allocate(lanes, "the event counts of connection '" + Conn::name.str() + "'");
            b.host_events.assign(lanes, 0);
            upload_connection<C>(detail::build_connection(c.connectivity, Conn::pre_type::size, Conn::post_type::size,
                                                          options_.seed, C, Conn::name.str()));
        });
        step_base_.allocate(1, "the step counter");
    }

    template <std::size_t C>
    void upload_connection(detail::ConnectionStorage storage) {
        using Conn = typename Net::template connection_type<C>;
        auto& b = std::get<C>(connections_);
        DeviceConnectivity uploaded =
            DeviceConnectivity::upload(storage, Conn::pre_type::size, Conn::post_type::size, options_.cuda_sparse_unit_width,
                                       " of connection '" + Conn::name.str() + "'", stream_);
        // Only now, with every copy done, does the connection change.
        b.synapses = std::move(uploaded);
        b.storage = std::move(storage);
    }

    // The kernels' view of every buffer, with zeroed padding so that two
    // descriptions compare equal byte for byte when they describe the same run.
    DeviceNetwork<Net> describe(unsigned lanes) {
        DeviceNetwork<Net> description;
        std::memset(static_cast<void*>(&description), 0, sizeof description);
        for_each_population([&]<std::size_t P>(auto& b) {
            using Pop = typename Net::template population_type<P>;
            using Model = typename Pop::neuron_type;
            auto& d = get<P>(description.populations);
            describe_population(d, b);
            // SpikeInput spikes are recorded from the host's schedule.
            if (this->recording_spikes(P) && Model::kind != NeuronKind::spike_input) d.spike_record = b.spike_record.data();
        });
        for (const auto& [p, v] : this->variable_requests()) {
            for_each_population([&]<std::size_t P>(auto& b) {
                if (P == p && v < b.variable_record.size())
                    get<P>(description.populations).variable_record[v] = b.variable_record[v].data();
            });
        }
        for_each_connection([&]<std::size_t C>(auto& b) {
            auto& d = get<C>(description.connections);
            d.synapse = b.synapse;
            d.in_syn = b.in_syn.data();
            b.synapses.describe(d);
            d.events = b.events.data();
        });
        plan_propagation(description);
        description.seed = options_.seed;
        description.timesteps = options_.example_timesteps;
        description.lanes = lanes;
        description.step_base = step_base_.data();
        return description;
    }

    // The captured time loop for a description (kernel parameters are baked
    // into a graph); a few are kept, e.g. for full and partial last batches.
    cudaGraphExec_t graph_for(const DeviceNetwork<Net>& description) {
        return graphs_.get(description, stream_, "the time loop", [&](cudaStream_t stream) {
            const int steps = steps_per_graph(options_.example_timesteps);
            const dim3 update_grid(Layout::update_blocks, description.lanes);
            const dim3 propagate_grid(description.propagate_offsets[Net::num_connections], description.lanes);
            for (int step = 0; step < steps; ++step) {
                launch_kernel(update_kernel<Net>, update_grid, dim3(block_size), stream, description, step);
                if (propagate_grid.x > 0)
                    launch_kernel(propagate_kernel<Net>, propagate_grid, dim3(block_size), stream, description, step);
            }
            launch_kernel(advance_step_kernel<Net>, dim3(1), dim3(1), stream, description.step_base, steps);
        });
    }

    void launch_reset(const DeviceNetwork<Net>& description) {
        launch_kernel(reset_kernel<Net>, dim3(reset_blocks(description.lanes)), dim3(block_size), stream_, description);
        check(cudaGetLastError(), "launching reset_kernel");
    }
    void reset(unsigned lanes) {
        launch_reset(describe(lanes));
        check(cudaStreamSynchronize(stream_), "resetting the network's state");
    }

    static unsigned reset_blocks(unsigned lanes) {
        std::size_t largest = 1;
        for (std::size_t size : Net::population_sizes) largest = std::max(largest, size);
        const std::size_t blocks = (std::size_t(lanes) * largest + block_size - 1) / block_size;
        return unsigned(std::min<std::size_t>(blocks, 4096));
    }

    // Host lists and device buffers for what is recorded in this run.
    void prepare_recording(unsigned lanes, int steps) {
        this->prepare_recordings(lanes, steps, Net::population_sizes);
        for_each_population([&]<std::size_t P>(auto& b) {
            using Pop = typename Net::template population_type<P>;
            if constexpr (Pop::neuron_type::kind != NeuronKind::spike_input)
                if (this->recording_spikes(P))
                    b.spike_record.reserve(std::size_t(steps) * options_.batch_size * record_words_of<Pop>,
                                           "the spike recording of population '" + Pop::name.str() + "'");
        });
        for (const auto& [p, v] : this->variable_requests()) {
            for_each_population([&]<std::size_t P>(auto& b) {
                using Pop = typename Net::template population_type<P>;
                if (P == p && v < b.variable_record.size())
                    b.variable_record[v].reserve(options_.batch_size * std::size_t(steps) * Pop::size,
                                                 "the variable recording of population '" + Pop::name.str() + "'");
            });
        }
    }

    void collect_statistics(unsigned lanes) {
        std::vector<unsigned long long> counts(lanes);
        for_each_population([&]<std::size_t P>(auto& b) {
            using Pop = typename Net::template population_type<P>;
            b.total_spikes.download(counts, "the spike totals of population '" + Pop::name.str() + "'", stream_);
            std::copy(counts.begin(), counts.end(), b.host_totals.begin());
        });
        for_each_connection([&]<std::size_t C>(auto& b) {
            using Conn = typename Net::template connection_type<C>;
            b.events.download(counts, "the event counts of connection '" + Conn::name.str() + "'", stream_);
            std::copy(counts.begin(), counts.end(), b.host_events.begin());
        });
    }

    void collect_recordings(unsigned lanes, int steps) {
        for_each_population([&]<std::size_t P>(auto& b) {
            using Pop = typename Net::template population_type<P>;
            if (!this->recording_spikes(P)) return;
            auto& recorded = this->spike_record(P);
            if constexpr (Pop::neuron_type::kind == NeuronKind::spike_input) {
                b.input.schedule.append_to(recorded);
            } else {
                constexpr std::size_t words = record_words_of<Pop>;
                std::vector<std::uint32_t> bits(std::size_t(steps) * lanes * words);
                b.spike_record.download(bits, "the spike recording of population '" + Pop::name.str() + "'", stream_);
                recorded.append_bits(bits.data(), steps, lanes, words);
            }
        });
        for (std::size_t r = 0; r < this->variable_requests().size(); ++r) {
            const auto [p, v] = this->variable_requests()[r];
            for_each_population([&]<std::size_t P>(auto& b) {
                using Pop = typename Net::template population_type<P>;
                if (P == p && v < b.variable_record.size())
                    b.variable_record[v].download(this->variable_record(r),
                                                  "the variable recording of population '" + Pop::name.str() + "'", stream_);
            });
        }
    }

    Net net_;
    SimulationOptions options_;
    int device_ = 0;
    cudaStream_t stream_ = nullptr;
    std::size_t active_lanes_ = 0;
    typename cpu_backend::PopulationBuffersOf<Net, PopulationBuffers>::type populations_;
    typename cpu_backend::ConnectionBuffersOf<Net, ConnectionBuffers>::type connections_;
    DeviceBuffer<int> step_base_;
    GraphCache<DeviceNetwork<Net>> graphs_;
};

}  // namespace spikegraph::cuda_backend
