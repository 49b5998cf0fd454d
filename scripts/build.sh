#!/usr/bin/env bash
# Configures and builds snakepit-cpp in ./build (or $SNAKEPIT_BUILD_DIR).
# Extra arguments go to `cmake --build` (e.g. a --target).
# SNAKEPIT_FREE_THREADED=1 first builds (once) a free-threaded CPython 3.13t
# and hands it to CMake, so the tests that need it run instead of skipping
# (scripts/configure.sh, docs/free-threading.md).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${SNAKEPIT_BUILD_DIR:-$root/build}
"$root/scripts/setup.sh"
"$root/scripts/configure.sh" "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSNAKEPIT_WERROR=ON ${SNAKEPIT_CMAKE_ARGS:-}
cmake --build "$build" --parallel "$(nproc)" "$@"
