#!/usr/bin/env bash
# Configures a build folder with CMake and Ninja unless it is configured
# already (CMake ran to the end there); build.sh and bench.sh call it.
#
#   scripts/configure.sh BUILD_DIR [CMAKE_ARG...]
#
# With SNAKEPIT_FREE_THREADED=1 it first builds (once) the free-threaded
# CPython 3.13t of tools/build_free_threaded_python.sh and adds
# -DSNAKEPIT_FREE_THREADED_PYTHON=<its path>, configuring a folder again
# when it does not have that value yet (docs/free-threading.md).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$1
shift
args=("$@")
# ccache (scripts/setup.sh installs it), keyed on paths relative to the
# repository and not on the build folder, so that fresh clones (CI) and
# second build folders reuse objects.
if command -v ccache >/dev/null; then
  args=("-DCMAKE_CXX_COMPILER_LAUNCHER=env;CCACHE_BASEDIR=$root;CCACHE_NOHASHDIR=1;ccache" "${args[@]}")
fi
again=0
if [[ ${SNAKEPIT_FREE_THREADED:-0} == 1 ]]; then
  python=$("$root/tools/build_free_threaded_python.sh" | tail -n 1)
  args+=("-DSNAKEPIT_FREE_THREADED_PYTHON:FILEPATH=$python")
  grep -qxF "SNAKEPIT_FREE_THREADED_PYTHON:FILEPATH=$python" "$build/CMakeCache.txt" 2>/dev/null || again=1
fi
# A configure that failed leaves CMakeCache.txt but no build.ninja: that
# folder is configured again, not built as it is.
if [[ ! -f $build/CMakeCache.txt || ! -f $build/build.ninja ]] || ((again)); then
  cmake -S "$root" -B "$build" -G Ninja "${args[@]}"
fi
