#!/usr/bin/env bash
# spikegraph's benchmark suite in one command: builds the benchmark programs
# (Release, -j2), measures the memory bandwidth, runs every benchmark with its
# peers (snnTorch and Norse on torch, same spike trains, same threads) and
# writes the JSON lines, a Markdown table and an SVG bar chart.
#
#   bash benchmarks/run_suite.sh [--quick] [options]
#
#   --quick            smoke run for development: few examples and steps, T = 100, n = 4096 only (minutes)
#   --threads N        threads for spikegraph and the peers (default: all cores, nproc)
#   --build-dir DIR    CMake build tree (default: build-benchmarks)
#   --results DIR      where results go (default: <build-dir>/suite-<date>)
#   --only LIST        comma-separated subset of: inference,event_prop,eprop,open_neuromorphic,cuda
#   --peers LIST       comma-separated peers (default: snntorch,norse); --no-peers for none
#   --peer-device DEV  torch device of the peers (default: cpu; cuda on a GPU machine)
#   --skip-build       use the programs already in the build tree
#   --update-docs      also write the table into docs/benchmarks.md (between its run_suite
#                      markers) and the chart to docs/benchmarks.svg
#
# A full run on 2 idle cores takes about 20-30 minutes, most of it the peers'
# dense BPTT at n = 16384 (one timed step each, see docs/benchmarks.md).
# Progress goes to stderr and to <results>/suite.log.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

mode=full
threads="$(nproc)"
build_dir=build-benchmarks
results=""
only="inference,event_prop,eprop,open_neuromorphic,cuda"
peers="snntorch,norse"
peer_device=cpu
skip_build=0
update_docs=0

usage() { sed -n '2,22p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) mode=quick ;;
    --threads) threads="$2"; shift ;;
    --build-dir) build_dir="$2"; shift ;;
    --results) results="$2"; shift ;;
    --only) only="$2"; shift ;;
    --peers) peers="$2"; shift ;;
    --no-peers) peers="" ;;
    --peer-device) peer_device="$2"; shift ;;
    --skip-build) skip_build=1 ;;
    --update-docs) update_docs=1 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run_suite.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done
[[ "$threads" =~ ^[1-9][0-9]*$ ]] || { echo "run_suite.sh: --threads needs a positive integer" >&2; exit 2; }
results="${results:-$build_dir/suite-$(date +%Y%m%d-%H%M%S)}"
mkdir -p "$results/inputs"
results="$(cd "$results" && pwd)"
log="$results/suite.log"
jsonl="$results/results.jsonl"
: > "$jsonl"
started=$SECONDS

say() { printf '[suite %4ds] %s\n' "$((SECONDS - started))" "$*" | tee -a "$log" >&2; }
loud() { printf '\n%s\n*** %s\n%s\n\n' "$(printf '*%.0s' {1..78})" "$*" "$(printf '*%.0s' {1..78})" | tee -a "$log" >&2; }
json_escape() { local s="$1"; s="${s//\\/\\\\}"; s="${s//\"/\\\"}"; printf '%s' "$s" | tr -d '\000-\037'; }
selected() { [[ ",$only," == *",$1,"* ]]; }

# ---------------------------------------------------------------------------
# Build
bin="$build_dir/benchmarks"
programs=(inference_benchmark event_prop_benchmark eprop_benchmark open_neuromorphic_benchmark memory_bandwidth_probe)
if [[ $skip_build -eq 0 ]]; then
  say "configuring $build_dir (Release)"
  cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DSPIKEGRAPH_BUILD_TESTS=OFF \
        -DSPIKEGRAPH_BUILD_EXAMPLES=OFF -DSPIKEGRAPH_BUILD_BENCHMARKS=ON >>"$log" 2>&1 \
    || { loud "cmake configure failed, see $log"; exit 1; }
  say "building ${programs[*]} (-j2)"
  cmake --build "$build_dir" --target "${programs[@]}" -j2 >>"$log" 2>&1 \
    || { loud "build failed, see $log"; exit 1; }
fi
for program in "${programs[@]}"; do
  [[ -x "$bin/$program" ]] || { loud "$bin/$program is missing (build it, or drop --skip-build)"; exit 1; }
done
# The CUDA benchmarks (inference, EventProp training) exist where nvcc is found; they run where a GPU is.
if [[ $skip_build -eq 0 ]] && selected cuda; then
  cmake --build "$build_dir" --target cuda_inference_benchmark cuda_event_prop_benchmark -j2 >>"$log" 2>&1 \
    || say "no cuda_inference_benchmark / cuda_event_prop_benchmark target (no nvcc?): the CUDA backend is not benchmarked"
fi

# ---------------------------------------------------------------------------
# Peers: each is run anyway (its JSON line then says why it gave no figure),
# but a missing one is announced here, loudly.
peer_args=()
unavailable=""
python_version="" torch_version="" snntorch_version="" norse_version=""
if command -v python3 >/dev/null; then
  python_version="$(python3 -c 'import platform; print(platform.python_version())')"
  torch_version="$(python3 -c 'import torch; print(torch.__version__)' 2>/dev/null || true)"
fi
IFS=',' read -r -a peer_list <<< "$peers"
for peer in "${peer_list[@]}"; do
  [[ -n "$peer" ]] || continue
  script="benchmarks/peers/${peer}_peer.py"
  [[ -f "$script" ]] || { echo "run_suite.sh: no peer script $script" >&2; exit 2; }
  version=""
  if [[ -n "$python_version" ]]; then
    version="$(python3 -W ignore -c "import torch, $peer; print($peer.__version__)" 2>/dev/null | tail -n 1 || true)"
  fi
  if [[ -z "$version" ]]; then
    unavailable+="${unavailable:+, }$peer"
    loud "PEER $peer IS NOT AVAILABLE (python3 -c 'import torch, $peer' fails): its lines carry no ratio." \
         "Install: benchmarks/peers/README.md"
  else
    say "peer $peer $version (torch $torch_version, device $peer_device)"
  fi
  case "$peer" in snntorch) snntorch_version="$version" ;; norse) norse_version="$version" ;; esac
  peer_args+=("$peer=python3 $script --device $peer_device")
done
[[ ${#peer_args[@]} -gt 0 ]] || loud "NO PEERS: the figures are printed without ratios"

# ---------------------------------------------------------------------------
# The machine (its line is written at the end, with the load average after the runs).
cpu="$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -n 1)"
# The last-level cache (the highest cache level sysfs lists), in MiB.
llc_mib="$(for index in /sys/devices/system/cpu/cpu0/cache/index*; do
             [[ -r $index/level && -r $index/size ]] && echo "$(cat "$index/level") $(cat "$index/size")"
           done 2>/dev/null | sort -n | tail -n 1 | awk '{ size = $2; unit = substr(size, length(size));
             value = size + 0; if (unit == "K") value /= 1024; else if (unit == "G") value *= 1024; print value }')"
memory_gib="$(awk '/^MemTotal/ {printf "%.0f", $2 / 1048576}' /proc/meminfo 2>/dev/null || echo '?')"
load_before="$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')"
commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- 2>/dev/null || echo '+changes')"
if awk -v l="${load_before%% *}" 'BEGIN { exit !(l > 0.5) }'; then
  loud "THE MACHINE IS NOT IDLE (load average $load_before): timings, the peers' most of all, will be slow and noisy"
fi
machine_fields="\"cpu\": \"$(json_escape "${cpu:-unknown}")\", \"cores\": $(nproc), \"threads\": $threads, \
\"llc_mib\": \"${llc_mib:-?}\", \"memory_gib\": \"$memory_gib\", \"os\": \"$(json_escape "$(uname -sr)")\", \
\"compiler\": \"$(json_escape "$(${CXX:-g++} --version 2>/dev/null | head -n 1)")\", \
\"python\": \"$python_version\", \"torch\": \"$(json_escape "$torch_version")\", \"snntorch\": \"$snntorch_version\", \
\"norse\": \"$norse_version\", \"peer_device\": \"$peer_device\", \"unavailable_peers\": \"$unavailable\", \
\"mode\": \"$mode\", \"commit\": \"$commit\", \"date\": \"$(date -u +%Y-%m-%dT%H:%MZ)\", \"load_before\": \"$load_before\""

# ---------------------------------------------------------------------------
# Runs: each configuration in its own process (its peak memory is its own).
failures=0
run() {  # run <label> <program> <args...>
  local label="$1" program="$2"; shift 2
  local peer_options=()
  local peer
  for peer in "${peer_args[@]}"; do peer_options+=(--peer "$peer $PEER_EXTRA"); done
  say "$label"
  local before=$SECONDS status=0
  "$bin/$program" --threads "$threads" --memory-bandwidth-gbs "$bandwidth" --inputs-dir "$results/inputs" \
    "$@" "${peer_options[@]}" > "$results/last.jsonl" 2> >(tee -a "$log" >&2) || status=$?
  tee -a "$jsonl" < "$results/last.jsonl"
  if [[ $status -eq 0 ]]; then
    say "$label: done in $((SECONDS - before)) s"
  else
    failures=$((failures + 1))
    loud "$label FAILED (exit status $status), see $log"
  fi
}

say "memory bandwidth (stream copy, $threads threads)"
if [[ $mode == quick ]]; then probe_args=(--mib 256 --repeats 5); else probe_args=(--mib 1024 --repeats 10); fi
probe_line="$("$bin/memory_bandwidth_probe" --threads "$threads" "${probe_args[@]}" 2>>"$log")"
echo "$probe_line" >> "$jsonl"
bandwidth="$(sed -n 's/.*"copy_best_gb_s": \([0-9.eE+-]*\).*/\1/p' <<< "$probe_line")"
[[ -n "$bandwidth" ]] || { loud "the bandwidth probe printed no figure: $probe_line"; exit 1; }
say "stream copy: $bandwidth GB/s"

if [[ $mode == quick ]]; then
  PEER_EXTRA="--seconds 3 --also-one-thread"
  selected inference && run "inference T=100 (quick)" inference_benchmark --timesteps 100 --examples 64 --repeats 3
  selected event_prop && run "EventProp T=100 (quick)" event_prop_benchmark --timesteps 100 --examples 64 --repeats 1
  selected eprop && run "e-prop T=100 (quick)" eprop_benchmark --timesteps 100 --examples 64 --repeats 1
  PEER_EXTRA="--seconds 0 --min-steps 1 --warm-up-timesteps 50 --no-hidden-rate --also-one-thread"
  selected open_neuromorphic && run "Open Neuromorphic n=4096 (quick)" open_neuromorphic_benchmark --n 4096 --repeats 1
else
  # The small nets: peers time as many steps as fit in 10 s (3 to 20), with
  # --threads and with 1 thread, and report the faster.
  PEER_EXTRA="--seconds 10 --also-one-thread"
  for T in 100 1000; do
    selected inference && run "inference T=$T" inference_benchmark --timesteps "$T"
    selected event_prop && run "EventProp T=$T" event_prop_benchmark --timesteps "$T"
    selected eprop && run "e-prop T=$T" eprop_benchmark --timesteps "$T" --examples "$([[ $T == 100 ]] && echo 256 || echo 64)"
  done
  # Open Neuromorphic: a dense BPTT step of the peers takes seconds at n = 4096
  # and minutes at n = 16384 on two cores, so the larger sizes time fewer
  # steps (and n = 16384 only with --threads); the peers warm up on the first
  # 50 steps of a batch (which compiles, allocates their optimiser state and
  # faults in the weights).
  if selected open_neuromorphic; then
    PEER_EXTRA="--seconds 30 --min-steps 2 --max-steps 5 --warm-up-timesteps 50 --also-one-thread"
    run "Open Neuromorphic n=4096" open_neuromorphic_benchmark --n 4096 --repeats 3
    PEER_EXTRA="--seconds 0 --min-steps 2 --warm-up-timesteps 50 --no-hidden-rate --also-one-thread"
    run "Open Neuromorphic n=8192" open_neuromorphic_benchmark --n 8192 --repeats 2
    PEER_EXTRA="--seconds 0 --min-steps 1 --warm-up-timesteps 50 --no-hidden-rate"
    run "Open Neuromorphic n=16384" open_neuromorphic_benchmark --n 16384 --repeats 1
  fi
fi

if selected cuda; then
  if [[ ! -x "$bin/cuda_inference_benchmark" ]]; then
    loud "NO CUDA BENCHMARK: $bin/cuda_inference_benchmark was not built (no nvcc)"
  elif ! nvidia-smi -L >/dev/null 2>&1; then
    loud "NO GPU (nvidia-smi -L fails): the CUDA backend was not benchmarked; absolute GPU figures need a GPU"
  else
    say "CUDA inference (GPU: $(nvidia-smi --query-gpu=name --format=csv,noheader | head -n 1))"
    if [[ $mode == quick ]]; then cuda_args=(--timesteps 100 --batches 1 --repeats 2 --net dense --no-cpu); else cuda_args=(); fi
    if "$bin/cuda_inference_benchmark" "${cuda_args[@]}" > "$results/last.jsonl" 2> >(tee -a "$log" >&2); then
      tee -a "$jsonl" < "$results/last.jsonl"
    else
      failures=$((failures + 1))
      loud "CUDA inference FAILED, see $log"
    fi
    if [[ ! -x "$bin/cuda_event_prop_benchmark" ]]; then
      failures=$((failures + 1))
      loud "NO CUDA EVENTPROP BENCHMARK: $bin/cuda_event_prop_benchmark was not built, see $log"
    else
      say "CUDA EventProp training"
      if [[ $mode == quick ]]; then cuda_args=(--timesteps 100 --batches 2 --repeats 1 --no-cpu); else cuda_args=(); fi
      if "$bin/cuda_event_prop_benchmark" "${cuda_args[@]}" > "$results/last.jsonl" 2> >(tee -a "$log" >&2); then
        tee -a "$jsonl" < "$results/last.jsonl"
      else
        failures=$((failures + 1))
        loud "CUDA EventProp training FAILED, see $log"
      fi
    fi
  fi
fi

load_after="$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')"
echo "{\"benchmark\": \"machine\", $machine_fields, \"load_after\": \"$load_after\"," \
     "\"seconds\": $((SECONDS - started))}" >> "$jsonl"

# ---------------------------------------------------------------------------
# Report
if command -v python3 >/dev/null; then
  report_args=("$jsonl" --markdown "$results/benchmarks.md" --svg "$results/benchmarks.svg")
  [[ $update_docs -eq 1 ]] && report_args+=(--update-docs docs/benchmarks.md --docs-svg docs/benchmarks.svg)
  if python3 benchmarks/make_report.py "${report_args[@]}" >/dev/null 2>>"$log"; then
    say "table: $results/benchmarks.md, chart: $results/benchmarks.svg"
    [[ $update_docs -eq 0 ]] || say "docs/benchmarks.md and docs/benchmarks.svg updated"
    cat "$results/benchmarks.md" >&2
  else
    loud "make_report.py failed, see $log"
    failures=$((failures + 1))
  fi
else
  loud "python3 not found: no table or chart (the JSON lines are in $jsonl)"
fi
say "JSON lines: $jsonl; $failures failure(s); $((SECONDS - started)) s in all"
[[ $failures -eq 0 ]]
