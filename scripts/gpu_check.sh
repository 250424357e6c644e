#!/usr/bin/env bash
# The checks only an NVIDIA GPU can make, in one command, on a machine that
# has one: build the CUDA tests, benchmarks and example for this GPU; run the
# gpu-labelled tests with a missing device failing instead of skipping;
# compute-sanitizer (memcheck, racecheck) on them; the CUDA benchmarks,
# including a sweep of the sparse propagation's unit width; and CUDA Yin-Yang
# training against the CPU backend.
#
#   bash scripts/gpu_check.sh [--deps DIR] [--build DIR] [--out DIR] [--jobs N]
#                             [--steps build,test,sanitize,bench]
#
#   --deps DIR   Boost.Hana and Catch2 staged by scripts/stage_dependencies.sh,
#                for a machine that cannot install packages (else the system's)
#   --build DIR  build directory (default build-gpu); kept between runs
#   --out DIR    where the logs go (default BUILD/gpu-check): one STEP.log per
#                step and summary.txt, one line per check
#   --steps      a subset, in this order; later steps need the build
#
# Exit status: the number of checks that failed (0: all passed).
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

deps="" build="build-gpu" out="" jobs="$(nproc 2>/dev/null || echo 4)" steps="build,test,sanitize,bench"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --deps) deps="$2"; shift 2 ;;
    --build) build="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --jobs) jobs="$2"; shift 2 ;;
    --steps) steps="$2"; shift 2 ;;
    *) echo "usage: bash scripts/gpu_check.sh [--deps DIR] [--build DIR] [--out DIR] [--jobs N] [--steps build,test,sanitize,bench]" >&2
       exit 2 ;;
  esac
done
out="${out:-$build/gpu-check}"
mkdir -p "$out"
summary="$out/summary.txt"
: > "$summary"
failures=0

# check <name> <log> <command...>: runs it, appends its output to the log and one line to the summary.
check() {
  local name="$1" log="$2"; shift 2
  local start=$SECONDS status=0
  echo "== $name: $*" | tee -a "$log"
  "$@" >> "$log" 2>&1 || status=$?
  local line
  if [[ $status -eq 0 ]]; then line="PASS  $name ($((SECONDS - start)) s)"
  else line="FAIL  $name: exit status $status after $((SECONDS - start)) s, see $log"; failures=$((failures + 1)); fi
  echo "$line" | tee -a "$summary"
}
selected() { [[ ",$steps," == *",$1,"* ]]; }

gpu_tests=(model_device graph_nvcc cuda_backend cuda_event_prop cuda_eprop)
programs=("${gpu_tests[@]}" cuda_errors cuda_inference_benchmark cuda_event_prop_benchmark cuda_yin_yang)
test_binary() { echo "$build/tests/$1"; }

command -v nvcc >/dev/null 2>&1 || export PATH="/usr/local/cuda/bin:$PATH"
{
  echo "== machine"
  nvidia-smi --query-gpu=name,compute_cap,driver_version,memory.total --format=csv 2>&1 || echo "nvidia-smi: not found"
  nvcc --version 2>&1 | tail -1
  "${CXX:-g++}" --version 2>&1 | head -1
  cmake --version | head -1
  git -C "$ROOT" log -1 --oneline 2>/dev/null
} 2>&1 | tee "$out/machine.log"

if selected build; then
  log="$out/build.log"; : > "$log"
  args=(-S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DSPIKEGRAPH_BUILD_TESTS=ON -DSPIKEGRAPH_BUILD_EXAMPLES=ON
        -DSPIKEGRAPH_BUILD_BENCHMARKS=ON)
  command -v ninja >/dev/null 2>&1 && [[ ! -f "$build/Makefile" ]] && args+=(-G Ninja)
  [[ -n "$(command -v nvcc)" ]] && args+=("-DCMAKE_CUDA_COMPILER=$(command -v nvcc)")
  # Only this GPU's architecture: half the device code to compile.
  capability="$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -1 | tr -d ' .')"
  [[ -n "$capability" ]] && args+=("-DCMAKE_CUDA_ARCHITECTURES=$capability")
  if [[ -n "$deps" ]]; then
    deps="$(cd "$deps" && pwd)"
    boost_dir="$(ls -d "$deps"/lib/*/cmake/Boost-[0-9]* 2>/dev/null | head -1)"
    # Boost_INCLUDE_DIR for FindBoost (CMake < 3.30), Boost_DIR for config mode.
    args+=("-DBoost_INCLUDE_DIR=$deps/include" "-DCatch2_DIR=$deps/lib/cmake/Catch2")
    [[ -n "$boost_dir" ]] && args+=("-DBoost_DIR=$boost_dir")
  fi
  check configure "$log" cmake "${args[@]}"
  check build "$log" cmake --build "$build" -j "$jobs" --target "${programs[@]}"
fi

if selected test; then
  log="$out/test.log"; : > "$log"
  check "gpu tests (SPIKEGRAPH_REQUIRE_GPU=1)" "$log" \
    env SPIKEGRAPH_REQUIRE_GPU=1 ctest --test-dir "$build" -L gpu --output-on-failure
  check cuda_errors "$log" "$(test_binary cuda_errors)"
fi

if selected sanitize; then
  log="$out/sanitize.log"; : > "$log"
  for t in cuda_backend cuda_event_prop cuda_eprop; do
    for tool in memcheck racecheck; do  # racecheck: shared memory (BlockScan, ballots, shuffles, tiles)
      check "compute-sanitizer $tool $t" "$log" \
        env SPIKEGRAPH_REQUIRE_GPU=1 compute-sanitizer --tool "$tool" --error-exitcode 1 "$(test_binary "$t")"
    done
  done
fi

if selected bench; then
  log="$out/bench.log"; : > "$log"
  bench="$build/benchmarks"
  check "cuda_inference_benchmark" "$log" "$bench/cuda_inference_benchmark"
  for width in 32 128 512 2048 16384; do
    check "cuda_inference_benchmark sparse, unit width $width" "$log" \
      "$bench/cuda_inference_benchmark" --net sparse --no-cpu --sparse-unit-width "$width"
  done
  check "cuda_event_prop_benchmark" "$log" "$bench/cuda_event_prop_benchmark"
  check "cuda_yin_yang --cpu-reference" "$log" "$build/examples/cuda_yin_yang" --cpu-reference
  grep '^{' "$log" > "$out/bench.jsonl" || true
fi

echo "== $failures failed; summary in $summary"
cat "$summary"
exit "$failures"
