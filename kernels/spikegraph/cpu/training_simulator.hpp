#pragma once
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <tuple>
#include <vector>

#include <spikegraph/compile/input_batch.hpp>
#include <spikegraph/compile/simulation_options.hpp>
#include <spikegraph/connection_storage.hpp>
#include <spikegraph/connection_storage_check.hpp>
#include <spikegraph/cpu/buffer_tuples.hpp>
#include <spikegraph/cpu/input_source.hpp>
#include <spikegraph/cpu/simulator.hpp>
#include <spikegraph/cpu/thread_pool.hpp>
#include <spikegraph/graph/network.hpp>
#include <spikegraph/neuron_biases.hpp>
#include <spikegraph/recorded_spikes.hpp>

namespace spikegraph::cpu_backend {

// What the CPU training simulators (EventProp, e-prop) share: options and
// thread pool, inputs, weights and their gradients (one buffer per group of
// lanes, summed in a fixed order so the thread count cannot change a result),
// spike recording and statistics. PopulationBuffers<Pop, I> must have
// `input` (input populations), `step_start` (per lane, T + 1 offsets) and
// spike_id(lane, r); ConnectionBuffers<Conn> must have `storage`, `gradient`
// and `events`.
template <class Net, template <class, std::size_t> class PopulationBuffers, template <class> class ConnectionBuffers>
class TrainingSimulatorBase : public TrainingRecordings<Net::num_populations>,
                              public NeuronBiasQueries<Net, TrainingSimulatorBase<Net, PopulationBuffers, ConnectionBuffers>> {
    friend class NeuronBiasQueries<Net, TrainingSimulatorBase>;

public:
    static constexpr std::size_t num_populations = Net::num_populations;
    static constexpr std::size_t num_connections = Net::num_connections;

    TrainingSimulatorBase(const Net& net, const SimulationOptions& options)
        : net_(net), options_(options), pool_(options.num_threads) {
        options_.validate();
        spike_recording_.fill(false);
    }

    const SimulationOptions& options() const { return options_; }
    const Net& network() const { return net_; }
    std::size_t active_lanes() const { return active_lanes_; }

    template <std::size_t P>
    void set_input(const InputBatch& batch) {
        using Pop = typename Net::template population_type<P>;
        active_lanes_ = load_input_batch<Pop>(std::get<P>(populations_).input, batch, options_.batch_size);
    }

    // dL/dw of connection C summed since zero_gradients(), in the layout of
    // its weights. The lane groups' sum is taken on the first read after a
    // backward pass (the buffers are mutable for it: a cache of the sum),
    // unless for_each_gradient_block() took it already.
    template <std::size_t C>
    std::span<const float> gradient() const {
        const auto& b = std::get<C>(connections_);
        if (b.gradient.empty()) return {};
        if (unsummed_groups_[C]) {
            for (std::size_t k = 0; k < gradient_blocks<C>(); ++k) sum_gradient_block<C>(k);
            unsummed_groups_[C] = false;
        }
        return b.gradient[0];
    }
    // f(first, count, gradient) over connection C's gradient in blocks, on
    // the simulator's threads; gradient is the whole of gradient<C>(), its
    // range [first, first + count) complete when f sees it. For the
    // optimiser: each block of the lane groups' sum is still in cache when
    // f reads it, and summing and updating take one pass over memory and one
    // wake of the threads instead of two (docs/architecture.md, 2026-11-24).
    template <std::size_t C, class F>
    void for_each_gradient_block(F&& f) {
        ensure_gradient_groups();
        const std::span<const float> summed = std::get<C>(connections_).gradient[0];
        const bool unsummed = unsummed_groups_[C];
        pool_.parallel_for(gradient_blocks<C>(), [&](std::size_t k) {
            if (unsummed) sum_gradient_block<C>(k);
            const std::size_t first = k * gradient_block;
            f(first, std::min(gradient_block, summed.size() - first), summed);
        });
        unsummed_groups_[C] = false;
    }
    void zero_gradients() {
        // Groups other than 0 are left zero by the sum, so only group 0 is
        // cleared, unless a sum is still to come (or a lane's pass threw
        // before it): a pass over every copy costs as much as the sum.
        for_each_buffer(connections_, [&]<std::size_t C>(auto& b) {
            for (std::size_t g = 0; g < b.gradient.size(); ++g)
                if (g == 0 || unsummed_groups_[C]) std::fill(b.gradient[g].begin(), b.gradient[g].end(), 0.0f);
            unsummed_groups_[C] = false;
        });
    }

    template <std::size_t C>
    const detail::ConnectionStorage& connection_storage() const {
        return std::get<C>(connections_).storage;
    }
    template <std::size_t C>
    std::span<float> mutable_weights() {
        return std::get<C>(connections_).storage.weights;
    }
    template <std::size_t C>
    void set_weights(std::span<const float> weights) {
        using Conn = typename Net::template connection_type<C>;
        detail::replace_weights(std::get<C>(connections_).storage, weights, name_view<Conn::name>);
    }
    // Replaces connection C's synapses, structure included; validated first, on error nothing changes.
    template <std::size_t C>
    void set_connection_storage(detail::ConnectionStorage storage) {
        using Conn = typename Net::template connection_type<C>;
        detail::check_connection_storage(storage, Conn::connectivity_type::kind, Conn::pre_type::size,
                                         Conn::post_type::size, "connection '" + Conn::name.str() + "'");
        auto& b = std::get<C>(connections_);
        b.storage = std::move(storage);
        for (auto& g : b.gradient) g.assign(b.storage.weights.size(), 0.0f);
    }

    // Runs f(k) for every k < count on the simulator's threads (the
    // optimiser's update uses it between batches).
    template <class F>
    void parallel_for(std::size_t count, F&& f) {
        pool_.parallel_for(count, f);
    }

    // Gives every neuron of population P its own bias (NeuronBiasQueries reads them).
    template <std::size_t P>
    void set_biases(std::span<const float> biases) {
        require_neuron_bias<Net, P>();
        std::get<P>(populations_).bias.set(biases, Net::population_sizes[P], name_view<Net::template population_type<P>::name>);
    }

    // Spikes of population P in the last run, per lane.
    template <std::size_t P>
    std::span<const std::uint64_t> spike_totals() const {
        const auto& b = std::get<P>(populations_);
        totals_scratch_.assign(active_lanes_, 0);
        for (std::size_t lane = 0; lane < active_lanes_; ++lane) totals_scratch_[lane] = b.step_start[lane].back();
        return totals_scratch_;
    }
    // Forward synaptic events (spike x synapse additions) in the last run.
    std::uint64_t synaptic_events() const {
        std::uint64_t total = 0;
        for_each_buffer(connections_, [&]<std::size_t C>(const auto& b) {
            for (std::size_t lane = 0; lane < active_lanes_; ++lane) total += b.events[lane];
        });
        return total;
    }

    // The active lanes are cut into gradient_groups() runs of consecutive
    // lanes, and each run adds its gradient to its group's copy (consecutive,
    // so that two threads seldom write neighbouring lanes' arrays at the same
    // time). Each group is a full copy of every gradient, which costs a pass
    // to sum and clear and, on first touch, a refill of the cache, so a group
    // gets at least 8 lanes to spread that over: with 4-lane groups the
    // benchmark net's training ran 10-12 % slower than with 8 or 16 lanes
    // (700-256-20, batch 32, 2 threads). So: one group per 8 lanes, at least
    // 2 (two threads still share the backward pass), at most 8, and no more
    // than fit in 1 GiB. The count depends on the network and batch size
    // only, never on the thread count, so neither does any result.
    std::size_t gradient_groups() const {
        std::size_t weight_bytes = 0;
        for_each_buffer(connections_, [&]<std::size_t C>(const auto& b) { weight_bytes += b.storage.weights.size() * sizeof(float); });
        const std::size_t affordable = std::max<std::size_t>(2, (std::size_t{1} << 30) / std::max<std::size_t>(weight_bytes, 1));
        constexpr std::size_t lanes_per_group = 8;
        const std::size_t by_lanes = std::max<std::size_t>(2, (options_.batch_size + lanes_per_group - 1) / lanes_per_group);
        return std::min({std::size_t{8}, affordable, by_lanes, options_.batch_size});
    }
protected:
    void ensure_gradient_groups() {
        for_each_buffer(connections_, [&]<std::size_t C>(auto& b) {
            while (b.gradient.size() < gradient_groups()) b.gradient.emplace_back(b.storage.weights.size(), 0.0f);
        });
    }
    // Runs lane_gradient(lane, group) for every active lane, groups in
    // parallel. The groups are summed into group 0, in a fixed order, when
    // the gradient is first read (gradient(), for_each_gradient_block()).
    template <class LaneGradient>
    void accumulate_gradients(LaneGradient&& lane_gradient) {
        const std::size_t groups = gradient_groups();
        ensure_gradient_groups();
        unsummed_groups_.fill(groups > 1);
        pool_.parallel_for(groups, [&](std::size_t group) {
            for (std::size_t lane = group * active_lanes_ / groups; lane < (group + 1) * active_lanes_ / groups; ++lane)
                lane_gradient(lane, group);
        });
    }

    void prepare_recording() {
        for (std::size_t p = 0; p < num_populations; ++p) {
            if (!spike_recording_[p]) continue;
            recorded_spikes_[p].steps.assign(active_lanes_, {});
            recorded_spikes_[p].ids.assign(active_lanes_, {});
        }
    }
    void record_lane(std::size_t lane) {
        for_each_buffer(populations_, [&]<std::size_t P>(auto& b) {
            if (!spike_recording_[P]) return;
            auto& steps = recorded_spikes_[P].steps[lane];
            auto& ids = recorded_spikes_[P].ids[lane];
            const auto& start = b.step_start[lane];
            for (std::size_t step = 0; step + 1 < start.size(); ++step)
                for (std::uint32_t r = start[step]; r < start[step + 1]; ++r) {
                    steps.push_back(std::int32_t(step));
                    ids.push_back(b.spike_id(lane, r));
                }
        });
    }

    Net net_;
    SimulationOptions options_;
    ThreadPool pool_;
    std::size_t active_lanes_ = 0;
    bool ran_ = false;
    typename PopulationBuffersOf<Net, PopulationBuffers>::type populations_;
    typename ConnectionBuffersOf<Net, ConnectionBuffers>::type connections_;
    using TrainingRecordings<Net::num_populations>::spike_recording_, TrainingRecordings<Net::num_populations>::recorded_spikes_;
    mutable std::vector<std::uint64_t> totals_scratch_;

private:
    static constexpr std::size_t gradient_block = 4096;
    template <std::size_t C>
    std::size_t gradient_blocks() const {
        return (std::get<C>(connections_).storage.weights.size() + gradient_block - 1) / gradient_block;
    }
    // Block k of connection C: group 0 += groups 1, 2, ... in that order, which then hold zeros.
    template <std::size_t C>
    void sum_gradient_block(std::size_t k) const {
        auto& gradient = std::get<C>(connections_).gradient;
        const std::size_t first = k * gradient_block, end = std::min(gradient[0].size(), first + gradient_block);
        for (std::size_t g = 1; g < gradient.size(); ++g)
            for (std::size_t i = first; i < end; ++i) {
                gradient[0][i] += gradient[g][i];
                gradient[g][i] = 0.0f;
            }
    }
    // Per connection: whether gradient groups 1.. may hold values not yet summed into group 0.
    mutable std::array<bool, num_connections> unsummed_groups_{};
};

}  // namespace spikegraph::cpu_backend
