#pragma once
#include <spikegraph/cpu/eprop_simulator.hpp>
#include <spikegraph/cpu/event_prop_simulator.hpp>
#include <spikegraph/cpu/simulator.hpp>

namespace spikegraph {

// Backend tags for Compiler::compile<Backend>(network). A backend supplies a
// Simulator<Net> with the interface of cpu_backend::Simulator (see
// docs/architecture.md); everything above it (loops, metrics, callbacks) is shared.
struct cpu {
    static constexpr const char* name = "cpu";
    static constexpr bool has_event_prop = true;
    static constexpr bool has_eprop = true;
    template <class Net>
    using Simulator = cpu_backend::Simulator<Net>;
    template <class Net>
    using EventPropSimulator = cpu_backend::EventPropSimulator<Net>;
    template <class Net>
    using EPropSimulator = cpu_backend::EPropSimulator<Net>;
};

// The backend as the EventProp compiler sees it: its EventProp simulator.
template <class Backend>
struct EventPropBackend {
    static_assert(Backend::has_event_prop,
                  "spikegraph: this backend has no EventProp simulator yet; compile EventProp networks with spikegraph::cpu");
    static constexpr const char* name = Backend::name;
    template <class Net>
    using Simulator = typename Backend::template EventPropSimulator<Net>;
};

// The backend as the e-prop compiler sees it: its e-prop simulator.
template <class Backend>
struct EPropBackend {
    static_assert(Backend::has_eprop,
                  "spikegraph: this backend has no e-prop simulator yet; compile e-prop networks with spikegraph::cpu");
    static constexpr const char* name = Backend::name;
    template <class Net>
    using Simulator = typename Backend::template EPropSimulator<Net>;
};

}  // namespace spikegraph
