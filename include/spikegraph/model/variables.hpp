#pragma once
#include <array>
#include <cstddef>
#include <string_view>

#include <spikegraph/host_device.hpp>
#include <spikegraph/fixed_string.hpp>

namespace spikegraph {

// The names of a neuron model's state variables, as a type. Backends keep one
// contiguous [batch][neuron] array per variable, in this order.
template <FixedString... Names>
struct VariableList {
    static constexpr std::size_t size = sizeof...(Names);
    static constexpr std::array<std::string_view, sizeof...(Names)> names{name_view<Names>...};

    // Index of a variable, or -1 when absent: usable in static_assert.
    static constexpr int index_of(std::string_view name) {
        if constexpr (sizeof...(Names) == 0) {
            return -1;
        } else {
            for (std::size_t i = 0; i < sizeof...(Names); ++i)
                if (names[i] == name) return static_cast<int>(i);
            return -1;
        }
    }
    static constexpr bool contains(std::string_view name) { return index_of(name) >= 0; }
};

// Per-neuron state as the dynamics see it: loaded from the SoA arrays,
// updated in registers, stored back.
template <std::size_t K>
struct StateVector {
    float value[K > 0 ? K : 1];
    SPIKEGRAPH_HOST_DEVICE constexpr float& operator[](int i) { return value[i]; }
    SPIKEGRAPH_HOST_DEVICE constexpr const float& operator[](int i) const { return value[i]; }
};

}  // namespace spikegraph
