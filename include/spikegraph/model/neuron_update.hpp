#pragma once
#include <spikegraph/model/neuron.hpp>
#include <spikegraph/model/readout.hpp>

namespace spikegraph {

// One neuron, one timestep, in GeNN's order: integrate (sim_code), readout
// accumulation (appended to sim_code), threshold test, reset and readout spike
// hook (appended to reset_code). Every backend calls exactly this function.
template <int ReadoutVariable, class ModelDynamics, class State, class ReadoutDynamics>
SPIKEGRAPH_HOST_DEVICE SPIKEGRAPH_INLINE bool update_neuron(const ModelDynamics& model, State& state, float isyn,
                                                            const ReadoutDynamics& readout, float& accumulator,
                                                            int step) {
    model.integrate(state, isyn);
    if constexpr (ReadoutVariable >= 0) readout.accumulate(accumulator, state[ReadoutVariable], step);
    if (model.threshold(state)) {
        model.reset(state);
        readout.spike(accumulator, step);
        return true;
    }
    return false;
}

}  // namespace spikegraph
