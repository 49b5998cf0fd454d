#!/usr/bin/env bash
# The README's first command: set up, build, and run the hybrid-pools
# example ("default": process profile; "hpc": thread profile).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/build.sh" --target hybrid_pools
exec "${SNAKEPIT_BUILD_DIR:-$root/build}/examples/hybrid_pools/hybrid_pools" "$@"
