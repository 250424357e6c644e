#!/usr/bin/env bash
# Install the build/test prerequisites that are missing (Debian/Ubuntu).
#
#   bash scripts/bootstrap.sh      # install what is missing
#   source scripts/bootstrap.sh    # same, and also exports PATH with nvcc
#
# Packages: cmake g++ make catch2 libboost-dev ccache zlib1g-dev libhdf5-dev,
# and clang with its runtime (libFuzzer) for the fuzz tests. Installs only when run
# as root (apt-get update once, then one apt-get install of the missing ones);
# otherwise it lists what is missing. CUDA is NOT installed: it is expected at
# /usr/local/cuda; when nvcc is not on PATH but /usr/local/cuda/bin/nvcc
# exists, /usr/local/cuda/bin is prepended to PATH (effective when sourced).
# Idempotent, and fast (a few dpkg queries) when everything is present.

spikegraph_bootstrap() {
  local pkgs=(cmake g++ make catch2 libboost-dev ccache zlib1g-dev libhdf5-dev clang libclang-rt-14-dev)
  local missing=() p status

  if command -v dpkg >/dev/null 2>&1; then
    for p in "${pkgs[@]}"; do
      status="$(dpkg -s "$p" 2>/dev/null || true)"
      [[ "$status" == *"Status: install ok installed"* ]] || missing+=("$p")
    done
  else
    # Not a Debian system: only check that the tools exist.
    for p in cmake g++ make; do
      command -v "$p" >/dev/null 2>&1 || missing+=("$p")
    done
    if ((${#missing[@]})); then
      echo "bootstrap: missing tools (no dpkg, install them yourself): ${missing[*]}" >&2
      return 1
    fi
    missing=()
  fi

  if ((${#missing[@]})); then
    if [[ "$(id -u)" == "0" ]] && command -v apt-get >/dev/null 2>&1; then
      echo "bootstrap: installing ${missing[*]}"
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq || { echo "bootstrap: apt-get update failed" >&2; return 1; }
      apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
        || { echo "bootstrap: apt-get install ${missing[*]} failed" >&2; return 1; }
    else
      echo "bootstrap: missing packages: ${missing[*]} (run as root to install them:" \
           "apt-get install ${missing[*]})" >&2
      # ccache is optional; anything else is fatal.
      local p2 fatal=0
      for p2 in "${missing[@]}"; do [[ "$p2" == ccache ]] || fatal=1; done
      ((fatal == 0)) || return 1
    fi
  fi

  if ! command -v nvcc >/dev/null 2>&1 && [[ -x /usr/local/cuda/bin/nvcc ]]; then
    export PATH="/usr/local/cuda/bin:${PATH}"
  fi
  return 0
}

# The configure settings both scripts share: Release, build dir, nvcc when present.
# Sets JOBS, BUILD and the array cmake_args (callers append their own options).
spikegraph_configure_args() {
  JOBS="${SPIKEGRAPH_JOBS:-2}"
  BUILD="${SPIKEGRAPH_BUILD_DIR:-build}"
  cmake_args=(-S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release)
  if [[ -x /usr/local/cuda/bin/nvcc ]]; then
    cmake_args+=(-DCMAKE_CUDA_COMPILER=/usr/local/cuda/bin/nvcc)
  fi
}

if [[ "${BASH_SOURCE[0]}" == "${0}" ]]; then
  # Executed.
  set -euo pipefail
  spikegraph_bootstrap
else
  # Sourced: do not change the caller's shell options; report failure.
  spikegraph_bootstrap
fi
