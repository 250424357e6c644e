#pragma once
#include <cstddef>
#include <cstdint>
#include <algorithm>
#include <span>
#include <string_view>

#include <spikegraph/connection_storage.hpp>
#include <spikegraph/error.hpp>
#include <spikegraph/model/connectivity.hpp>

namespace spikegraph::detail {

// Checks that `storage` is a valid layout (see ConnectionStorage) for a
// connection of `kind` from num_pre to num_post neurons: the sizes, and for
// sparse connectivity a CSR structure whose rows start at 0, never decrease,
// end at the synapse count, and hold strictly increasing columns < num_post.
// `where` prefixes messages (e.g. "connection 'input_hidden'").
inline void check_connection_storage(const ConnectionStorage& storage, ConnectivityKind kind, std::size_t num_pre,
                                     std::size_t num_post, std::string_view where) {
    if (kind == ConnectivityKind::dense || kind == ConnectivityKind::one_to_one) {
        const std::size_t expected = kind == ConnectivityKind::dense ? num_pre * num_post : num_pre;
        if (storage.weights.size() != expected)
            throw_invalid(where, ": expected ", expected, " weights (",
                          kind == ConnectivityKind::dense ? "dense " : "one-to-one ", num_pre,
                          kind == ConnectivityKind::dense ? " x " + std::to_string(num_post) : std::string(), "), got ",
                          storage.weights.size());
        if (!storage.row_start.empty() || !storage.columns.empty())
            throw_invalid(where, ": expected no sparse structure for ",
                          kind == ConnectivityKind::dense ? "dense" : "one-to-one", " connectivity, got ",
                          storage.row_start.size(), " row starts and ", storage.columns.size(), " columns");
        return;
    }
    if (storage.row_start.size() != num_pre + 1)
        throw_invalid(where, ": expected ", num_pre + 1, " CSR row starts, got ", storage.row_start.size());
    if (storage.columns.size() != storage.weights.size())
        throw_invalid(where, ": expected one weight per synapse (", storage.columns.size(), "), got ", storage.weights.size());
    if (storage.row_start[0] != 0) throw_invalid(where, ": CSR row 0 starts at ", storage.row_start[0], ", expected 0");
    if (storage.row_start[num_pre] != storage.columns.size())
        throw_invalid(where, ": CSR rows end at ", storage.row_start[num_pre], ", expected the synapse count ",
                      storage.columns.size());
    for (std::size_t i = 0; i < num_pre; ++i) {
        const std::uint32_t begin = storage.row_start[i], end = storage.row_start[i + 1];
        if (end < begin || end > storage.columns.size())
            throw_invalid(where, ": CSR row ", i, " spans synapses ", begin, "..", end, ", expected a non-decreasing range within ",
                          storage.columns.size());
        for (std::uint32_t k = begin; k < end; ++k) {
            if (storage.columns[k] >= num_post)
                throw_invalid(where, ": synapse ", k, " (pre ", i, ") targets post neuron ", storage.columns[k],
                              ", expected < ", num_post);
            if (k > begin && storage.columns[k] <= storage.columns[k - 1])
                throw_invalid(where, ": CSR row ", i, " has columns ", storage.columns[k - 1], " then ", storage.columns[k],
                              ", expected strictly increasing columns");
        }
    }
}

// Copies new weights into a connection's storage, same count and layout; `connection` names it in errors.
inline void replace_weights(ConnectionStorage& storage, std::span<const float> weights, std::string_view connection) {
    if (weights.size() != storage.weights.size())
        throw_invalid("connection '", connection, "': got ", weights.size(), " weights, expected ", storage.weights.size());
    std::copy(weights.begin(), weights.end(), storage.weights.begin());
}

}  // namespace spikegraph::detail
