#pragma once
// The CUDA backend's e-prop simulator: the interface of
// cpu_backend::EPropSimulator (run, readout, learn, gradients, weights,
// training state, statistics, spike recording) over device buffers and the
// kernels of eprop_kernels.cuh. The forward time loop runs as CUDA Graphs of
// up to 256 steps; learning is two launches per batch. The per-step loss and
// output errors (lanes x steps x outputs values) are computed on the host with
// the CPU simulator's function.
//
// What differs from the CPU simulator: dL/dw is summed over steps and lanes
// with float atomics, so its last bits depend on the order the GPU adds them
// in; spikes, readouts and every per-neuron factor follow the CPU
// simulator's order of operations.
#include <algorithm>
#include <array>
#include <cmath>
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

#include <spikegraph/cuda/eprop_kernels.cuh>
#include <spikegraph/cuda/graph_cache.hpp>
#include <spikegraph/cuda/kernels.cuh>
#include <spikegraph/cuda/training_simulator.cuh>
#include <spikegraph/eprop_neuron.hpp>
#include <spikegraph/train/loss.hpp>
#include <spikegraph/train/regularisation.hpp>

namespace spikegraph::cuda_backend {

template <class Pop, std::size_t Index>
struct EPropPopulationBuffers {
    using Model = typename Pop::neuron_type;
    typename Model::Dynamics dynamics{};
    typename Pop::readout_type::Dynamics readout_dynamics{};
    NeuronState<Model> initial{};
    std::array<DeviceBuffer<float>, Model::Variables::size> variables;
    DeviceBuffer<float> readout, history, rate_drive, running_rate, filtered, signal;
    DeviceBuffer<std::uint32_t> spike_ids, spike_counts, spike_record;
    DeviceBuffer<unsigned long long> total_spikes;
    std::vector<std::uint64_t> host_totals;
    DeviceInput<Pop, Index> input;
    DeviceNeuronBiases bias;  // the output's, when trained
};

template <class Conn>
struct EPropConnectionBuffers {
    typename Conn::synapse_type::Dynamics synapse{};
    DeviceSynapses synapses;
    DeviceBuffer<float> in_syn;
    DeviceBuffer<unsigned long long> events;
    std::vector<std::uint64_t> host_events;
};

template <class Net>
class EPropSimulator : public TrainingSimulatorBase<Net, EPropPopulationBuffers, EPropConnectionBuffers> {
    using Base = TrainingSimulatorBase<Net, EPropPopulationBuffers, EPropConnectionBuffers>;

public:
    using Base::num_connections, Base::num_populations;
    static constexpr std::size_t output_index = std::size_t(Net::first_readout() >= 0 ? Net::first_readout() : 0);
    static constexpr std::size_t num_outputs = Net::population_sizes[output_index];
    using OutputPopulation = typename Net::template population_type<output_index>;
    using Description = EPropDeviceNetwork<Net>;
    using Layout = KernelLayout<Net>;

    static_assert(fits_kernel_parameter<Description>);

    EPropSimulator(const Net& net, const SimulationOptions& options) : Base(net, options) { allocate(); }
    ~EPropSimulator() {
        DeviceGuard guard(this->device_);
        graphs_.release();
    }

    void set_regularisation(const RateRegularisation& r) { regularisation_ = r; }

    // The output's bias as a trained per-neuron parameter (as
    // cpu_backend::EPropSimulator::train_output_bias). The optimiser changes
    // the host copy; run() uploads it.
    void train_output_bias() {
        auto& out = std::get<output_index>(this->populations_);
        if (!out.bias.per_neuron()) {
            const std::vector<float> initial(num_outputs, out.dynamics.bias);
            this->template set_biases<output_index>(initial);
        }
        bias_gradient_.assign(num_outputs, 0.0f);
    }
    bool trains_output_bias() const { return !bias_gradient_.empty(); }
    std::span<float> mutable_output_biases() {
        auto& bias = std::get<output_index>(this->populations_).bias;
        bias.changed = true;
        return bias.values;
    }
    std::span<const float> output_bias_gradient() const { return bias_gradient_; }
    void zero_gradients() {
        Base::zero_gradients();
        std::fill(bias_gradient_.begin(), bias_gradient_.end(), 0.0f);
    }

    // Each hidden population's running firing rate, [lane][neuron]
    // ("running-rate-<population>"; < 0: not started yet), for checkpoints.
    std::vector<std::pair<std::string, std::vector<float>>> training_state() const {
        DeviceGuard guard(this->device_);
        std::vector<std::pair<std::string, std::vector<float>>> state;
        this->for_each_population([&]<std::size_t P>(const auto& b) {
            using Pop = typename Net::template population_type<P>;
            if constexpr (is_hidden<P>) {
                std::vector<float> rates(b.running_rate.size());
                b.running_rate.download(rates, "the running rates of population '" + Pop::name.str() + "'", this->stream_);
                state.emplace_back("running-rate-" + Pop::name.str(), std::move(rates));
            }
        });
        return state;
    }
    // Restores one array of training_state(); the size must match (same network and batch size).
    void set_training_state(const std::string& name, std::vector<float> values) {
        DeviceGuard guard(this->device_);
        bool found = false;
        this->for_each_population([&]<std::size_t P>(auto& b) {
            using Pop = typename Net::template population_type<P>;
            if constexpr (is_hidden<P>) {
                if (name != "running-rate-" + Pop::name.str()) return;
                if (values.size() != b.running_rate.size())
                    detail::throw_invalid("training state '", name, "': expected ", b.running_rate.size(),
                                          " values (batch_size x neurons), got ", values.size());
                b.running_rate.upload(values, "the running rates of population '" + Pop::name.str() + "'", this->stream_);
                found = true;
            }
        });
        if (!found) detail::throw_invalid("training state '", name, "': no such array in this e-prop network");
    }

    void run() {
        DeviceGuard guard(this->device_);
        this->upload_changed_weights();
        std::get<output_index>(this->populations_).bias.upload_if_changed(name_view<OutputPopulation::name>, this->stream_);
        const unsigned lanes = unsigned(this->active_lanes_);
        this->ran_ = false;
        if (lanes == 0) return;
        const int steps = this->options_.example_timesteps;
        const Description description = describe(lanes);
        cudaGraphExec_t graph = graphs_.get(description, this->stream_, "the e-prop time loop",
                                            [&](cudaStream_t stream) { capture(description, stream); });
        launch_kernel(reset_kernel<Net>, dim3(this->neuron_blocks(lanes)), dim3(block_size), this->stream_, description.base);
        check(cudaGetLastError(), "launching reset_kernel");
        this->run_graph(graph, graph_launches(steps), "the e-prop forward pass of " + std::to_string(lanes) + " lanes");
        std::vector<unsigned long long> totals(lanes);
        this->for_each_population([&]<std::size_t P>(auto& b) {
            using Pop = typename Net::template population_type<P>;
            b.total_spikes.download(totals, "the spike totals of population '" + Pop::name.str() + "'", this->stream_);
            std::copy(totals.begin(), totals.end(), b.host_totals.begin());
            if (!this->spike_recording_[P]) return;
            auto& recorded = this->recorded_spikes_[P];
            recorded.steps.assign(lanes, {});
            recorded.ids.assign(lanes, {});
            if constexpr (Pop::neuron_type::kind == NeuronKind::spike_input) {
                b.input.schedule.append_to(recorded);
            } else {
                std::vector<std::uint32_t> bits(std::size_t(steps) * lanes * record_words_of<Pop>);
                b.spike_record.download(bits, "the spikes of population '" + Pop::name.str() + "'", this->stream_);
                recorded.append_bits(bits.data(), steps, lanes, record_words_of<Pop>);
            }
        });
        this->download_events(lanes);
        this->ran_ = true;
    }

    template <std::size_t P>
    void readout(std::span<float> out) const {
        DeviceGuard guard(this->device_);
        using Pop = typename Net::template population_type<P>;
        static_assert(Pop::has_readout, "spikegraph: this population has no readout");
        const auto& b = std::get<P>(this->populations_);
        const std::size_t count = this->active_lanes_ * Pop::size;
        b.readout.download(out.first(count), "the readout of population '" + Pop::name.str() + "'", this->stream_);
        for (std::size_t i = 0; i < count; ++i) out[i] = b.readout_dynamics.result(out[i]);
    }

    // The per-step loss of the last run (sum over its examples of the mean over
    // steps) and, with accumulate, the e-prop update of every connection added
    // to the gradients (as cpu_backend::EPropSimulator::learn).
    double learn(const Loss& loss, std::span<const std::int32_t> labels, std::size_t batch, bool accumulate = true) {
        if (!this->ran_) detail::throw_invalid("e-prop learn() called before a forward run()");
        const std::size_t lanes = this->active_lanes_;
        if (labels.size() != lanes) detail::throw_invalid("e-prop: got ", labels.size(), " labels for ", lanes, " examples");
        const std::size_t steps = std::size_t(this->options_.example_timesteps);
        const std::size_t per_lane = steps * num_outputs;
        // The output's V of every step, read only here: evaluate and predict never need it.
        DeviceGuard guard(this->device_);
        std::vector<float> voltages(lanes * per_lane);
        std::get<output_index>(this->populations_).history.download(voltages, "the output's voltages", this->stream_);
        std::vector<float> errors(lanes * per_lane), by_output(lanes * per_lane), tilde(lanes * per_lane);
        double total = 0.0;
        const auto& out = std::get<output_index>(this->populations_).dynamics;
        for (std::size_t lane = 0; lane < lanes; ++lane) {
            total += eprop_output_errors<num_outputs>(loss, voltages.data() + lane * per_lane, steps,
                                                      std::size_t(labels[lane]), batch, errors.data() + lane * per_lane);
            eprop_filter_errors(errors.data() + lane * per_lane, steps, num_outputs, out.alpha, out.input_scale,
                                tilde.data() + lane * per_lane);
            for (std::size_t t = 0; t < steps; ++t)
                for (std::size_t k = 0; k < num_outputs; ++k)
                    by_output[lane * per_lane + k * steps + t] = errors[lane * per_lane + t * num_outputs + k];
        }
        if (!accumulate) return total;
        if (trains_output_bias())
            for (std::size_t lane = 0; lane < lanes; ++lane)
                eprop_bias_gradient(errors.data() + lane * per_lane, steps, num_outputs, out.alpha, bias_gradient_.data());
        error_by_output_.upload(by_output, "the output errors", this->stream_);
        error_tilde_.upload(tilde, "the filtered output errors", this->stream_);
        const Description description = describe(unsigned(lanes));
        launch_kernel(eprop_hidden_factor_kernel<Net, output_index>, dim3(Layout::update_blocks, unsigned(lanes)),
                      dim3(block_size), this->stream_, description);
        check(cudaGetLastError(), "launching eprop_hidden_factor_kernel");
        if constexpr (num_connections > 0) {
            launch_kernel(eprop_gradient_kernel<Net, output_index>, dim3(unsigned(steps), unsigned(lanes), unsigned(num_connections)),
                          dim3(block_size), this->stream_, description);
            check(cudaGetLastError(), "launching eprop_gradient_kernel");
        }
        check(cudaStreamSynchronize(this->stream_), "e-prop learning over " + std::to_string(lanes) + " lanes");
        this->download_gradients();
        return total;
    }

private:
    template <std::size_t P>
    static constexpr bool is_hidden = is_spiking_model<typename Net::template population_type<P>::neuron_type> &&
                                      !is_input_model<typename Net::template population_type<P>::neuron_type>;

    void allocate() {
        const std::size_t lanes = this->options_.batch_size;
        const std::size_t steps = std::size_t(this->options_.example_timesteps);
        const float dt = this->options_.dt;
        this->for_each_population([&]<std::size_t P>(auto& b) {
            using Pop = typename Net::template population_type<P>;
            using Model = typename Pop::neuron_type;
            const auto& pop = this->net_.template population<P>();
            const std::string what = " of population '" + Pop::name.str() + "'";
            pop.neuron.validate(name_view<Pop::name>);
            b.host_totals.assign(lanes, 0);
            b.input.allocate(pop.neuron, this->options_);
            b.dynamics = pop.neuron.dynamics(dt);
            b.readout_dynamics = pop.readout.dynamics(dt, this->options_.example_timesteps);
            b.initial = pop.neuron.initial_state();
            b.spike_ids.allocate(lanes * Pop::size, "the spike queue" + what);
            b.spike_counts.allocate(lanes * segments_of<Pop>, "the spike counts" + what);
            b.total_spikes.allocate(lanes, "the spike totals" + what);
            if constexpr (Model::kind != NeuronKind::spike_input)
                b.spike_record.allocate(steps * lanes * record_words_of<Pop>, "the spikes of every step" + what);
            if constexpr (!is_input_model<Model>) {
                for (auto& v : b.variables) v.allocate(lanes * Pop::size, "a state variable" + what);
                if constexpr (Pop::has_readout) b.readout.allocate(lanes * Pop::size, "the readout" + what);
                b.history.allocate(lanes * steps * Pop::size, "the per-step history" + what);
            }
            if constexpr (is_hidden<P>) {
                b.rate_drive.allocate(lanes * steps * Pop::size, "the rate regulariser's drive" + what);
                b.filtered.allocate(lanes * steps * Pop::size, "the filtered learning signal" + what);
                b.signal.allocate(lanes * steps * Pop::size, "the learning signal" + what);
                b.running_rate.allocate(lanes * Pop::size, "the running rates" + what);
                fill(b.running_rate.data(), b.running_rate.size(), -1.0f, this->stream_);  // not started
            }
        });
        this->for_each_connection([&]<std::size_t C>(auto& b) {
            using Conn = typename Net::template connection_type<C>;
            const auto& c = this->net_.template connection<C>();
            const std::string what = " of connection '" + Conn::name.str() + "'";
            c.synapse.validate(name_view<Conn::name>);
            b.synapse = c.synapse.dynamics(dt);
            b.in_syn.allocate(lanes * Conn::post_type::size, "in_syn" + what);
            b.events.allocate(lanes, "the event counts" + what);
            b.host_events.assign(lanes, 0);
        });
        this->build_connections();
        this->step_base_.allocate(1, "the step counter");
        error_by_output_.allocate(lanes * steps * num_outputs, "the output errors");
        error_tilde_.allocate(lanes * steps * num_outputs, "the filtered output errors");
        check(cudaStreamSynchronize(this->stream_), "initialising the e-prop state");
    }

    Description describe(unsigned lanes) {
        Description description;
        std::memset(static_cast<void*>(&description), 0, sizeof description);
        this->for_each_population([&]<std::size_t P>(auto& b) {
            auto& d = get<P>(description.base.populations);
            describe_population(d, b);
            d.spike_record = b.spike_record.data();  // every step's spikes: learning needs them
            auto& e = description.populations[P];
            e.history = b.history.data();
            e.rate_drive = b.rate_drive.data();
            e.running_rate = b.running_rate.data();
            e.filtered = b.filtered.data();
            e.signal = b.signal.data();
        });
        this->for_each_connection([&]<std::size_t C>(auto& b) {
            auto& d = get<C>(description.base.connections);
            d.synapse = b.synapse;
            d.in_syn = b.in_syn.data();
            b.synapses.describe(d);
            d.events = b.events.data();
            description.gradients[C] = b.synapses.gradient.data();
        });
        plan_propagation(description.base);
        description.base.seed = this->options_.seed;
        description.base.timesteps = this->options_.example_timesteps;
        description.base.lanes = lanes;
        description.base.step_base = this->step_base_.data();
        description.error_by_output = error_by_output_.data();
        description.error_tilde = error_tilde_.data();
        const float dt = this->options_.dt;
        description.rate_decay = float(std::exp(-double(dt) / regularisation_.tau_reg));
        description.target = regularisation_.f_target * dt / 1000.0f;  // spikes per step
        description.c_reg = regularisation_.c_reg;
        const auto& out = std::get<output_index>(this->populations_).dynamics;
        description.kappa = out.alpha;
        description.output_scale = out.input_scale;
        return description;
    }

    void capture(const Description& description, cudaStream_t stream) {
        const int steps = steps_per_graph(this->options_.example_timesteps);
        const dim3 update_grid(Layout::update_blocks, description.base.lanes);
        const dim3 propagate_grid(description.base.propagate_offsets[Net::num_connections], description.base.lanes);
        for (int step = 0; step < steps; ++step) {
            launch_kernel(eprop_update_kernel<Net>, update_grid, dim3(block_size), stream, description, step);
            if (propagate_grid.x > 0)
                launch_kernel(propagate_kernel<Net>, propagate_grid, dim3(block_size), stream, description.base, step);
        }
        launch_kernel(advance_step_kernel<Net>, dim3(1), dim3(1), stream, description.base.step_base, steps);
    }

    RateRegularisation regularisation_{};
    DeviceBuffer<float> error_by_output_, error_tilde_;
    std::vector<float> bias_gradient_;  // dL/db of the output's biases; empty unless trained
    GraphCache<Description> graphs_;
};

}  // namespace spikegraph::cuda_backend
