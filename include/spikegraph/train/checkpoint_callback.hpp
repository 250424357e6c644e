#pragma once
// Training checkpoints: weights, optimiser state and epoch in one .npz, so
// training can resume where it stopped. Needs spikegraph::zlib (as io/checkpoint.hpp).
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <spikegraph/error.hpp>
#include <spikegraph/io/checkpoint.hpp>
#include <spikegraph/io/npz.hpp>
#include <spikegraph/train/metrics.hpp>

namespace spikegraph {

namespace detail {
inline std::string optimiser_array_name(std::string_view connection, std::string_view moment) {
    return "optimiser-" + std::string(connection) + "-" + std::string(moment);
}
inline constexpr const char* training_state_array = "training-state";  // [format, steps, epochs done]
inline constexpr const char* learning_rate_array = "learning-rate";
inline constexpr std::int64_t training_state_format = 1;
inline const std::string training_state_prefix = "state-";  // + a simulator's training_state() name
}  // namespace detail

// Writes the model's weights (mlGeNN's "<conn>-g" names and the manifest, as
// save_weights; trained biases as "<population>-Bias"), its optimiser's
// moments ("optimiser-<parameter>-m" and "-v", one per entry of
// TrainableNetwork::parameter_names), step count, learning rate, the number of
// epochs done and the simulator's training state (e-prop's running firing
// rates, "state-running-rate-<population>") to `path`, atomically: an
// interrupted save leaves the previous file as it was. load_weights() reads
// such a file too.
template <class Model>
void save_training_state(const Model& model, const std::filesystem::path& path) {
    const auto& sim = model.simulator();
    NpzWriter writer;
    detail::checkpoint_arrays(sim, [&](const std::string& name, const auto& data, std::vector<std::size_t> shape) {
        writer.add(name, data, std::move(shape));
    });
    writer.add_raw("manifest.json", detail::manifest_json(detail::manifest_of(sim)));
    const auto& optimiser = model.optimiser_state();
    const std::vector<std::string> parameters = model.parameter_names();
    for (std::size_t i = 0; i < parameters.size(); ++i) {
        writer.add(detail::optimiser_array_name(parameters[i], "m"), optimiser.first_moments()[i],
                   std::vector<std::size_t>{optimiser.first_moments()[i].size()});
        if (!optimiser.second_moments().empty())
            writer.add(detail::optimiser_array_name(parameters[i], "v"), optimiser.second_moments()[i],
                       std::vector<std::size_t>{optimiser.second_moments()[i].size()});
    }
    const std::vector<std::int64_t> state{detail::training_state_format, std::int64_t(optimiser.steps()),
                                          std::int64_t(model.epochs_done())};
    writer.add(detail::training_state_array, state, std::vector<std::size_t>{state.size()});
    const std::vector<float> lr{optimiser.learning_rate()};
    writer.add(detail::learning_rate_array, lr, std::vector<std::size_t>{1});
    if constexpr (requires { sim.training_state(); })
        for (const auto& [name, values] : sim.training_state())
            writer.add(detail::training_state_prefix + name, values, std::vector<std::size_t>{values.size()});
    writer.write(path, "training checkpoint");
}

// Restores what save_training_state wrote. Everything is read and checked
// before anything changes: on error the model is as it was.
template <class Model>
void resume_training(Model& model, const std::filesystem::path& path) {
    auto& sim = model.simulator();
    using Net = std::remove_cvref_t<decltype(sim.network())>;
    const std::string label = "training checkpoint '" + path.string() + "'";
    const std::vector<std::uint8_t> bytes = detail::read_file_bytes(path, "training checkpoint");
    const Npz npz = Npz::parse(bytes, label);
    auto need = [&](const std::string& name) -> const NpyArray& {
        const NpyArray* a = npz.find(name);
        if (!a) detail::throw_invalid(label, ": expected array '", name, "', got none (not written by save_training_state?)");
        return *a;
    };
    const std::vector<std::int64_t> state = need(detail::training_state_array).template as<std::int64_t>();
    if (state.size() != 3 || state[0] != detail::training_state_format)
        detail::throw_invalid(label, ": array '", detail::training_state_array, "': expected [", detail::training_state_format,
                              ", steps, epochs], got ", state.size(), " values");
    if (state[1] < 0 || state[2] < 0)
        detail::throw_invalid(label, ": negative step or epoch count (", state[1], ", ", state[2], ")");
    const std::vector<float> lr = need(detail::learning_rate_array).template as<float>();
    if (lr.size() != 1 || !(std::isfinite(lr[0]) && lr[0] >= 0.0f))
        detail::throw_invalid(label, ": array '", detail::learning_rate_array, "': expected one finite rate >= 0");

    auto optimiser = model.optimiser_state();  // a copy: applied only when everything checked out
    const bool has_second = !optimiser.second_moments().empty();
    const std::vector<std::string> parameters = model.parameter_names();
    for (std::size_t i = 0; i < parameters.size(); ++i) {
        // Trained biases (after the connections) may be absent from a
        // checkpoint written without them: their moments then stay as they are.
        if (i >= Net::num_connections && !npz.find(parameters[i])) continue;
        auto load = [&](std::string_view moment, std::vector<float>& target) {
            const std::string array = detail::optimiser_array_name(parameters[i], moment);
            std::vector<float> values = need(array).template as<float>();
            if (values.size() != target.size())
                detail::throw_invalid(label, ": array '", array, "': expected ", target.size(), " values, got ", values.size());
            target = std::move(values);
        };
        load("m", optimiser.first_moments()[i]);
        if (has_second) load("v", optimiser.second_moments()[i]);
    }
    optimiser.set_steps(std::uint64_t(state[1]));
    optimiser.set_learning_rate(lr[0]);
    // The simulator's own training state (e-prop's running rates). A checkpoint
    // written before these were saved has none: the state then stays as it is.
    std::vector<std::pair<std::string, std::vector<float>>> simulator_state;
    if constexpr (requires { sim.training_state(); })
        for (const auto& [name, current] : sim.training_state())
            if (const NpyArray* a = npz.find(detail::training_state_prefix + name)) {
                std::vector<float> values = a->template as<float>();
                if (values.size() != current.size())
                    detail::throw_invalid(label, ": array '", detail::training_state_prefix + name, "': expected ",
                                          current.size(), " values (batch_size x neurons), got ", values.size());
                simulator_state.emplace_back(name, std::move(values));
            }
    load_weights(model, path);  // checks the manifest and every weight array, then replaces them all
    if constexpr (requires { sim.training_state(); })
        for (auto& [name, values] : simulator_state) sim.set_training_state(name, std::move(values));
    model.optimiser_state() = std::move(optimiser);
    model.set_epochs_done(int(state[2]));
}

// Resumes from the newest checkpoint in `directory`; false when there is none.
template <class Model>
bool resume_from_latest(Model& model, const std::filesystem::path& directory) {
    const std::optional<std::filesystem::path> latest = latest_checkpoint(directory);
    if (!latest) return false;
    resume_training(model, *latest);
    return true;
}

// Saves a training checkpoint "<directory>/epoch-<N>.npz" after every
// epoch_interval-th epoch (N = epochs done), as mlGeNN's Checkpoint callback;
// resume_from_latest(model, directory) continues from the newest one.
struct Checkpoint {
    std::filesystem::path directory;
    int epoch_interval = 1;

    template <class Model>
    void on_epoch_begin(int, Model&) const {
        validate();  // before any training, not after the first epoch
    }
    template <class Model>
    void on_epoch_end(int epoch, const Metrics&, Model& model) {
        validate();
        if ((epoch + 1) % epoch_interval != 0) return;
        detail::make_directories(directory, "checkpoint directory");
        save_training_state(model, directory / ("epoch-" + std::to_string(epoch + 1) + ".npz"));
    }
    void validate() const {
        if (epoch_interval <= 0) detail::throw_invalid("Checkpoint: epoch_interval must be > 0, got ", epoch_interval);
        if (directory.empty()) detail::throw_invalid("Checkpoint: the directory is empty");
    }
};

}  // namespace spikegraph
