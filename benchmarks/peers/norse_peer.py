#!/usr/bin/env python3
"""Norse (PyPI `norse`) on the tasks of spikegraph's benchmarks.

Run by a spikegraph benchmark program with --peer "norse=python3 benchmarks/peers/norse_peer.py";
see peer_support.py for the protocol and benchmarks/peers/README.md for the models.

Neurons (Norse's forward-Euler cells, dt = 1 ms):
  Exponential synapses: norse LIFCell (current i decays by dt/tau_syn per
  step, v moves dt/tau_mem of the way to i), threshold 1, reset to 0;
  outputs: LICell.
  Delta synapses (e-prop): LSNNCell (LIF with adaptive threshold, Bellec et
  al.'s LSNN: spikegraph's ALIF) and LICell, with dt/tau_syn = 1 so that the
  current lasts one step. Adaptation: threshold jump beta per spike, decaying
  with tau_adapt, as spikegraph's ALIF.
Each Euler rate 1/tau is given as (1 - exp(-dt/tau))/dt, so that the decay
per step equals spikegraph's exact exp(-dt/tau). Norse's membrane then takes
(1 - exp(-dt/tau_mem)) of its current per step, spikegraph's all of it, so
the initial weights are scaled by 1/(1 - exp(-dt/tau_mem)) for the same drive.
Surrogate gradient: Norse's default (SuperSpike).
"""

import math
import sys

import peer_support


def version():
    import norse
    return norse.__version__


class NorseCell:
    """A Norse cell (LIFCell, LICell, LSNNCell) stepped with its own state."""

    def __init__(self, cell):
        self.module = cell

    def initial(self, lanes, size, like):
        return None  # the cell creates its initial state from the first input

    def step(self, current, state):
        return self.module(current, state)


def build_model(torch, benchmark, meta, device):
    import norse.torch as norse

    description = meta["network"]
    hidden, output, synapse = description["hidden"], description.get("output"), description["synapse"]
    dt_ms = float(meta["dt_ms"])
    dt_s = dt_ms * 1e-3

    def rate(tau_ms):
        """Euler rate (1/s) whose step decay 1 - dt * rate is exp(-dt/tau)."""
        return tensor(-math.expm1(-dt_ms / float(tau_ms)) / dt_s)

    tensor = torch.as_tensor
    tau_syn_inv = rate(synapse["tau_ms"]) if synapse["model"] == "exponential" else tensor(1.0 / dt_s)
    if hidden["model"] == "alif":
        hidden_cell = norse.LSNNCell(norse.LSNNParameters(
            tau_syn_inv=tau_syn_inv, tau_mem_inv=rate(hidden["tau_mem_ms"]), tau_adapt_inv=rate(hidden["tau_adapt_ms"]),
            v_th=tensor(hidden["v_thresh"]), v_reset=tensor(0.0), beta=tensor(hidden["beta"])), dt=dt_s)
    else:
        hidden_cell = norse.LIFCell(norse.LIFParameters(
            tau_syn_inv=tau_syn_inv, tau_mem_inv=rate(hidden["tau_mem_ms"]), v_th=tensor(hidden["v_thresh"]),
            v_reset=tensor(0.0)), dt=dt_s)
    output_cell = None
    if output:
        if output["tau_mem_ms"] != hidden["tau_mem_ms"]:
            raise ValueError("the Norse peer scales all weights alike: it needs one tau_mem for every layer")
        output_cell = NorseCell(norse.LICell(norse.LIParameters(
            tau_syn_inv=tau_syn_inv, tau_mem_inv=rate(output["tau_mem_ms"])), dt=dt_s))
    weight_scale = 1.0 / (dt_s * float(rate(hidden["tau_mem_ms"])))
    return peer_support.network(torch, meta, NorseCell(hidden_cell), output_cell, weight_scale).to(device)


if __name__ == "__main__":
    sys.exit(peer_support.run("norse", version, build_model))
