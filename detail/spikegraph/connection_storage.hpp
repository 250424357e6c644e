#pragma once
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <spikegraph/model/connectivity.hpp>
#include <spikegraph/philox.hpp>

namespace spikegraph::detail {

// A connection's synapses on the host, in the layout every backend uses:
//   dense       weights[pre * num_post + post]
//   sparse      CSR: row_start[pre]..row_start[pre + 1] index columns/weights, columns sorted
//   one_to_one  weights[i]
struct ConnectionStorage {
    std::vector<float> weights;
    std::vector<std::uint32_t> row_start;
    std::vector<std::uint32_t> columns;
};

// Random stream ids: one per connection, apart from other uses of the seed.
inline constexpr std::uint32_t connectivity_stream(std::size_t connection) { return 0x10000u + 2 * std::uint32_t(connection); }
inline constexpr std::uint32_t weight_stream(std::size_t connection) { return 0x10001u + 2 * std::uint32_t(connection); }

// Builds a connection's synapses from its connectivity and initialiser,
// deterministically from (seed, connection index).
template <class Conn>
ConnectionStorage build_connection(const Conn& c, std::size_t num_pre, std::size_t num_post, std::uint64_t seed,
                                   std::size_t connection_index, const std::string& name) {
    ConnectionStorage storage;
    using ConnType = std::remove_cvref_t<Conn>;
    c.validate(name);
    if constexpr (ConnType::kind == ConnectivityKind::dense) {
        storage.weights.resize(num_pre * num_post);
    } else if constexpr (ConnType::kind == ConnectivityKind::one_to_one) {
        storage.weights.resize(num_pre);
    } else {
        // Bernoulli(p) per pair, drawn as geometric gaps between successive
        // synapses in row-major order: cost grows with synapses, not pairs.
        PhiloxStream rng(seed, connectivity_stream(connection_index));
        storage.row_start.assign(num_pre + 1, 0);
        const double p = c.p;
        const std::uint64_t pairs = std::uint64_t(num_pre) * num_post;
        if (p > 0.0) {
            const double log_q = std::log1p(-p);
            std::uint64_t position = 0;
            bool first = true;
            for (;;) {
                std::uint64_t gap = 0;
                if (p < 1.0) {
                    // In double first: for tiny p the gap exceeds any integer (or is NaN
                    // when log1p(-p) rounds to 0), which means no further synapse.
                    const double real_gap = std::floor(std::log(double(rng.next_uniform())) / log_q);
                    const double next = first ? real_gap : double(position) + 1.0 + real_gap;
                    if (!(next < double(pairs))) break;
                    gap = static_cast<std::uint64_t>(real_gap);
                }
                position = first ? gap : position + 1 + gap;
                first = false;
                if (position >= pairs) break;
                const auto pre = static_cast<std::uint32_t>(position / num_post);
                storage.columns.push_back(static_cast<std::uint32_t>(position % num_post));
                ++storage.row_start[pre + 1];
            }
        }
        for (std::size_t i = 0; i < num_pre; ++i) storage.row_start[i + 1] += storage.row_start[i];
        storage.weights.resize(storage.columns.size());
    }
    PhiloxStream rng(seed, weight_stream(connection_index));
    c.weight.fill(std::span<float>(storage.weights), rng, name);
    return storage;
}

}  // namespace spikegraph::detail
