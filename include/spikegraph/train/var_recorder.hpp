#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include <spikegraph/fixed_string.hpp>
#include <spikegraph/model/readout.hpp>
#include <spikegraph/train/callback.hpp>

namespace spikegraph {

// Records a state variable of population Population every timestep, as
// mlGeNN's VarRecorder: for each recorded example, values[step * neurons + k]
// of the selected neurons (all when `neurons` is empty). Variable defaults to
// the model's output variable (V).
template <FixedString Population, FixedString Variable = "">
struct VarRecorder {
    static constexpr FixedString population = Population;

    std::vector<std::uint32_t> neurons{};
    std::vector<std::size_t> examples{};

    std::vector<std::size_t> recorded_examples{};
    std::vector<std::vector<float>> values{};
    std::size_t num_neurons = 0;  // per recorded step
    int num_steps = 0;

    void on_run_begin(const RunInfo& info) {
        recorded_examples.clear();
        values.clear();
        num_steps = info.example_timesteps;
        std::sort(neurons.begin(), neurons.end());
        std::sort(examples.begin(), examples.end());
    }

    template <class Simulator>
    void on_batch_begin(std::size_t, Simulator& sim) {
        const auto [p, v] = indices<Simulator>();
        sim.record_variable(p, v, true);
    }

    template <class Simulator>
    void on_batch_end(std::size_t, const BatchResult<Simulator>& result) {
        const auto [p, v] = indices<Simulator>();
        using Net = std::remove_cvref_t<decltype(result.simulator.network())>;
        const std::size_t n = Net::population_sizes[p];
        for (std::uint32_t id : neurons)
            if (id >= n)
                detail::throw_invalid("VarRecorder for population '", name_view<Population>, "': neuron ", id,
                                      " is out of range (population has ", n, " neurons)");
        num_neurons = neurons.empty() ? n : neurons.size();
        const auto& recorded = result.simulator.recorded_variable(p, v);
        for (std::size_t lane = 0; lane < result.lanes; ++lane) {
            const std::size_t example = result.first_example + lane;
            if (!examples.empty() && !std::binary_search(examples.begin(), examples.end(), example)) continue;
            std::vector<float> out;
            out.reserve(std::size_t(num_steps) * num_neurons);
            for (int step = 0; step < num_steps; ++step) {
                const float* row = recorded.data() + (lane * std::size_t(num_steps) + std::size_t(step)) * n;
                if (neurons.empty()) out.insert(out.end(), row, row + n);
                else
                    for (std::uint32_t id : neurons) out.push_back(row[id]);
            }
            recorded_examples.push_back(example);
            values.push_back(std::move(out));
        }
    }

private:
    template <class Simulator>
    static constexpr std::pair<std::size_t, std::size_t> indices() {
        using Net = std::remove_cvref_t<decltype(std::declval<const Simulator&>().network())>;
        constexpr int p = Net::population_index(name_view<Population>);
        static_assert(p >= 0, "spikegraph: VarRecorder names a population that is not in the network");
        using Model = typename Net::template population_type<std::size_t(p >= 0 ? p : 0)>::neuron_type;
        constexpr std::string_view name = name_view<(Variable.empty() ? Model::output_variable : Variable)>;
        constexpr int v = Model::Variables::index_of(name);
        static_assert(v >= 0, "spikegraph: VarRecorder names a variable that the population's neuron model does not have");
        return {std::size_t(p >= 0 ? p : 0), std::size_t(v >= 0 ? v : 0)};
    }
};

}  // namespace spikegraph
