#pragma once
#include <concepts>
#include <string_view>

#include <spikegraph/model/initialiser.hpp>

namespace spikegraph {

// How a connection's synapses are laid out; the weight initialiser rides along.
enum class ConnectivityKind { dense, sparse, one_to_one };

template <class C>
concept Connectivity = requires { requires C::is_connectivity; { C::kind } -> std::convertible_to<ConnectivityKind>; };

// All-to-all: weights [pre][post], row-major (mlGeNN's Dense).
template <Initialiser Init = Normal>
struct Dense {
    static constexpr std::string_view type_name = "Dense";  // stable, for manifests and messages
    Init weight{};
    static constexpr bool is_connectivity = true;
    static constexpr ConnectivityKind kind = ConnectivityKind::dense;
    void validate(std::string_view) const {}
};
template <class Init>
Dense(Init) -> Dense<Init>;
Dense() -> Dense<Normal>;

// Each pre/post pair is connected independently with probability p (mlGeNN's
// FixedProbability), stored as CSR rows per presynaptic neuron, columns sorted.
template <Initialiser Init = Normal>
struct FixedProbability {
    static constexpr std::string_view type_name = "FixedProbability";  // stable, for manifests and messages
    float p = 0.1f;
    Init weight{};
    static constexpr bool is_connectivity = true;
    static constexpr ConnectivityKind kind = ConnectivityKind::sparse;
    void validate(std::string_view connection) const {
        if (!(p >= 0.0f && p <= 1.0f))
            detail::throw_invalid("connection '", connection, "': FixedProbability p must be in [0, 1], got ", p);
    }
};
template <class Init>
FixedProbability(float, Init) -> FixedProbability<Init>;
FixedProbability(float) -> FixedProbability<Normal>;
FixedProbability() -> FixedProbability<Normal>;

namespace detail {
// OneToOne{} means weight 1 (an identity mapping); other initialisers keep their own defaults.
template <class Init>
inline const Init one_to_one_default_weight{};
template <>
inline constexpr Constant one_to_one_default_weight<Constant>{1.0f};
}  // namespace detail

// Neuron i to neuron i; needs equal population sizes (checked at compile time).
template <Initialiser Init = Constant>
struct OneToOne {
    static constexpr std::string_view type_name = "OneToOne";  // stable, for manifests and messages
    Init weight = detail::one_to_one_default_weight<Init>;
    static constexpr bool is_connectivity = true;
    static constexpr ConnectivityKind kind = ConnectivityKind::one_to_one;
    void validate(std::string_view) const {}
};
template <class Init>
OneToOne(Init) -> OneToOne<Init>;
OneToOne() -> OneToOne<Constant>;

}  // namespace spikegraph
