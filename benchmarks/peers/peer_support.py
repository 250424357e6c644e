"""What the peer scripts share: options, the input files a spikegraph benchmark
wrote, the timing loop and the one-line JSON result.

A peer is run by a spikegraph benchmark program (``--peer NAME=CMD``), which
appends ``--benchmark B --inputs DIR --timesteps T --batch N --threads K`` to
CMD. DIR holds the very spike trains the spikegraph run used:

  meta.json    examples, num_inputs, num_classes, timesteps, dt_ms, batch,
               the network's parameters and initial weight distributions
  spikes.npy   int32 [events, 3]: (example, step, input neuron), sorted
  labels.npy   int32 [examples]

Protocol: everything human-readable goes to stderr; the LAST stdout line is a
flat JSON object: {"peer": ..., "status": "ok", "samples_per_s": ..., ...}, or
{"peer": ..., "status": "unavailable", "reason": ...} with exit status 3 when
the library cannot be imported. The spikegraph program copies the fields into
its own JSON line (prefixed "peer_") and computes the ratio only from a
status "ok" result.

Only the standard library and torch are needed (NumPy is not).
"""

import argparse
import json
import math
import os
import resource
import statistics
import struct
import sys
import time
import warnings

# torch warns on import when NumPy is absent; NumPy is not needed here.
warnings.filterwarnings("ignore", message="Failed to initialize NumPy")
# Norse 1.1 uses torch.jit.script, which torch 2.15 deprecates; the warning says nothing about the run.
warnings.filterwarnings("ignore", message=".*torch.jit.script.* is deprecated", category=FutureWarning)

BENCHMARKS = ("inference", "event_prop", "eprop", "open_neuromorphic")
EXIT_UNAVAILABLE = 3


def log(peer, *parts):
    print(f"{peer}:", *parts, file=sys.stderr, flush=True)


def parse_arguments(peer):
    parser = argparse.ArgumentParser(
        description=f"{peer} on the tasks of spikegraph's benchmarks (see benchmarks/peers/README.md)")
    parser.add_argument("--benchmark", required=True, choices=BENCHMARKS)
    parser.add_argument("--inputs", required=True, help="directory the spikegraph benchmark wrote its inputs to")
    parser.add_argument("--timesteps", type=int, help="checked against meta.json")
    parser.add_argument("--batch", type=int, help="checked against meta.json")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="torch.set_num_threads")
    parser.add_argument("--also-one-thread", action="store_true",
                        help="time with 1 thread as well and report the faster (PyTorch's threads can wait for "
                             "each other on a machine that is not idle)")
    parser.add_argument("--device", default="cpu", help="torch device: cpu (default) or cuda")
    parser.add_argument("--seconds", type=float, default=20.0,
                        help="time budget of the timed steps (default 20): as many steps as fit, "
                             "within --min-steps and --max-steps")
    parser.add_argument("--min-steps", type=int, default=3)
    parser.add_argument("--max-steps", type=int, default=20)
    parser.add_argument("--warm-up-steps", type=int, default=1,
                        help="untimed steps before timing (default 1; 0 times the first step, allocations included)")
    parser.add_argument("--warm-up-timesteps", type=int, default=0,
                        help="run the warm-up steps on the first K timesteps of a batch only (default 0: all); "
                             "enough to compile, allocate the parameters' state and fault in the memory, "
                             "for nets whose full step takes minutes")
    parser.add_argument("--no-hidden-rate", action="store_true",
                        help="skip the untimed forward pass that measures the hidden rate at the initial weights")
    parser.add_argument("--seed", type=int, default=1)
    arguments = parser.parse_args()
    if arguments.threads < 1 or arguments.min_steps < 1 or arguments.max_steps < arguments.min_steps \
            or arguments.warm_up_steps < 0 or arguments.warm_up_timesteps < 0 or arguments.seconds < 0:
        parser.error("need --threads >= 1, 1 <= --min-steps <= --max-steps, --warm-up-steps >= 0, "
                     "--warm-up-timesteps >= 0, --seconds >= 0")
    return arguments


def significant(value, digits=5):
    return float(f"{value:.{digits}g}")


def emit(result):
    """The last stdout line: what the spikegraph program reads (JSON has no NaN: a non-finite figure is null)."""
    clean = {key: (None if isinstance(value, float) and not math.isfinite(value) else value)
             for key, value in result.items()}
    print(json.dumps(clean, separators=(",", ":"), allow_nan=False), flush=True)


def unavailable(peer, reason):
    log(peer, f"UNAVAILABLE: {reason} (see benchmarks/peers/README.md)")
    emit({"peer": peer, "status": "unavailable", "reason": reason})
    return EXIT_UNAVAILABLE


def read_npy(path):
    """(dtype character, shape, raw little-endian bytes) of a C-order .npy file of int32."""
    with open(path, "rb") as file:
        data = file.read()
    if data[:6] != b"\x93NUMPY":
        raise ValueError(f"{path}: not an .npy file")
    major = data[6]
    if major == 1:
        header_length, offset = struct.unpack_from("<H", data, 8)[0], 10
    else:
        header_length, offset = struct.unpack_from("<I", data, 8)[0], 12
    header = data[offset:offset + header_length].decode("latin1")
    # The header is a Python dict literal of strings, a bool and a tuple of ints.
    descr = header.split("'descr':")[1].split("'")[1]
    if descr != "<i4" or "'fortran_order': False" not in header:
        raise ValueError(f"{path}: expected little-endian int32 in C order, got header {header.strip()}")
    shape_text = header.split("'shape':")[1].split("(")[1].split(")")[0]
    shape = tuple(int(part) for part in shape_text.split(",") if part.strip())
    return shape, data[offset + header_length:]


class Inputs:
    """The spike trains and labels of the spikegraph run, as dense batches."""

    def __init__(self, directory, torch, device):
        with open(os.path.join(directory, "meta.json")) as file:
            self.meta = json.load(file)
        self.torch = torch
        self.device = device
        self.timesteps = int(self.meta["timesteps"])
        self.batch = int(self.meta["batch"])
        self.examples = int(self.meta["examples"])
        self.num_inputs = int(self.meta["num_inputs"])
        shape, raw = read_npy(os.path.join(directory, "spikes.npy"))
        if len(shape) != 2 or shape[1] != 3:
            raise ValueError(f"{directory}/spikes.npy: expected shape (events, 3), got {shape}")
        events = torch.frombuffer(bytearray(raw), dtype=torch.int32).reshape(shape).long()
        self.example_of_event = events[:, 0]
        self.step_of_event = events[:, 1]
        self.neuron_of_event = events[:, 2]
        shape, raw = read_npy(os.path.join(directory, "labels.npy"))
        self.labels = torch.frombuffer(bytearray(raw), dtype=torch.int32).reshape(shape).long()
        if shape != (self.examples,):
            raise ValueError(f"{directory}/labels.npy: expected {self.examples} labels, got shape {shape}")
        # Events of example e are [starts[e], starts[e+1]) (they are sorted by example).
        counts = torch.bincount(self.example_of_event, minlength=self.examples)
        self.starts = [0] + torch.cumsum(counts, 0).tolist()
        self.num_batches = max(1, math.ceil(self.examples / self.batch))

    def spikes_per_example(self):
        return (self.starts[-1]) / max(1, self.examples)

    def batch_tensors(self, index):
        """Batch `index` (cycling over the examples as the spikegraph run does):
        float spikes [timesteps, lanes, inputs] and labels [lanes]."""
        torch = self.torch
        first = (index % self.num_batches) * self.batch
        lanes = min(self.batch, self.examples - first)
        spikes = torch.zeros(self.timesteps, lanes, self.num_inputs)
        begin, end = self.starts[first], self.starts[first + lanes]
        spikes[self.step_of_event[begin:end], self.example_of_event[begin:end] - first,
               self.neuron_of_event[begin:end]] = 1.0
        return spikes.to(self.device), self.labels[first:first + lanes].to(self.device)


def check_arguments_against_inputs(arguments, inputs):
    for name in ("timesteps", "batch"):
        given = getattr(arguments, name)
        if given is not None and given != getattr(inputs, name):
            raise ValueError(f"--{name} {given} does not match {arguments.inputs}/meta.json ({getattr(inputs, name)})")
    if inputs.meta.get("benchmark") not in (None, arguments.benchmark):
        raise ValueError(f"--benchmark {arguments.benchmark} but {arguments.inputs} holds inputs of "
                         f"{inputs.meta.get('benchmark')}")


def synchronise(torch, device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def peak_memory_mib(torch, device):
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def network(torch, meta, hidden_cell, output_cell, weight_scale=1.0):
    """The benchmark's network (meta["network"]) as a torch module, with the
    library's neuron code in hidden_cell / output_cell:
      cell.initial(lanes, size, reference tensor) -> state
      cell.step(current, state) -> (spikes or voltage, state)
      cell.module: the library's torch module (moved to the device with the net)
    Dense weights without bias, initialised as the spikegraph run's Normal
    distributions times weight_scale (a library whose membrane integrates
    dt/tau_mem of its current needs tau_mem/dt to be driven as spikegraph's)."""
    description = meta["network"]
    num_inputs = int(meta["num_inputs"])
    num_hidden = int(description["num_hidden"])
    num_outputs = int(description.get("num_outputs", 0))
    timesteps = int(meta["timesteps"])
    readout = description["readout"]

    def linear(name, inputs, outputs):
        layer = torch.nn.Linear(inputs, outputs, bias=False)
        weights = description["weights"][name]
        with torch.no_grad():
            layer.weight.normal_(weight_scale * float(weights["mean"]), weight_scale * float(weights["sd"]))
        return layer

    class Network(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.num_hidden = num_hidden
            self.input_hidden = linear("input_hidden", num_inputs, num_hidden)
            self.hidden_hidden = linear("hidden_hidden", num_hidden, num_hidden) if description["recurrent"] else None
            self.hidden_output = linear("hidden_output", num_hidden, num_outputs) if num_outputs else None
            # The cells' modules are registered so that .to(device) moves their buffers too.
            self.hidden_neurons = hidden_cell.module
            self.output_neurons = output_cell.module if output_cell is not None else None
            if readout == "avg_var_exp_weight":  # spikegraph's AvgVarExpWeight: sum_n exp(-n/T)/T V_n
                self.readout_weights = [math.exp(-n / timesteps) / timesteps for n in range(timesteps)]
            elif readout == "sum_var":
                self.readout_weights = [1.0] * timesteps

        def forward(self, spikes, count_hidden_spikes=False):
            """spikes [T, lanes, inputs] -> (readout [lanes, outputs] or output spikes [T, lanes, hidden],
            hidden spike count or None)."""
            timesteps_run, lanes = spikes.shape[0], spikes.shape[1]
            # The input projection of all steps is one matrix product (the
            # input does not depend on the network); unbind, not indexing,
            # because each indexing node would back-propagate a whole
            # [T, lanes, hidden] gradient (O(T^2)).
            input_current = self.input_hidden(spikes).unbind(0)
            no_current = spikes.new_zeros(lanes, num_hidden)
            hidden_state = hidden_cell.initial(lanes, num_hidden, spikes)
            output_state = output_cell.initial(lanes, num_outputs, spikes) if num_outputs else None
            previous_hidden_spikes = None
            readout_value = spikes.new_zeros(lanes, num_outputs) if num_outputs else None
            output_spikes = []
            hidden_spike_count = 0.0
            for n in range(timesteps_run):
                # One-step synaptic delay, as spikegraph: step n sees the spikes of step n - 1.
                current = input_current[n - 1] if n > 0 else no_current
                if self.hidden_hidden is not None and previous_hidden_spikes is not None:
                    current = current + self.hidden_hidden(previous_hidden_spikes)
                hidden_spikes, hidden_state = hidden_cell.step(current, hidden_state)
                if num_outputs:
                    output_current = (self.hidden_output(previous_hidden_spikes) if previous_hidden_spikes is not None
                                      else readout_value.new_zeros(lanes, num_outputs))
                    voltage, output_state = output_cell.step(output_current, output_state)
                    readout_value = readout_value + self.readout_weights[n] * voltage
                else:
                    output_spikes.append(hidden_spikes)
                previous_hidden_spikes = hidden_spikes
                if count_hidden_spikes:
                    hidden_spike_count += float(hidden_spikes.sum())
            outputs = readout_value if num_outputs else torch.stack(output_spikes)
            return outputs, (hidden_spike_count if count_hidden_spikes else None)

        def loss(self, outputs, labels):
            if description["peer_loss"] == "cross_entropy":
                return torch.nn.functional.cross_entropy(outputs, labels)
            if description["peer_loss"] == "sum_of_output_spikes":  # the Open Neuromorphic benchmark's loss
                return outputs.sum()
            raise ValueError(f"unknown peer_loss {description['peer_loss']!r} in meta.json")

    return Network()


def run(peer, version, build_model):
    """Parses the options, loads the inputs, builds the model with
    build_model(torch, benchmark, meta, device) and times it; returns the exit status.

    The model has forward(spikes) -> (outputs, hidden spike count or None),
    loss(outputs, labels) (training benchmarks) and parameters(); the neuron
    and synapse code is the library's."""
    arguments = parse_arguments(peer)
    try:
        import torch
    except ImportError as error:
        return unavailable(peer, f"cannot import torch ({error})")
    try:
        library_version = version()
    except ImportError as error:
        return unavailable(peer, f"cannot import {peer} ({error})")

    torch.set_num_threads(arguments.threads)
    torch.set_flush_denormal(True)  # spikegraph's CPU backend flushes denormals too
    torch.manual_seed(arguments.seed)
    device = torch.device(arguments.device)

    inputs = Inputs(arguments.inputs, torch, device)
    check_arguments_against_inputs(arguments, inputs)
    meta = inputs.meta
    model = build_model(torch, arguments.benchmark, meta, device)
    training = arguments.benchmark != "inference"
    optimiser = torch.optim.Adam(model.parameters(), lr=float(meta.get("learning_rate", 1e-3))) if training else None

    def step(index, timesteps=0):
        """One batch (its first `timesteps` steps when > 0); returns (forward, backward, update) seconds."""
        spikes, labels = inputs.batch_tensors(index)
        if timesteps:
            spikes = spikes[:timesteps]
        synchronise(torch, device)
        start = time.perf_counter()
        if not training:
            with torch.inference_mode():
                model.forward(spikes)
            synchronise(torch, device)
            return time.perf_counter() - start, 0.0, 0.0
        optimiser.zero_grad(set_to_none=True)
        outputs, _ = model.forward(spikes)
        synchronise(torch, device)
        forward_end = time.perf_counter()
        model.loss(outputs, labels).backward()
        synchronise(torch, device)
        backward_end = time.perf_counter()
        optimiser.step()
        synchronise(torch, device)
        return forward_end - start, backward_end - forward_end, time.perf_counter() - backward_end

    log(peer, f"{peer} {library_version}, torch {torch.__version__}, device {device}, threads {torch.get_num_threads()}, "
              f"benchmark {arguments.benchmark}, inputs {inputs.num_inputs}, T {inputs.timesteps}, "
              f"batch {inputs.batch}, {inputs.examples} examples, "
              f"{inputs.spikes_per_example():.0f} input spikes/example")

    def hidden_rate_hz():
        spikes, _ = inputs.batch_tensors(0)
        with torch.no_grad():
            _, count = model.forward(spikes, count_hidden_spikes=True)
        if count is None:
            return None
        return count / (spikes.shape[1] * model.num_hidden) / (inputs.timesteps * float(meta["dt_ms"]) * 1e-3)

    initial_rate = None if arguments.no_hidden_rate else hidden_rate_hz()
    for index in range(arguments.warm_up_steps):
        seconds = sum(step(index, arguments.warm_up_timesteps))
        log(peer, f"warm-up step {index + 1}" + (f" ({arguments.warm_up_timesteps} timesteps)" if arguments.warm_up_timesteps
                                                 else "") + f": {seconds:.3f} s")

    def timed_steps():
        # The budget is judged from the first timed step, so that a slow step
        # (minutes at n = 16384 on a CPU) is run only --min-steps times.
        timings = [step(arguments.warm_up_steps)]
        first = sum(timings[0])
        steps = max(arguments.min_steps, min(arguments.max_steps, int(arguments.seconds / max(first, 1e-9))))
        for index in range(1, steps):
            timings.append(step(arguments.warm_up_steps + index))
        return timings

    thread_counts = [arguments.threads] + ([1] if arguments.also_one_thread and arguments.threads > 1 else [])
    candidates = []  # (median step seconds, threads, timings)
    for threads in thread_counts:
        torch.set_num_threads(threads)
        timings = timed_steps()
        candidates.append((statistics.median(sum(t) for t in timings), threads, timings))
        if len(thread_counts) > 1:
            log(peer, f"{threads} thread(s): median step {candidates[-1][0]:.4f} s")
    median_seconds, threads, timings = min(candidates)
    totals = [sum(t) for t in timings]
    result = {
        "peer": peer,
        "status": "ok",
        "version": library_version,
        "torch_version": torch.__version__.split("+")[0],
        "device": str(device),
        "threads": threads,
        "threads_tried": ",".join(str(count) for count in thread_counts),
        "samples_per_s": significant(inputs.batch / median_seconds),
        "step_s": significant(median_seconds),
        "steps": len(timings),
        "warm_up_steps": arguments.warm_up_steps,
        "warm_up_timesteps": arguments.warm_up_timesteps or inputs.timesteps,
        "peak_memory_mib": round(peak_memory_mib(torch, device), 1),
    }
    if training:
        for phase, name in enumerate(("forward_s", "backward_s", "update_s")):
            result[name] = significant(statistics.median(t[phase] for t in timings), 4)
    if initial_rate is not None:
        result["hidden_rate_hz"] = round(initial_rate, 2)
    log(peer, f"{len(timings)} timed steps with {threads} thread(s): median {median_seconds:.4f} s (min {min(totals):.4f}, max {max(totals):.4f}), "
              f"{result['samples_per_s']:.2f} samples/s, peak memory {result['peak_memory_mib']:.0f} MiB"
              + (f", hidden rate {initial_rate:.1f} Hz at the initial weights" if initial_rate is not None else ""))
    emit(result)
    return 0
