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

spikegraph_configure_args
cmake_args+=(-DSPIKEGRAPH_BUILD_TESTS=ON)
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
