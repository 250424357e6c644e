#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <spikegraph/compile/compiled_network.hpp>
#include <spikegraph/compile/input_batch.hpp>
#include <spikegraph/data/dataset.hpp>
#include <spikegraph/data/dataset_split.hpp>
#include <spikegraph/model/neuron_bias.hpp>
#include <spikegraph/train/callback.hpp>
#include <spikegraph/train/loss.hpp>
#include <spikegraph/train/metrics.hpp>
#include <spikegraph/train/optimiser.hpp>
#include <spikegraph/train/progress_bar.hpp>

namespace spikegraph {

// Options of one train() call (Keras's fit arguments).
struct TrainOptions {
    int epochs = 1;                 // train until this many epochs are done in all
    int initial_epoch = -1;         // first epoch; -1 = continue after the epochs already done (0 when fresh)
    double validation_split = 0.0;  // the LAST fraction of the data validates instead of training (as Keras)
    bool shuffle = true;            // a new Philox permutation of the training examples every epoch
    std::uint64_t shuffle_seed = 0;
};

// Metrics after each epoch: "loss" and the compiler's metrics on the training
// batches (running means over the epoch, as Keras reports), and "val_loss",
// "val_<metric>" when there is validation data.
struct History {
    std::vector<Metrics> epochs;
    const Metrics& last() const {
        if (epochs.empty()) detail::throw_invalid("History: no epoch has run");
        return epochs.back();
    }
};

namespace detail {

template <class Callback, class Model>
void call_epoch_begin(Callback& c, int epoch, Model& model) {
    if constexpr (requires { c.on_epoch_begin(epoch, model); }) c.on_epoch_begin(epoch, model);
}
template <class Callback, class Model>
void call_epoch_end(Callback& c, int epoch, const Metrics& metrics, Model& model) {
    if constexpr (requires { c.on_epoch_end(epoch, metrics, model); }) c.on_epoch_end(epoch, metrics, model);
}
template <class Callback>
inline constexpr bool is_progress_bar = std::is_same_v<std::remove_cvref_t<Callback>, ProgressBar>;

struct SilentCallback {};

}  // namespace detail

// What a gradient compiler needs from its rule beyond the simulator: the
// loss's view of the output readout.
struct TrainingSettings {
    Loss loss = SparseCategoricalCrossentropy{};
    Optimiser optimiser = Adam{};
    LossContext loss_context{};
    bool train_output_bias = false;  // the output's per-neuron biases are optimised too (e-prop)
};

// A network compiled for gradient training: evaluate/predict/weights as every
// compiled network, plus train(). Training callbacks may add
//   on_epoch_begin(int epoch, TrainableNetwork&)     e.g. LearningRateSchedule
//   on_epoch_end(int epoch, const Metrics&, TrainableNetwork&)   e.g. Checkpoint
// to the hooks of callback.hpp; each epoch is one "run" for the progress bar.
template <class Net, class SimulatorBackend>
class TrainableNetwork : public CompiledNetwork<Net, SimulatorBackend> {
    using Base = CompiledNetwork<Net, SimulatorBackend>;

public:
    using typename Base::Simulator;
    static constexpr std::size_t output_population = std::size_t(Net::first_readout() >= 0 ? Net::first_readout() : 0);
    using OutputPopulation = typename Net::template population_type<output_population>;
    static constexpr std::size_t num_outputs = OutputPopulation::size;

    TrainableNetwork(const Net& net, const SimulationOptions& options, std::vector<std::string> metric_names, bool verbose,
                     TrainingSettings settings)
        : Base(net, options, std::move(metric_names), verbose), settings_(std::move(settings)) {
        std::vector<std::size_t> sizes;
        for_each_connection([&]<std::size_t C>() { sizes.push_back(this->simulator().template connection_storage<C>().weights.size()); });
        if (settings_.train_output_bias) {
            if constexpr (requires(Simulator& s) { s.train_output_bias(); }) {
                this->simulator().train_output_bias();
                sizes.push_back(num_outputs);
            } else {
                detail::throw_invalid("train_output_bias: this compiler's simulator cannot train the output's biases");
            }
        }
        optimiser_ = OptimiserState(settings_.optimiser, sizes);
    }

    // What the optimiser's parameter arrays hold, in its order: each
    // connection's weights (by connection name), then the output's biases
    // ("<output>-Bias", the checkpoint array's name) when they are trained.
    std::vector<std::string> parameter_names() const {
        std::vector<std::string> names;
        for_each_connection([&]<std::size_t C>() { names.push_back(Net::template connection_type<C>::name.str()); });
        if (trains_output_bias()) names.push_back(detail::bias_array_name(name_view<OutputPopulation::name>));
        return names;
    }
    bool trains_output_bias() const {
        if constexpr (requires(const Simulator& s) { s.trains_output_bias(); }) return this->simulator().trains_output_bias();
        else return false;
    }

    float learning_rate() const { return optimiser_.learning_rate(); }
    void set_learning_rate(float lr) { optimiser_.set_learning_rate(lr); }
    OptimiserState& optimiser_state() { return optimiser_; }
    const OptimiserState& optimiser_state() const { return optimiser_; }
    const TrainingSettings& settings() const { return settings_; }
    int epochs_done() const { return epochs_done_; }
    void set_epochs_done(int epochs) { epochs_done_ = epochs; }

    template <DatasetType D, class... Callbacks>
    History train(const D& data, const TrainOptions& options, Callbacks&&... callbacks) {
        if (options.validation_split > 0.0) {
            auto [training, validation] = validation_split(data, options.validation_split);
            return fit(training, &validation, options, callbacks...);
        }
        return fit(data, static_cast<const D*>(nullptr), options, callbacks...);
    }
    template <DatasetType D, class... Callbacks>
    History train(const D& data, const D& validation, const TrainOptions& options, Callbacks&&... callbacks) {
        if (options.validation_split > 0.0)
            detail::throw_invalid("train: give validation data or validation_split, not both");
        return fit(data, &validation, options, callbacks...);
    }

    // Loss and metrics of a labelled dataset under the current weights.
    template <DatasetType D>
    Metrics evaluate_with_loss(const D& data) {
        constexpr auto input_name = name_view<Base::InputPopulation::name>;
        detail::validate_dataset(data, input_name, Base::InputPopulation::size, name_view<OutputPopulation::name>,
                                 num_outputs, true);
        Simulator& sim = this->simulator();
        sim.stop_recording();
        std::vector<std::unique_ptr<Metric>> metrics;
        for (const auto& name : this->metric_names()) metrics.push_back(make_metric(name));
        const std::size_t batch_size = this->options().batch_size;
        std::vector<float> outputs;
        double loss = 0.0;
        for (std::size_t first = 0; first < data.size(); first += batch_size) {
            const std::size_t lanes = std::min(batch_size, data.size() - first);
            sim.template set_input<Base::input_index>(make_input_batch(data, first, lanes));
            sim.run();
            const std::span<const std::int32_t> labels = std::span<const std::int32_t>(data.labels).subspan(first, lanes);
            loss += batch_loss(labels, outputs, false);
            for (auto& m : metrics) m->update(outputs, num_outputs, labels);
        }
        Metrics result;
        result["loss"] = loss / double(std::max<std::size_t>(1, data.size()));
        for (std::size_t i = 0; i < metrics.size(); ++i) result[this->metric_names()[i]] = metrics[i]->result();
        return result;
    }

    // Keras's train_on_batch: the forward run and one gradient step on the
    // examples `indices` of data; returns the sum of their losses. outputs
    // receives their readouts ([lane][output]).
    template <DatasetType D>
    double train_on_batch(const D& data, std::span<const std::size_t> indices, std::vector<float>& outputs) {
        this->simulator().template set_input<Base::input_index>(make_input_batch(data, indices));
        return run_and_train(labels_of(data, indices), outputs);
    }

    // One gradient step on the examples `indices` of data after their forward
    // run; returns the sum of their losses. outputs receives their readouts ([lane][output]).
    template <DatasetType D>
    double train_batch(const D& data, std::span<const std::size_t> indices, std::vector<float>& outputs) {
        return train_after_run(labels_of(data, indices), outputs);
    }

private:
    static constexpr bool simulator_has_threads = requires(Simulator& s) { s.parallel_for(std::size_t{1}, [](std::size_t) {}); };
    // Simulators that sum their lane groups block by block for the optimiser (the CPU training simulators).
    static constexpr bool simulator_sums_gradient_blocks =
        requires(Simulator& s, void (*f)(std::size_t, std::size_t, std::span<const float>)) { s.template for_each_gradient_block<0>(f); };
    // Simulators that can run each lane's backward pass right after its
    // forward pass (the CPU EventProp simulator, cpu/event_prop_simulator.hpp).
    static constexpr bool simulator_fuses_lanes = requires(Simulator& s) {
        { s.prefers_run_and_backward() } -> std::same_as<bool>;
    };

    template <DatasetType D>
    static std::vector<std::int32_t> labels_of(const D& data, std::span<const std::size_t> indices) {
        std::vector<std::int32_t> labels(indices.size());
        for (std::size_t i = 0; i < indices.size(); ++i) labels[i] = data.labels[indices[i]];
        return labels;
    }

    // The forward run of the input set last and one gradient step; returns
    // the sum of the losses. Where the simulator prefers it, each lane's loss
    // gradient and backward pass follow its own forward pass (same result,
    // bit for bit, as run() and then train_batch()'s steps).
    double run_and_train(std::span<const std::int32_t> labels, std::vector<float>& outputs) {
        Simulator& sim = this->simulator();
        if constexpr (simulator_fuses_lanes) {
            if (sim.prefers_run_and_backward()) {
                const std::size_t lanes = labels.size();
                sim.zero_gradients();
                outputs.resize(lanes * num_outputs);
                lane_losses_.assign(lanes, 0.0);
                sim.template run_and_backward<output_population>(
                    [&](std::size_t lane, std::span<const float> readout, std::span<float> gradient) {
                        std::copy(readout.begin(), readout.end(), outputs.begin() + std::ptrdiff_t(lane * num_outputs));
                        lane_losses_[lane] = loss_and_gradient(settings_.loss, settings_.loss_context, readout, num_outputs,
                                                               labels.subspan(lane, 1), lanes, gradient);
                    });
                apply_gradients();
                double loss = 0.0;
                for (const double l : lane_losses_) loss += l;
                return loss;
            }
        }
        sim.run();
        return train_after_run(labels, outputs);
    }

    // train_batch()'s step: gradients of the batch just run, then the optimiser.
    double train_after_run(std::span<const std::int32_t> labels, std::vector<float>& outputs) {
        this->simulator().zero_gradients();
        const double loss = batch_loss(labels, outputs, true);
        apply_gradients();
        return loss;
    }

    // The optimiser's step from the gradients summed since zero_gradients().
    void apply_gradients() {
        Simulator& sim = this->simulator();
        optimiser_.begin_step();
        // On the simulator's threads where it has them (the CPU backend).
        auto parallel_for = [&](std::size_t count, auto&& f) {
            if constexpr (simulator_has_threads) {
                sim.parallel_for(count, f);
            } else {
                for (std::size_t k = 0; k < count; ++k) f(k);
            }
        };
        for_each_connection([&]<std::size_t C>() {
            const std::span<float> weights = sim.template mutable_weights<C>();
            if constexpr (simulator_sums_gradient_blocks) {
                // Each block as the simulator finishes summing it (cpu/training_simulator.hpp).
                sim.template for_each_gradient_block<C>([&](std::size_t first, std::size_t count, std::span<const float> gradient) {
                    optimiser_.update_range(C, weights, gradient, first, count);
                });
            } else {
                optimiser_.update(C, weights, sim.template gradient<C>(), parallel_for);
            }
        });
        if constexpr (requires { sim.output_bias_gradient(); })
            if (sim.trains_output_bias())
                optimiser_.update(Net::num_connections, sim.mutable_output_biases(), sim.output_bias_gradient(), parallel_for);
    }

    // Readouts and loss of the batch just run; with learn, its gradients too.
    // A simulator with learn(loss, labels, batch, accumulate) computes its own
    // loss (e-prop's loss is per step); otherwise the loss of the readouts is
    // differentiated here and handed to backward().
    double batch_loss(std::span<const std::int32_t> labels, std::vector<float>& outputs, bool learn) {
        Simulator& sim = this->simulator();
        const std::size_t lanes = labels.size();
        outputs.resize(lanes * num_outputs);
        sim.template readout<output_population>(outputs);
        if constexpr (requires { sim.learn(settings_.loss, labels, lanes, learn); }) {
            return sim.learn(settings_.loss, labels, lanes, learn);
        } else {
            gradient_.resize(lanes * num_outputs);
            const double loss =
                loss_and_gradient(settings_.loss, settings_.loss_context, outputs, num_outputs, labels, lanes, gradient_);
            if (learn) sim.template backward<output_population>(gradient_);
            return loss;
        }
    }

    template <class F>
    static void for_each_connection(F&& f) {
        [&]<std::size_t... C>(std::index_sequence<C...>) { (f.template operator()<C>(), ...); }(
            std::make_index_sequence<Net::num_connections>{});
    }

    template <DatasetType D, class... Callbacks>
    History fit(const D& data, const D* validation, const TrainOptions& options, Callbacks&... callbacks) {
        using InputModel = typename Base::InputPopulation::neuron_type;
        static_assert((InputModel::kind == NeuronKind::spike_input) == std::is_same_v<D, SpikeDataset>,
                      "spikegraph: the dataset kind does not fit the input population: SpikeInput takes a "
                      "SpikeDataset, PoissonInput and BinarySpikeInput take a ValueDataset");
        constexpr auto input_name = name_view<Base::InputPopulation::name>;
        constexpr auto output_name = name_view<OutputPopulation::name>;
        detail::validate_dataset(data, input_name, Base::InputPopulation::size, output_name, num_outputs, true);
        if (validation)
            detail::validate_dataset(*validation, input_name, Base::InputPopulation::size, output_name, num_outputs, true);
        if (data.size() == 0) detail::throw_invalid("train: the training dataset is empty");
        if (options.epochs < 0) detail::throw_invalid("train: epochs must be >= 0, got ", options.epochs);
        const int first_epoch = options.initial_epoch >= 0 ? options.initial_epoch : epochs_done_;

        Simulator& sim = this->simulator();
        const std::size_t batch_size = this->options().batch_size;
        const std::size_t total = data.size();
        const std::size_t num_batches = (total + batch_size - 1) / batch_size;
        ProgressBar default_bar;
        const bool show_default_bar = this->verbose() && !(detail::is_progress_bar<Callbacks> || ...);
        auto each_callback = [&](auto&& hook) {
            (hook(callbacks), ...);
            if (show_default_bar) hook(default_bar);
        };

        History history;
        std::vector<float> outputs;
        for (int epoch = first_epoch; epoch < options.epochs; ++epoch) {
            each_callback([&](auto& c) { detail::call_epoch_begin(c, epoch, *this); });
            const std::string phase = "epoch " + std::to_string(epoch + 1) + "/" + std::to_string(options.epochs);
            const RunInfo info{phase, total, num_batches, batch_size, this->options().example_timesteps, this->options().dt};
            std::vector<std::size_t> order(total);
            if (options.shuffle) order = shuffled_indices(total, options.shuffle_seed + std::uint64_t(epoch));
            else std::iota(order.begin(), order.end(), std::size_t{0});

            std::vector<std::unique_ptr<Metric>> metrics;
            for (const auto& name : this->metric_names()) metrics.push_back(make_metric(name));
            Metrics running;
            double loss_sum = 0.0;
            sim.stop_recording();
            each_callback([&](auto& c) { detail::call_run_begin(c, info); });
            for (std::size_t batch = 0; batch < num_batches; ++batch) {
                const std::size_t first = batch * batch_size;
                const std::size_t lanes = std::min(batch_size, total - first);
                const std::span<const std::size_t> indices = std::span<const std::size_t>(order).subspan(first, lanes);
                sim.template set_input<Base::input_index>(make_input_batch(data, indices));
                each_callback([&](auto& c) { detail::call_batch_begin(c, batch, sim); });
                const std::vector<std::int32_t> labels = labels_of(data, indices);
                loss_sum += run_and_train(labels, outputs);
                for (auto& m : metrics) m->update(outputs, num_outputs, labels);
                running["loss"] = loss_sum / double(first + lanes);
                for (std::size_t i = 0; i < metrics.size(); ++i) running[this->metric_names()[i]] = metrics[i]->result();
                const BatchResult<Simulator> result{first, lanes, sim, running};
                each_callback([&](auto& c) { detail::call_batch_end(c, batch, result); });
            }
            epochs_done_ = epoch + 1;
            if (validation && validation->size() > 0)
                for (const auto& [name, value] : evaluate_with_loss(*validation)) running["val_" + name] = value;
            each_callback([&](auto& c) { detail::call_run_end(c, running); });
            history.epochs.push_back(running);
            each_callback([&](auto& c) { detail::call_epoch_end(c, epoch, running, *this); });
        }
        return history;
    }

    TrainingSettings settings_;
    OptimiserState optimiser_;
    int epochs_done_ = 0;
    std::vector<float> gradient_;
    std::vector<double> lane_losses_;  // run_and_train(): each lane's loss, summed in lane order
};

// Keras's LearningRateScheduler / mlGeNN's OptimiserParamSchedule("alpha", f):
// before each epoch the learning rate becomes schedule(epoch, current rate).
//   LearningRateSchedule{[](int epoch, float lr) { return 0.003f * std::pow(0.998f, float(epoch)); }}
template <class Schedule>
struct LearningRateSchedule {
    Schedule schedule;
    template <class Model>
    void on_epoch_begin(int epoch, Model& model) {
        model.set_learning_rate(static_cast<float>(schedule(epoch, model.learning_rate())));
    }
};
template <class Schedule>
LearningRateSchedule(Schedule) -> LearningRateSchedule<Schedule>;

}  // namespace spikegraph
