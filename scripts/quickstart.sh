#!/usr/bin/env bash
# Build and run the quickstart example: scripts/quickstart.sh [args...]
# Environment: SPIKEGRAPH_JOBS (default 2), SPIKEGRAPH_BUILD_DIR (default build).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

# shellcheck source=scripts/bootstrap.sh
source "$ROOT/scripts/bootstrap.sh"

spikegraph_configure_args
cmake_args+=(-DSPIKEGRAPH_BUILD_EXAMPLES=ON)

if ! log="$(cmake "${cmake_args[@]}" 2>&1)"; then
  printf '%s\n' "$log" >&2
  exit 1
fi
cmake --build "$BUILD" --target quickstart -j "$JOBS"
exec "$BUILD/examples/quickstart" "$@"
