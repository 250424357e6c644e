#!/usr/bin/env bash
# Configure, build and run the whole test suite.
#   scripts/test.sh [extra ctest arguments, e.g. -L compile-fail | -R dense]
# Environment: SPIKEGRAPH_JOBS (parallel build/test jobs, default 2),
#              SPIKEGRAPH_BUILD_DIR (default build), SPIKEGRAPH_CMAKE_ARGS
#              (extra configure arguments, word-split).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

# shellcheck source=scripts/bootstrap.sh
source "$ROOT/scripts/bootstrap.sh"

JOBS="${SPIKEGRAPH_JOBS:-2}"
BUILD="${SPIKEGRAPH_BUILD_DIR:-build}"

cmake_args=(-S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DSPIKEGRAPH_BUILD_TESTS=ON)
if [[ -x /usr/local/cuda/bin/nvcc ]]; then
  cmake_args+=(-DCMAKE_CUDA_COMPILER=/usr/local/cuda/bin/nvcc)
fi
if [[ -n "${SPIKEGRAPH_CMAKE_ARGS:-}" ]]; then
  # shellcheck disable=SC2206
  cmake_args+=(${SPIKEGRAPH_CMAKE_ARGS})
fi

start=$SECONDS
echo "== configure ($BUILD)"
cmake "${cmake_args[@]}"
echo "== build (-j$JOBS)"
cmake --build "$BUILD" -j "$JOBS"
echo "== built in $((SECONDS - start)) s; test (-j$JOBS)"
ctest --test-dir "$BUILD" --output-on-failure -j "$JOBS" "$@"
