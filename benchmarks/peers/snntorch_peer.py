#!/usr/bin/env python3
"""snnTorch (PyPI `snntorch`) on the tasks of spikegraph's benchmarks.

Run by a spikegraph benchmark program with --peer "snntorch=python3 benchmarks/peers/snntorch_peer.py";
see peer_support.py for the protocol and benchmarks/peers/README.md for the models.

Neurons (dt = 1 ms, decay factors exp(-dt/tau) as spikegraph's):
  Exponential synapses: snntorch.Synaptic (syn = alpha syn + I, mem = beta mem + syn),
  threshold 1, subtractive reset; outputs: Synaptic without reset.
  Delta synapses (e-prop): snntorch.Leaky (mem = beta mem + I), threshold and
  reset of the hidden model; outputs: Leaky without reset. snnTorch has no
  adaptive-threshold neuron, so the e-prop net's ALIF hidden layer is run as
  LIF (one state variable fewer: slightly less work for the peer).
Surrogate gradient: snnTorch's default (arctan).
"""

import math
import sys

import peer_support


def version():
    import snntorch
    return snntorch.__version__


class SynapticCell:
    """snntorch.Synaptic: exponential synaptic current and LIF (or LI without reset)."""

    def __init__(self, snntorch, tau_syn_ms, tau_mem_ms, v_thresh, spiking):
        self.module = snntorch.Synaptic(alpha=math.exp(-1.0 / tau_syn_ms), beta=math.exp(-1.0 / tau_mem_ms),
                                        threshold=v_thresh, reset_mechanism="subtract" if spiking else "none")
        self.spiking = spiking

    def initial(self, lanes, size, like):
        return like.new_zeros(lanes, size), like.new_zeros(lanes, size)

    def step(self, current, state):
        spikes, syn, mem = self.module(current, *state)
        return (spikes if self.spiking else mem), (syn, mem)


class LeakyCell:
    """snntorch.Leaky: current-based (Delta) LIF, or LI without reset."""

    def __init__(self, snntorch, tau_mem_ms, v_thresh, spiking):
        self.module = snntorch.Leaky(beta=math.exp(-1.0 / tau_mem_ms), threshold=v_thresh,
                                     reset_mechanism="subtract" if spiking else "none")
        self.spiking = spiking

    def initial(self, lanes, size, like):
        return like.new_zeros(lanes, size)

    def step(self, current, mem):
        spikes, mem = self.module(current, mem)
        return (spikes if self.spiking else mem), mem


def build_model(torch, benchmark, meta, device):
    import snntorch

    description = meta["network"]
    hidden, output, synapse = description["hidden"], description.get("output"), description["synapse"]
    dt = float(meta["dt_ms"])
    if dt != 1.0:
        raise ValueError("the snnTorch peer assumes dt = 1 ms")
    if synapse["model"] == "exponential":
        hidden_cell = SynapticCell(snntorch, synapse["tau_ms"], hidden["tau_mem_ms"], hidden["v_thresh"], True)
        output_cell = SynapticCell(snntorch, synapse["tau_ms"], output["tau_mem_ms"], 1.0, False) if output else None
    else:  # delta; an ALIF hidden layer runs as LIF (see the docstring)
        hidden_cell = LeakyCell(snntorch, hidden["tau_mem_ms"], hidden["v_thresh"], True)
        output_cell = LeakyCell(snntorch, output["tau_mem_ms"], 1.0, False) if output else None
    return peer_support.network(torch, meta, hidden_cell, output_cell).to(device)


if __name__ == "__main__":
    sys.exit(peer_support.run("snntorch", version, build_model))
