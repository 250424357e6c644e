#pragma once
#include <spikegraph/cpu/simulator.hpp>

namespace spikegraph {

// Backend tags for Compiler::compile<Backend>(network). A backend supplies a
// Simulator<Net> with the interface of cpu_backend::Simulator (see
// docs/architecture.md); everything above it (loops, metrics, callbacks) is shared.
struct cpu {
    static constexpr const char* name = "cpu";
    template <class Net>
    using Simulator = cpu_backend::Simulator<Net>;
};

}  // namespace spikegraph
