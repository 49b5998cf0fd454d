#!/usr/bin/env bash
# The README's second command (and what CI runs): set up, build everything,
# and run every test, C++ and Python, through ctest. Extra arguments go to
# ctest (e.g. -L unit for the tier that starts no Python). Before the
# tests, scripts/check_thread_safety.sh compiles the library with clang's
# -Wthread-safety -Werror. SNAKEPIT_FREE_THREADED=1 first builds (once) a free-threaded CPython
# 3.13t for the tests that need one; without it they skip unless one was
# built already (docs/free-threading.md).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${SNAKEPIT_BUILD_DIR:-$root/build}
"$root/scripts/build.sh"
# The lock annotations, checked by clang (GCC ignores them).
"$root/scripts/check_thread_safety.sh"
cd "$build"
ctest --output-on-failure --parallel "$(nproc)" --timeout 300 "$@"
