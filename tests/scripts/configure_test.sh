#!/usr/bin/env bash
# scripts_configure: scripts/configure.sh configures a folder whose last
# configure failed (CMakeCache.txt there, build.ninja not) instead of
# leaving it for `cmake --build` to fail on with "loading 'build.ninja'".
#   usage: configure_test.sh SOURCE_DIR
set -euo pipefail
root=$1
scratch=$(mktemp -d "${TMPDIR:-/tmp}/snakepit-configure.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
build=$scratch/build
quick=(-DSNAKEPIT_BUILD_TESTS=OFF -DSNAKEPIT_BUILD_EXAMPLES=OFF)

# A configure that fails (this interpreter does not exist).
if "$root/scripts/configure.sh" "$build" "${quick[@]}" \
  -DSNAKEPIT_FREE_THREADED_PYTHON=/nonexistent/python3.13t >"$scratch/first.log" 2>&1; then
  echo "FAIL: configuring with a missing free-threaded interpreter succeeded" >&2
  exit 1
fi
test -f "$build/CMakeCache.txt"
test ! -f "$build/build.ninja"

# Fixed: the next run configures again, so the folder can be built.
"$root/scripts/configure.sh" "$build" "${quick[@]}" -DSNAKEPIT_FREE_THREADED_PYTHON= >"$scratch/second.log" 2>&1 || {
  cat "$scratch/second.log" >&2
  exit 1
}
if [[ ! -f $build/build.ninja ]]; then
  echo "FAIL: scripts/configure.sh left a folder whose configure had failed unconfigured" >&2
  exit 1
fi
echo "scripts_configure: OK"
