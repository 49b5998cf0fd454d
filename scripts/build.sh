#!/usr/bin/env bash
# Configures and builds snakepit-cpp in ./build (or $SNAKEPIT_BUILD_DIR).
# Extra arguments go to `cmake --build` (e.g. a --target).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${SNAKEPIT_BUILD_DIR:-$root/build}
"$root/scripts/setup.sh"
if [[ ! -f $build/CMakeCache.txt ]]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo ${SNAKEPIT_CMAKE_ARGS:-}
fi
cmake --build "$build" --parallel "$(nproc)" "$@"
