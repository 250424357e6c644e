#pragma once
#include <cmath>
#include <string_view>

#include <spikegraph/error.hpp>

namespace spikegraph::detail {

// Parameter checks that throw naming the owner ("population 'hidden'",
// "connection 'input_hidden'"), the parameter and the value.
inline void require_finite(std::string_view owner, std::string_view parameter, float value,
                           std::string_view kind = "population") {
    if (!std::isfinite(value))
        throw_invalid(kind, " '", owner, "': parameter ", parameter, " must be finite, got ", value);
}
inline void require_positive(std::string_view owner, std::string_view parameter, float value,
                             std::string_view kind = "population") {
    require_finite(owner, parameter, value, kind);
    if (!(value > 0.0f)) throw_invalid(kind, " '", owner, "': parameter ", parameter, " must be > 0, got ", value);
}
inline void require_non_negative(std::string_view owner, std::string_view parameter, float value,
                                 std::string_view kind = "population") {
    require_finite(owner, parameter, value, kind);
    if (value < 0.0f) throw_invalid(kind, " '", owner, "': parameter ", parameter, " must be >= 0, got ", value);
}

}  // namespace spikegraph::detail
