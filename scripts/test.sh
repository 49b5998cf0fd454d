#!/usr/bin/env bash
# The README's second command (and what CI runs): set up, build everything,
# and run every test, C++ and Python, through ctest.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${SNAKEPIT_BUILD_DIR:-$root/build}
"$root/scripts/build.sh"
cd "$build"
ctest --output-on-failure --parallel "$(nproc)" --timeout 300 "$@"
