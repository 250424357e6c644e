#!/usr/bin/env bash
# Copies the build dependencies that spikegraph takes from Debian packages
# (Boost.Hana, header-only; Catch2 v2 with its CMake package) into one
# directory, for a machine that has CUDA and CMake but cannot install
# packages (a lent GPU machine, a cluster node). About 5 MB.
#
#   bash scripts/stage_dependencies.sh DIR
#   # then, on the other machine:
#   bash scripts/gpu_check.sh --deps DIR
#
# Installs the packages here first when they are missing (scripts/bootstrap.sh).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [[ $# -ne 1 || "$1" == -* ]]; then
  echo "usage: bash scripts/stage_dependencies.sh DIR" >&2
  exit 2
fi
target="$1"

# shellcheck source=scripts/bootstrap.sh
source "$ROOT/scripts/bootstrap.sh"

need() {  # need <path>: a file or directory the staged copy must hold
  [[ -e "$1" ]] || { echo "stage_dependencies: $1 is missing (is the Debian package installed?)" >&2; exit 1; }
}
boost=/usr/include/boost
catch_headers=/usr/include/catch2
catch_cmake=/usr/lib/cmake/Catch2
catch_library=/usr/lib/libCatch2WithMain.a   # named by Catch2's CMake targets, so it must exist
# Boost's CMake package (found in config mode by CMake >= 3.30, which drops
# FindBoost): kept at its multiarch depth, since it finds the headers at ../../../include.
boost_cmake="$(ls -d /usr/lib/*/cmake/Boost-[0-9]* 2>/dev/null | head -1)"
need "${boost_cmake:-/usr/lib/<multiarch>/cmake/Boost-<version>}"
boost_cmake_root="$(dirname "$boost_cmake")"
multiarch="$(basename "$(dirname "$boost_cmake_root")")"
version="${boost_cmake##*/Boost-}"
for path in "$boost/hana" "$boost/hana.hpp" "$boost/version.hpp" "$boost_cmake_root/boost_headers-$version" \
            "$catch_headers" "$catch_cmake" "$catch_library"; do
  need "$path"
done

rm -rf "$target"
mkdir -p "$target/include/boost" "$target/lib/cmake" "$target/lib/$multiarch/cmake"
# FindBoost reads the version from boost/version.hpp; the library includes Hana alone.
cp -r "$boost/hana" "$boost/hana.hpp" "$boost/version.hpp" "$target/include/boost/"
cp -r "$boost_cmake" "$boost_cmake_root/boost_headers-$version" "$target/lib/$multiarch/cmake/"
cp "$boost_cmake_root"/BoostDetectToolset-*.cmake "$target/lib/$multiarch/cmake/" 2>/dev/null || true
cp -r "$catch_headers" "$target/include/"
cp -r "$catch_cmake" "$target/lib/cmake/"
cp "$catch_library" "$target/lib/"

echo "stage_dependencies: $(du -sh "$target" | cut -f1) in $target"
echo "  configure with: -DBoost_INCLUDE_DIR=$target/include -DBoost_DIR=$target/lib/$multiarch/cmake/Boost-$version" \
     "-DCatch2_DIR=$target/lib/cmake/Catch2"
