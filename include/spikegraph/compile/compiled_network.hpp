#pragma once
#include <algorithm>
#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <unistd.h>

#include <spikegraph/compile/input_batch.hpp>
#include <spikegraph/compile/simulation_options.hpp>
#include <spikegraph/data/dataset.hpp>
#include <spikegraph/graph/network.hpp>
#include <spikegraph/train/callback.hpp>
#include <spikegraph/train/metrics.hpp>
#include <spikegraph/train/progress_bar.hpp>

namespace spikegraph {

// Readouts of every example of a predict() call: values[example * num_outputs + k].
struct Predictions {
    std::size_t num_outputs = 0;
    std::vector<float> values;

    std::size_t size() const { return num_outputs == 0 ? 0 : values.size() / num_outputs; }
    std::span<const float> example(std::size_t i) const {
        return std::span<const float>(values).subspan(i * num_outputs, num_outputs);
    }
    std::vector<std::size_t> classes() const {
        std::vector<std::size_t> out(size());
        for (std::size_t i = 0; i < out.size(); ++i) out[i] = argmax(example(i));
        return out;
    }
};

// A network compiled for a backend: the loops shared by every backend over the
// backend's Simulator. Datasets feed the network's input population; results
// come from the first population with a readout (or the one named).
template <class Net, class Backend>
class CompiledNetwork {
public:
    using Simulator = typename Backend::template Simulator<Net>;
    static_assert(Net::num_inputs == 1,
                  "spikegraph: evaluate/predict feed one dataset into one input population; "
                  "this network needs exactly one input population");

    static constexpr std::size_t input_index = std::size_t(Net::first_input());
    using InputPopulation = typename Net::template population_type<input_index>;

    CompiledNetwork(const Net& net, const SimulationOptions& options, std::vector<std::string> metric_names,
                    bool verbose)
        : simulator_(std::make_unique<Simulator>(net, options)),
          metric_names_(std::move(metric_names)),
          verbose_(verbose) {
        for (const auto& name : metric_names_) (void)make_metric(name);  // unknown names fail here, not mid-run
    }

    const SimulationOptions& options() const { return simulator_->options(); }
    Simulator& simulator() { return *simulator_; }
    const Simulator& simulator() const { return *simulator_; }

    // Runs every example and returns the compiler's metrics, e.g. {"sparse_categorical_accuracy": 0.97}.
    template <FixedString Output = "", DatasetType D, class... Callbacks>
    Metrics evaluate(const D& data, Callbacks&&... callbacks) {
        constexpr std::size_t output = output_index<Output>();
        return run<output>("evaluate", data, true, nullptr, callbacks...);
    }

    // Readouts for every example (labels, if present, are checked but unused).
    template <FixedString Output = "", DatasetType D, class... Callbacks>
    Predictions predict(const D& data, Callbacks&&... callbacks) {
        constexpr std::size_t output = output_index<Output>();
        Predictions predictions;
        predictions.num_outputs = Net::population_sizes[output];
        run<output>("predict", data, false, &predictions.values, callbacks...);
        return predictions;
    }

    // Weights of a connection by name: dense [pre][post], sparse in CSR order, one-to-one per neuron.
    template <FixedString Connection>
    std::vector<float> weights() const {
        constexpr std::size_t c = connection_index<Connection>();
        return simulator_->template connection_storage<c>().weights;
    }
    template <FixedString Connection>
    void set_weights(std::span<const float> weights) {
        simulator_->template set_weights<connection_index<Connection>()>(weights);
    }

    // Per-neuron biases of a population whose model has a bias (e.g. the
    // LeakyIntegrate output; model/neuron_bias.hpp): the set or trained ones,
    // else the model's bias for every neuron.
    template <FixedString Population>
    std::vector<float> biases() const {
        return simulator_->template biases<population_index<Population>()>();
    }
    // Gives every neuron of the population its own bias (one finite value per neuron).
    template <FixedString Population>
    void set_biases(std::span<const float> biases) {
        simulator_->template set_biases<population_index<Population>()>(biases);
    }

protected:
    const std::vector<std::string>& metric_names() const { return metric_names_; }
    bool verbose() const { return verbose_; }

    template <FixedString Output>
    static constexpr std::size_t output_index() {
        if constexpr (Output.empty()) {
            static_assert(Net::num_readouts >= 1,
                          "spikegraph: evaluate/predict need a population with a readout, "
                          "e.g. population<\"output\", 10>(LeakyIntegrate{}, AvgVar{})");
            return std::size_t(Net::first_readout() >= 0 ? Net::first_readout() : 0);  // 0: no follow-on errors
        } else {
            constexpr int index = Net::population_index(name_view<Output>);
            static_assert(index >= 0, "spikegraph: the named output population is not in the network");
            constexpr std::size_t found = index >= 0 ? std::size_t(index) : 0;  // 0: no follow-on errors
            static_assert(index < 0 || Net::template population_type<found>::has_readout,
                          "spikegraph: the named output population has no readout");
            return found;
        }
    }
    template <FixedString Population>
    static constexpr std::size_t population_index() {
        constexpr int index = Net::population_index(name_view<Population>);
        static_assert(index >= 0, "spikegraph: no population of that name in the network");
        return index >= 0 ? std::size_t(index) : 0;  // 0: no follow-on errors
    }
    template <FixedString Connection>
    static constexpr std::size_t connection_index() {
        constexpr int index = Net::connection_index(name_view<Connection>);
        static_assert(index >= 0, "spikegraph: no connection of that name in the network");
        return index >= 0 ? std::size_t(index) : 0;  // 0: no follow-on errors
    }

private:
    template <std::size_t Output, DatasetType D, class... Callbacks>
    Metrics run(std::string_view phase, const D& data, bool need_labels, std::vector<float>* predictions,
                Callbacks&... callbacks) {
        using InputModel = typename InputPopulation::neuron_type;
        static_assert((InputModel::kind == NeuronKind::spike_input) == std::is_same_v<D, SpikeDataset>,
                      "spikegraph: the dataset kind does not fit the input population: SpikeInput takes a "
                      "SpikeDataset, PoissonInput and BinarySpikeInput take a ValueDataset");
        using OutputPopulation = typename Net::template population_type<Output>;
        detail::validate_dataset(data, name_view<InputPopulation::name>, InputPopulation::size,
                                 name_view<OutputPopulation::name>, OutputPopulation::size, need_labels);

        const std::size_t batch_size = options().batch_size;
        const std::size_t total = data.size();
        const std::size_t num_batches = (total + batch_size - 1) / batch_size;
        const RunInfo info{phase, total, num_batches, batch_size, options().example_timesteps, options().dt};
        constexpr std::size_t num_outputs = OutputPopulation::size;

        std::vector<std::unique_ptr<Metric>> metrics;
        if (need_labels)
            for (const auto& name : metric_names_) metrics.push_back(make_metric(name));
        Metrics results;
        auto collect = [&] {
            for (std::size_t i = 0; i < metrics.size(); ++i) results[metric_names_[i]] = metrics[i]->result();
        };

        ProgressBar default_bar;
        const bool show_default_bar = verbose_ && sizeof...(Callbacks) == 0 && isatty(fileno(stderr)) && num_batches > 1;
        auto each_callback = [&](auto&& hook) {
            (hook(callbacks), ...);
            if (show_default_bar) hook(default_bar);
        };

        simulator_->stop_recording();
        each_callback([&](auto& c) { detail::call_run_begin(c, info); });
        std::vector<float> outputs(batch_size * num_outputs);
        if (predictions) predictions->assign(total * num_outputs, 0.0f);
        for (std::size_t batch = 0; batch < num_batches; ++batch) {
            const std::size_t first = batch * batch_size;
            const std::size_t lanes = std::min(batch_size, total - first);
            simulator_->template set_input<input_index>(make_input_batch(data, first, lanes));
            each_callback([&](auto& c) { detail::call_batch_begin(c, batch, *simulator_); });
            simulator_->run();
            simulator_->template readout<Output>(std::span<float>(outputs).first(lanes * num_outputs));
            if (predictions)
                std::copy_n(outputs.begin(), lanes * num_outputs, predictions->begin() + std::ptrdiff_t(first * num_outputs));
            if (!data.labels.empty())
                for (auto& m : metrics)
                    m->update(std::span<const float>(outputs).first(lanes * num_outputs), num_outputs,
                              std::span<const std::int32_t>(data.labels).subspan(first, lanes));
            collect();
            const BatchResult<Simulator> result{first, lanes, *simulator_, results};
            each_callback([&](auto& c) { detail::call_batch_end(c, batch, result); });
        }
        collect();
        each_callback([&](auto& c) { detail::call_run_end(c, results); });
        return results;
    }

    std::unique_ptr<Simulator> simulator_;
    std::vector<std::string> metric_names_;
    bool verbose_;
};

}  // namespace spikegraph
