#!/usr/bin/env python3
"""snnTorch BPTT training throughput on event_prop_benchmark's reference net.

The peer that benchmarks/event_prop_benchmark.cpp runs with --peer:

    700 Poisson inputs (10 Hz) -> 256 LIF -> 20 leaky integrators,
    exponential synapses (tau_syn 5 ms), tau_mem 20 ms, dt 1 ms, threshold 1,
    subtractive reset, output = sum_n exp(-n/T)/T * V_n (spikegraph's
    AvgVarExpWeight), softmax cross-entropy, Adam lr 1e-3,
    BPTT through all T steps with snnTorch's default surrogate (arctan).

One training step = forward over T steps + backward + Adam update on one batch.
The script runs one warm-up step, then times a few steps and reports
batch / median(step seconds). Details go to stderr; the LAST stdout line is
only the samples/s number, which event_prop_benchmark's run_peer reads.

Differences from spikegraph's model, none of which changes the amount of work:
  * snnTorch's Synaptic subtracts the threshold after the leak
    (V_n = beta V_{n-1} + I_n - theta S_{n-1}); spikegraph's LIF subtracts it
    before (V_n = alpha (V_{n-1} - theta S_{n-1}) + I_n).
  * snnTorch's Heaviside fires on V > theta, spikegraph's on V >= theta.
  * The one-step synaptic delay of spikegraph (a spike in step n reaches its
    targets' V in step n + 1) is reproduced by feeding each layer the previous
    step's presynaptic spikes.

Choices that favour the peer: the input projection for all T steps is one
matrix product before the time loop (the input does not depend on the
network), the Poisson spikes are drawn before timing, and denormals are
flushed to zero (as spikegraph's CPU backend does).

    python3 benchmarks/peers/snntorch_bptt.py [--timesteps 100] [--batch 32]
        [--threads 2] [--steps N] [--seconds 20] [--seed 1]
"""

import argparse
import math
import statistics
import sys
import time
import warnings

# torch warns on import when NumPy is absent; NumPy is not needed here.
warnings.filterwarnings("ignore", message="Failed to initialize NumPy")

NUM_INPUTS = 700
NUM_HIDDEN = 256
NUM_OUTPUTS = 20
DT_MS = 1.0
TAU_MEM_MS = 20.0
TAU_SYN_MS = 5.0
INPUT_RATE_PER_MS = 0.01  # 10 Hz
# Initial weights, Normal(mean, sd): keep in step with the Dense initialisers of
# event_prop_benchmark.cpp. They set the hidden rate, which the dense BPTT's cost
# does not depend on but spikegraph's event-driven cost does.
INPUT_WEIGHT_MEAN, INPUT_WEIGHT_SD = 0.001, 0.006
OUTPUT_WEIGHT_MEAN, OUTPUT_WEIGHT_SD = 0.0, 0.03


def log(*parts):
    print("snntorch_bptt:", *parts, file=sys.stderr, flush=True)


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--timesteps", type=int, default=100, help="steps of 1 ms per example (default 100)")
    parser.add_argument("--batch", type=int, default=32, help="examples per training step (default 32)")
    parser.add_argument("--threads", type=int, default=2,
                        help="torch.set_num_threads (default 2: the cores of the CI machine)")
    parser.add_argument("--steps", type=int, default=0,
                        help="timed training steps; 0 (default): as many as fit in --seconds, 3 to 20")
    parser.add_argument("--seconds", type=float, default=20.0,
                        help="time budget for the timed steps when --steps is 0 (default 20)")
    parser.add_argument("--seed", type=int, default=1)
    arguments = parser.parse_args()
    if arguments.timesteps < 1 or arguments.batch < 1 or arguments.threads < 1 or arguments.steps < 0:
        parser.error("--timesteps, --batch and --threads must be >= 1, --steps >= 0")
    return arguments


def main():
    arguments = parse_arguments()
    try:
        import torch
        import snntorch
    except ImportError as error:
        log(f"cannot import torch/snntorch ({error}); see benchmarks/peers/README.md")
        return 1

    torch.set_num_threads(arguments.threads)
    torch.set_flush_denormal(True)
    torch.manual_seed(arguments.seed)

    timesteps, batch = arguments.timesteps, arguments.batch
    alpha_syn = math.exp(-DT_MS / TAU_SYN_MS)
    beta_mem = math.exp(-DT_MS / TAU_MEM_MS)

    # spikegraph's Dense has no bias.
    input_to_hidden = torch.nn.Linear(NUM_INPUTS, NUM_HIDDEN, bias=False)
    hidden_to_output = torch.nn.Linear(NUM_HIDDEN, NUM_OUTPUTS, bias=False)
    with torch.no_grad():
        input_to_hidden.weight.normal_(INPUT_WEIGHT_MEAN, INPUT_WEIGHT_SD)
        hidden_to_output.weight.normal_(OUTPUT_WEIGHT_MEAN, OUTPUT_WEIGHT_SD)
    # spike_grad left at its default: snnTorch's arctan surrogate.
    hidden = snntorch.Synaptic(alpha=alpha_syn, beta=beta_mem, threshold=1.0, reset_mechanism="subtract")
    output = snntorch.Synaptic(alpha=alpha_syn, beta=beta_mem, threshold=1.0, reset_mechanism="none")
    parameters = list(input_to_hidden.parameters()) + list(hidden_to_output.parameters())
    optimiser = torch.optim.Adam(parameters, lr=1e-3)

    # AvgVarExpWeight: acc += exp(-n/T)/T * V_n.
    readout_weights = [math.exp(-n / timesteps) / timesteps for n in range(timesteps)]

    def forward(spikes, count_hidden_spikes=False):
        """spikes: [T, batch, inputs] -> (readout [batch, outputs], hidden spike count)."""
        # All steps in one product; unbind, not input_current[n], because every
        # indexing node would back-propagate a full [T, batch, hidden] gradient (O(T^2)).
        input_current = input_to_hidden(spikes).unbind(0)
        hidden_syn, hidden_mem = hidden.reset_mem()
        output_syn, output_mem = output.reset_mem()
        previous_hidden_spikes = torch.zeros(spikes.shape[1], NUM_HIDDEN)
        no_input = torch.zeros(spikes.shape[1], NUM_HIDDEN)  # step 0: no input spike has arrived yet
        readout = torch.zeros(spikes.shape[1], NUM_OUTPUTS)
        hidden_spike_count = 0.0
        for n in range(timesteps):
            # One-step synaptic delay: step n sees the spikes of step n - 1.
            hidden_spikes, hidden_syn, hidden_mem = hidden(input_current[n - 1] if n > 0 else no_input,
                                                           hidden_syn, hidden_mem)
            _, output_syn, output_mem = output(hidden_to_output(previous_hidden_spikes), output_syn, output_mem)
            readout = readout + readout_weights[n] * output_mem
            previous_hidden_spikes = hidden_spikes
            if count_hidden_spikes:
                hidden_spike_count += float(hidden_spikes.sum())
        return readout, hidden_spike_count

    def train_step(spikes, labels):
        optimiser.zero_grad(set_to_none=True)
        readout, _ = forward(spikes)
        loss = torch.nn.functional.cross_entropy(readout, labels)
        loss.backward()
        optimiser.step()
        return loss.item()

    # 10 Hz Poisson input, drawn before timing; labels cycle over the classes as in the C++ benchmark.
    fire_probability = 1.0 - math.exp(-INPUT_RATE_PER_MS * DT_MS)
    generator = torch.Generator().manual_seed(arguments.seed + 1)
    pool_size = 2 if timesteps > 300 else 4
    pool = [(torch.rand(timesteps, batch, NUM_INPUTS, generator=generator) < fire_probability).float()
            for _ in range(pool_size)]
    labels = [torch.arange(i * batch, (i + 1) * batch) % NUM_OUTPUTS for i in range(pool_size)]

    log(f"torch {torch.__version__}, snntorch {snntorch.__version__}, threads {torch.get_num_threads()}, "
        f"net {NUM_INPUTS}-{NUM_HIDDEN}-{NUM_OUTPUTS}, T {timesteps}, batch {batch}, "
        f"input spikes/example {float(pool[0].sum()) / batch:.0f}")

    with torch.no_grad():
        _, initial_hidden_spike_count = forward(pool[0], count_hidden_spikes=True)

    start = time.perf_counter()
    loss = train_step(pool[0], labels[0])
    warm_up_seconds = time.perf_counter() - start
    log(f"warm-up step {warm_up_seconds:.3f} s, loss {loss:.4f}")

    steps = arguments.steps or max(3, min(20, int(arguments.seconds / warm_up_seconds)))
    step_seconds = []
    for step in range(steps):
        spikes, step_labels = pool[(step + 1) % pool_size], labels[(step + 1) % pool_size]
        start = time.perf_counter()
        loss = train_step(spikes, step_labels)
        step_seconds.append(time.perf_counter() - start)
    median_seconds = statistics.median(step_seconds)
    samples_per_second = batch / median_seconds

    with torch.no_grad():
        _, hidden_spike_count = forward(pool[0], count_hidden_spikes=True)
    def rate_hz(count):
        return count / (batch * NUM_HIDDEN) / (timesteps * DT_MS * 1e-3)

    log(f"{steps} timed steps: median {median_seconds:.4f} s/step "
        f"(min {min(step_seconds):.4f}, max {max(step_seconds):.4f}), last loss {loss:.4f}, "
        f"hidden rate {rate_hz(initial_hidden_spike_count):.1f} Hz before training, "
        f"{rate_hz(hidden_spike_count):.1f} Hz after")
    log(f"samples/s {samples_per_second:.2f}")
    print(f"{samples_per_second:.4f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
