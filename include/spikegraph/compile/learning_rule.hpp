#pragma once
#include <type_traits>
#include <utility>

#include <spikegraph/graph/network.hpp>
#include <spikegraph/model/adaptive_leaky_integrate_fire.hpp>
#include <spikegraph/model/binary_spike_input.hpp>
#include <spikegraph/model/integrate_fire.hpp>
#include <spikegraph/model/leaky_integrate.hpp>
#include <spikegraph/model/leaky_integrate_fire.hpp>
#include <spikegraph/model/poisson_input.hpp>
#include <spikegraph/model/spike_input.hpp>

namespace spikegraph {

// Which neuron models each learning rule can train, from the rules' papers
// and mlGeNN's compilers. The training compilers call check_learning_rule on
// their network, so an unsupported model is a compile error, not a wrong gradient.
namespace rules {

// EventProp (Wunderlich & Pehle 2021): exact gradients need the model's
// adjoint dynamics; mlGeNN derives them for LIF hidden and LI output neurons.
struct EventProp {
    template <class Model>
    static constexpr bool supports = std::is_same_v<Model, LeakyIntegrateFire> || std::is_same_v<Model, LeakyIntegrate> ||
                                     is_input_model<Model>;
};

// e-prop (Bellec et al. 2020): eligibility traces exist for LIF and ALIF
// hidden neurons with LI readouts.
struct EProp {
    template <class Model>
    static constexpr bool supports = std::is_same_v<Model, LeakyIntegrateFire> ||
                                     std::is_same_v<Model, AdaptiveLeakyIntegrateFire> ||
                                     std::is_same_v<Model, LeakyIntegrate> || is_input_model<Model>;
};

}  // namespace rules

namespace detail {
template <class Rule, class Model>
constexpr void check_model_trainable() {
    static_assert(Rule::template supports<Model>,
                  "spikegraph: this learning rule cannot train one of the network's neuron models "
                  "(see compile/learning_rule.hpp for what each rule supports)");
}
}  // namespace detail

template <class Rule, NetworkType Net>
constexpr void check_learning_rule(const Net&) {
    [&]<std::size_t... P>(std::index_sequence<P...>) {
        (detail::check_model_trainable<Rule, typename Net::template population_type<P>::neuron_type>(), ...);
    }(std::make_index_sequence<Net::num_populations>{});
}

}  // namespace spikegraph
