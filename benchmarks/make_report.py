#!/usr/bin/env python3
"""Markdown table and SVG bar chart from the JSON lines of one run_suite.sh run.

    python3 benchmarks/make_report.py RESULTS.jsonl --markdown OUT.md --svg OUT.svg
        [--update-docs docs/benchmarks.md --docs-svg docs/benchmarks.svg]

RESULTS.jsonl holds the suite's "machine" and "memory_bandwidth" lines and
every benchmark program's lines (one per configuration and peer). Only the
standard library is used. --update-docs replaces what lies between the
<!-- run_suite:begin --> and <!-- run_suite:end --> markers of that file.
A ratio appears only where the benchmark program computed one from a peer
that reported a figure in the same run; anything else is shown as missing.
"""

import argparse
import html
import json
import math
import os
import sys

BEGIN_MARKER = "<!-- run_suite:begin -->"
END_MARKER = "<!-- run_suite:end -->"

BENCHMARK_TITLES = {
    "inference": "Inference, 700-256r-20 LIF",
    "event_prop_train": "EventProp training, 700-256-20",
    "eprop_train": "e-prop training, 700-256r-20 ALIF",
    "open_neuromorphic_train": "Open Neuromorphic: Linear(n, n) + LIF, training",
}
SHORT_TITLES = {"inference": "Inference", "event_prop_train": "EventProp", "eprop_train": "e-prop",
                "open_neuromorphic_train": "Open Neuromorphic"}
BENCHMARK_ORDER = list(BENCHMARK_TITLES)
PEER_TITLES = {"snntorch": "snnTorch", "norse": "Norse"}
PEER_COLOURS = {"snntorch": "#4c72b0", "norse": "#dd8452"}


def read_lines(path):
    machine, bandwidth, results = None, None, []
    with open(path) as file:
        for number, text in enumerate(file, 1):
            text = text.strip()
            if not text:
                continue
            try:
                line = json.loads(text)
            except json.JSONDecodeError as error:
                raise SystemExit(f"{path}:{number}: not JSON ({error}): {text[:120]}")
            kind = line.get("benchmark")
            if kind == "machine":
                machine = line
            elif kind == "memory_bandwidth":
                bandwidth = line
            elif line.get("backend") in ("cpu", "cuda"):  # spikegraph's lines (the dense reference is a side figure)
                results.append(line)
    return machine, bandwidth, results


def cuda_section(lines):
    """The CUDA backend's tables (cuda_inference_benchmark, cuda_event_prop_benchmark), or a line saying it did not run."""
    if not lines:
        return ["CUDA backend: not measured in this run (no GPU, or no nvcc to build it). Absolute GPU figures "
                "come only from a run on a GPU.", ""]
    training = [line for line in lines if line["benchmark"] == "cuda_event_prop_train"]
    lines = [line for line in lines if line["benchmark"] != "cuda_event_prop_train"]
    return (cuda_inference_section(lines) if lines else []) + cuda_training_section(training)


def cuda_training_section(lines):
    """The table of cuda_event_prop_benchmark's lines (none: no table)."""
    if not lines:
        return []
    out = [f"CUDA backend, EventProp training (700-256-20), on {lines[0].get('gpu', 'an unnamed GPU')}:", "",
           "| Configuration | samples/s | synaptic events/s | stored spikes per batch | device memory | vs CPU backend |",
           "|---|---:|---:|---:|---:|---:|"]
    for line in lines:
        ratio = line.get("ratio_vs_cpu")
        out.append(f"| {configuration(line)} | {number(line['samples_per_s'])} | "
                   f"{events(line['synaptic_events_per_s'])} | {number(line['stored_spikes_per_batch'])} | "
                   f"{number(line['device_bytes_used'] / 2**20)} MiB | {'–' if ratio is None else number(ratio) + '×'} |")
    out += ["", "samples/s: forward + backward + Adam update. \"device memory\": free device memory before the model "
            "minus after training. \"vs CPU backend\": the same data on this machine's CPU backend, measured in the "
            "same run.", ""]
    return out


def cuda_inference_section(lines):
    """The table of cuda_inference_benchmark's lines."""
    out = [f"CUDA backend, inference, on {lines[0].get('gpu', 'an unnamed GPU')} (device memory bandwidth "
           f"measured by a device-to-device copy: {number(lines[0]['bandwidth_bytes_per_s'] / 1e9)} GB/s):", "",
           "| Net | Configuration | samples/s (run) | samples/s (end to end) | synaptic events/s | of bandwidth bound "
           "| vs CPU backend |",
           "|---|---|---:|---:|---:|---:|---:|"]
    for line in lines:
        ratio = line.get("ratio_vs_cpu")
        out.append(f"| {line['net']} | {configuration(line)} | {number(line['run_samples_per_s'])} | "
                   f"{number(line['end_to_end_samples_per_s'])} | {events(line['synaptic_events_per_s'])} | "
                   f"{number(100 * line['bandwidth_fraction'], 2)} % | "
                   f"{'–' if ratio is None else number(ratio) + '×'} |")
    out += ["", "\"of bandwidth bound\": synaptic events/s over the device's copy bandwidth / 8 bytes per event. "
            "\"vs CPU backend\": the same inputs on this machine's CPU backend, measured in the same run.", ""]
    return out


def configuration(line):
    if line["benchmark"] == "open_neuromorphic_train":
        return f"n = {line['n']}, T = {line['timesteps']}, batch {line['batch']}"
    return f"T = {line['timesteps']}, batch {line['batch']}"


def configuration_key(line):
    return (BENCHMARK_ORDER.index(line["benchmark"]) if line["benchmark"] in BENCHMARK_ORDER else 99,
            line.get("n", 0), line["timesteps"], line["batch"])


def group(results):
    """{configuration key: {"line": spikegraph's line, "peers": {peer: line}}}, in table order."""
    groups = {}
    for line in results:
        key = configuration_key(line)
        entry = groups.setdefault(key, {"line": line, "peers": {}})
        if "peer" in line:
            entry["peers"][line["peer"]] = line
    return dict(sorted(groups.items()))


def number(value, digits=3):
    """A figure with `digits` significant digits, thousands separated."""
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return value
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    if value == 0:
        return "0"
    magnitude = math.floor(math.log10(abs(value)))
    decimals = max(0, digits - 1 - magnitude)
    return f"{value:,.{decimals}f}"


def events(value):
    return "–" if value is None else f"{value / 1e9:.3g} G" if value >= 1e8 else f"{value / 1e6:.3g} M"


def peer_names(groups):
    names = []
    for entry in groups.values():
        for name in entry["peers"]:
            if name not in names:
                names.append(name)
    return sorted(names, key=lambda name: (name not in PEER_TITLES, list(PEER_TITLES).index(name)
                                           if name in PEER_TITLES else 0, name))


def peer_cell(peer_line):
    if peer_line is None:
        return "not run", "–"
    if peer_line.get("peer_status") != "ok" or "ratio_vs_peer" not in peer_line:
        return f"no figure: {peer_line.get('peer_status', 'no status').split(' (')[0]}", "–"
    return number(peer_line["peer_samples_per_s"]), f"**{number(peer_line['ratio_vs_peer'])}×**"


def cache_resident(machine, line):
    """Whether a benchmark's weights fit in the machine's last-level cache."""
    try:
        return float(line["weights_mib"]) < float(machine["llc_mib"])
    except (KeyError, TypeError, ValueError):
        return False


def machine_line(machine):
    if not machine:
        return "Machine: not recorded."
    parts = [f"**{machine.get('cpu', 'unknown CPU')}**", f"{machine.get('cores', '?')} cores",
             f"{machine.get('llc_mib', '?')} MiB last-level cache", f"{machine.get('memory_gib', '?')} GiB memory",
             machine.get("os", ""), machine.get("compiler", "")]
    text = "Machine: " + ", ".join(part for part in parts if part)
    text += f". Threads: {machine.get('threads', '?')} (spikegraph and the peers alike)."
    versions = [f"{title} {machine[key]}" for key, title in
                (("torch", "torch"), ("snntorch", "snnTorch"), ("norse", "Norse")) if machine.get(key)]
    if versions:
        text += " Peers: " + ", ".join(versions) + f", on {machine.get('peer_device', 'cpu')}."
    text += (f" Run: {machine.get('date', '?')}, `{machine.get('mode', '?')}` mode, commit {machine.get('commit', '?')}, "
             f"load average {machine.get('load_before', '?')} before and {machine.get('load_after', '?')} after.")
    return text


def markdown(machine, bandwidth, groups):
    peers = peer_names(groups)
    out = [machine_line(machine), ""]
    if machine and machine.get("mode") == "quick":
        out += ["*A `--quick` run: few examples and steps, n = 4096 and T = 100 only. For development, "
                "not for quoting.*", ""]
    if machine and machine.get("unavailable_peers"):
        out += [f"**Peers not available in this run: {machine['unavailable_peers']}.** Their columns carry no "
                "figure and no ratio.", ""]

    header = ["Benchmark", "Configuration", "spikegraph samples/s"]
    for peer in peers:
        title = PEER_TITLES.get(peer, peer)
        header += [f"{title} samples/s", f"vs {title}"]
    header += ["synaptic events/s", "of roofline", "peak MiB (spikegraph" + "".join(
        f" / {PEER_TITLES.get(peer, peer)}" for peer in peers) + ")"]
    out.append("| " + " | ".join(header) + " |")
    out.append("|" + "|".join(["---"] * 2 + ["---:"] * (len(header) - 2)) + "|")
    cache_note = False
    for entry in groups.values():
        line = entry["line"]
        row = [BENCHMARK_TITLES.get(line["benchmark"], line["benchmark"]), configuration(line),
               number(line["samples_per_s"])]
        memory = [number(line.get("peak_memory_mib"))]
        for peer in peers:
            peer_line = entry["peers"].get(peer)
            row += list(peer_cell(peer_line))
            memory.append(number(peer_line.get("peer_peak_memory_mib")) if peer_line and
                          peer_line.get("peer_status") == "ok" else "–")
        fraction = line.get("roofline_fraction")
        roofline = "–" if fraction is None else f"{number(100 * fraction, 2)} %"
        if fraction is not None and cache_resident(machine, line):
            roofline += " †"
            cache_note = True
        row += [events(line.get("synaptic_events_per_s")), roofline, " / ".join(memory)]
        out.append("| " + " | ".join(row) + " |")
    out.append("")
    out.append("\"vs X\" is spikegraph's samples/s over X's, both measured in this run on the same spike trains; "
               "above 1 spikegraph is faster. Training rows time a whole step (forward, backward, Adam update).")
    out.append("")
    failures = sorted({f"{PEER_TITLES.get(name, name)}: {peer_line.get('peer_status', 'no status')}"
                       for entry in groups.values() for name, peer_line in entry["peers"].items()
                       if peer_line.get("peer_status") != "ok" or "ratio_vs_peer" not in peer_line})
    if failures:
        out.append("**Peers that gave no figure** (their rows carry no ratio): " + "; ".join(failures) + ".")
        out.append("")
    if cache_note:
        sizes = sorted({number(entry["line"]["weights_mib"]) + " MiB" for entry in groups.values()
                        if cache_resident(machine, entry["line"])})
        out.append(f"† The weights ({', '.join(sizes)}) fit in the {number(machine['llc_mib'])} MiB last-level cache, so memory bandwidth does not bound "
                   "this row and it may pass the roofline.")
        out.append("")

    if bandwidth:
        bound = bandwidth["copy_best_gb_s"] * 1e9 / 8
        out.append(f"Roofline: stream copy measured {number(bandwidth['copy_best_gb_s'])} GB/s "
                   f"({bandwidth['threads']} threads, {bandwidth['array_mib']} MiB arrays, best of "
                   f"{bandwidth['repeats']}; read-only {number(bandwidth['read_best_gb_s'])} GB/s). At 8 bytes per "
                   f"synaptic event (a 4-byte weight read and a 4-byte in_syn read-modify-write, counted as 8) the "
                   f"bound is {events(bound)} events/s; \"of roofline\" is the synaptic events/s over it. In the "
                   "training rows the events are the forward pass's, over the whole step's time.")
        out.append("")

    open_neuromorphic = [entry for entry in groups.values() if entry["line"]["benchmark"] == "open_neuromorphic_train"]
    if open_neuromorphic:
        out.append("Open Neuromorphic task, seconds per batch of 16 (median): forward / backward / optimiser update. "
                   "The published benchmark times forward + backward.")
        out.append("")
        out.append("| n | spikegraph (EventProp) | " + " | ".join(PEER_TITLES.get(p, p) + " (BPTT)" for p in peers) + " |")
        out.append("|---:|---:|" + "---:|" * len(peers))
        for entry in open_neuromorphic:
            line = entry["line"]
            cells = [str(line["n"]), " / ".join(number(line.get(k)) for k in ("forward_s", "backward_s", "update_s"))]
            for peer in peers:
                peer_line = entry["peers"].get(peer)
                if peer_line and peer_line.get("peer_status") == "ok":
                    cells.append(" / ".join(number(peer_line.get("peer_" + k)) for k in
                                            ("forward_s", "backward_s", "update_s")))
                else:
                    cells.append("–")
            out.append("| " + " | ".join(cells) + " |")
        out.append("")

    rates = []
    for entry in groups.values():
        line = entry["line"]
        peer_rates = [f"{PEER_TITLES.get(p, p)} {number(entry['peers'][p]['peer_hidden_rate_hz'], 2)}"
                      for p in peers if p in entry["peers"] and "peer_hidden_rate_hz" in entry["peers"][p]]
        rate = line.get("initial_hidden_rate_hz", line.get("hidden_rate_hz"))
        if rate is not None:
            rates.append(f"{BENCHMARK_TITLES.get(line['benchmark'], line['benchmark'])} ({configuration(line)}): "
                         f"spikegraph {number(rate, 2)}" + ("; " + "; ".join(peer_rates) if peer_rates else ""))
    if rates:
        out.append("Hidden firing rates at the initial weights, Hz (spikegraph's work grows with them, the dense "
                   "peers' does not):")
        out.append("")
        out += [f"- {rate}" for rate in rates]
        out.append("")

    quoted = [entry["line"] for entry in groups.values() if "mlgenn_cpu_quoted_samples_per_s" in entry["line"]]
    if quoted:
        out.append("Quoted, not measured here: mlGeNN's CPU figures from the issues (batch 1) — " + "; ".join(
            f"{BENCHMARK_TITLES.get(line['benchmark'], line['benchmark'])} T = {line['timesteps']}: "
            f"{number(line['mlgenn_cpu_quoted_samples_per_s'])} samples/s ({number(line['ratio_vs_mlgenn_quoted'])}× "
            "by that figure)" for line in quoted) + ".")
        out.append("")
    return "\n".join(out)


def svg_chart(groups):
    """Horizontal bars: spikegraph's speed-up over each peer, log scale."""
    peers = peer_names(groups)
    bars = []  # (label, peer, ratio or None)
    for entry in groups.values():
        line = entry["line"]
        label = f"{SHORT_TITLES.get(line['benchmark'], line['benchmark'])}, {configuration(line)}"
        for peer in peers:
            peer_line = entry["peers"].get(peer)
            ratio = peer_line.get("ratio_vs_peer") if peer_line and peer_line.get("peer_status") == "ok" else None
            bars.append((label, peer, ratio))
    ratios = [ratio for _, _, ratio in bars if ratio]
    low = 10 ** math.floor(math.log10(min(ratios + [1.0])))
    high = 10 ** math.ceil(math.log10(max(ratios + [10.0])))
    left, right, top, bar_height, gap = 390, 40, 50, 16, 10
    plot_width = 460
    labels = []
    for label, _, _ in bars:
        if label not in labels:
            labels.append(label)
    height = top + max(1, len(labels) * (len(peers) * bar_height + gap)) + 60
    width = left + plot_width + right

    def x_of(value):
        return left + plot_width * (math.log10(value) - math.log10(low)) / (math.log10(high) - math.log10(low))

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="{width / 2}" y="20" text-anchor="middle" font-size="14">spikegraph speed-up over each peer '
           '(samples/s ratio, same run, same inputs; log scale)</text>']
    decade = low
    while decade <= high * 1.0001:
        x = x_of(decade)
        out.append(f'<line x1="{x:.1f}" y1="{top - 8}" x2="{x:.1f}" y2="{height - 50}" stroke="#ccc"/>')
        out.append(f'<text x="{x:.1f}" y="{height - 36}" text-anchor="middle">{decade:g}×</text>')
        decade *= 10
    x_one = x_of(1.0)
    out.append(f'<line x1="{x_one:.1f}" y1="{top - 8}" x2="{x_one:.1f}" y2="{height - 50}" stroke="black"/>')
    y = top
    for label in labels:
        out.append(f'<text x="{left - 8}" y="{y + len(peers) * bar_height / 2 + 4:.1f}" text-anchor="end">'
                   f'{html.escape(label)}</text>')
        for peer in peers:
            ratio = next((r for l, p, r in bars if l == label and p == peer), None)
            colour = PEER_COLOURS.get(peer, "#55a868")
            if ratio:
                x0, x1 = sorted((x_one, x_of(ratio)))
                out.append(f'<rect x="{x0:.1f}" y="{y + 1}" width="{max(x1 - x0, 1):.1f}" height="{bar_height - 2}" '
                           f'fill="{colour}"><title>{html.escape(PEER_TITLES.get(peer, peer))}: '
                           f'{number(ratio)}×</title></rect>')
                if ratio >= 1:
                    out.append(f'<text x="{x1 + 4:.1f}" y="{y + bar_height - 4}">{number(ratio)}×</text>')
                else:  # the peer is faster: the bar goes left of 1×
                    out.append(f'<text x="{x0 - 4:.1f}" y="{y + bar_height - 4}" text-anchor="end">'
                               f'{number(ratio)}×</text>')
            else:
                out.append(f'<text x="{x_one + 4:.1f}" y="{y + bar_height - 4}" fill="#888">'
                           f'{html.escape(PEER_TITLES.get(peer, peer))}: no figure</text>')
            y += bar_height
        y += gap
    legend_x = left
    for peer in peers:
        out.append(f'<rect x="{legend_x}" y="{height - 22}" width="12" height="12" '
                   f'fill="{PEER_COLOURS.get(peer, "#55a868")}"/>')
        out.append(f'<text x="{legend_x + 16}" y="{height - 12}">vs {html.escape(PEER_TITLES.get(peer, peer))}</text>')
        legend_x += 120
    if not peers:
        out.append(f'<text x="{width / 2}" y="{top + 20}" text-anchor="middle">No peer ran: no ratios.</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def write_atomically(path, text):
    temporary = path + ".tmp"
    with open(temporary, "w") as file:
        file.write(text)
    os.replace(temporary, path)


def update_docs(path, table, svg_name):
    with open(path) as file:
        document = file.read()
    begin, end = document.find(BEGIN_MARKER), document.find(END_MARKER)
    if begin < 0 or end < begin:
        raise SystemExit(f"{path}: no {BEGIN_MARKER} ... {END_MARKER} section to update")
    section = f"{BEGIN_MARKER}\n{table}\n" + (f"![spikegraph speed-up over the peers]({svg_name})\n\n" if svg_name else "")
    write_atomically(path, document[:begin] + section + document[end:])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("results")
    parser.add_argument("--markdown", required=True)
    parser.add_argument("--svg", required=True)
    parser.add_argument("--update-docs", help="a Markdown file with the run_suite markers (docs/benchmarks.md)")
    parser.add_argument("--docs-svg", help="where the chart goes next to it (docs/benchmarks.svg)")
    arguments = parser.parse_args()
    machine, bandwidth, results = read_lines(arguments.results)
    cuda_lines = [line for line in results if line.get("backend") == "cuda"]
    results = [line for line in results if line.get("backend") == "cpu"]
    if not results and not cuda_lines:
        raise SystemExit(f"{arguments.results}: no benchmark lines")
    groups = group(results)
    table = markdown(machine, bandwidth, groups) + "\n" + "\n".join(cuda_section(cuda_lines))
    chart = svg_chart(groups)
    write_atomically(arguments.markdown, table + "\n")
    write_atomically(arguments.svg, chart)
    if arguments.update_docs:
        if arguments.docs_svg:
            write_atomically(arguments.docs_svg, chart)
        update_docs(arguments.update_docs, table,
                    os.path.relpath(arguments.docs_svg, os.path.dirname(arguments.update_docs))
                    if arguments.docs_svg else None)
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
