#!/usr/bin/env bash
# fetchcontent_consumer: an outside project (fetchcontent/) that builds
# snakepit as a sub-project with FetchContent from SOURCE_DIR, in Release
# (GCC at -O3), building only its own target. Checks that
#   - snakepit's tests and examples stay off (GTest is not needed) and its
#     -Werror is off (a compiler's new warning does not break the parent);
#   - the parent's CMAKE_BUILD_TYPE is the parent's: never written by us;
#   - building the parent's target built the native worker transport, so
#     the worker serves with it rather than falling back to grpcio.
# The build folder (BUILD_DIR) persists, so a rerun is incremental.
#   usage: run_fetchcontent_test.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
source_dir=$1
build=$2
here=$(cd "$(dirname "$0")" && pwd)

launcher=()
if command -v ccache >/dev/null; then
  launcher=("-DCMAKE_CXX_COMPILER_LAUNCHER=env;CCACHE_BASEDIR=$source_dir;CCACHE_NOHASHDIR=1;ccache")
fi
# Only the first configure sets the build type; a rerun must still see it
# unchanged (a FORCEd cache entry written by snakepit would win).
if [[ ! -f $build/CMakeCache.txt || ! -f $build/build.ninja ]]; then
  cmake -S "$here/fetchcontent" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    "-DFETCHCONTENT_SOURCE_DIR_SNAKEPIT=$source_dir" "${launcher[@]}" >/dev/null
else
  cmake "$build" >/dev/null
fi
cache() { sed -n "s/^$1:[A-Z]*=//p" "$build/CMakeCache.txt"; }
fail() {
  echo "FAIL: $*" >&2
  exit 1
}
[[ $(cache CMAKE_BUILD_TYPE) == Release ]] || fail "CMAKE_BUILD_TYPE is '$(cache CMAKE_BUILD_TYPE)', not the parent's Release"
[[ $(cache SNAKEPIT_BUILD_TESTS) == OFF ]] || fail "SNAKEPIT_BUILD_TESTS defaults to $(cache SNAKEPIT_BUILD_TESTS) in a sub-project"
[[ $(cache SNAKEPIT_BUILD_EXAMPLES) == OFF ]] || fail "SNAKEPIT_BUILD_EXAMPLES defaults to $(cache SNAKEPIT_BUILD_EXAMPLES) in a sub-project"
[[ $(cache SNAKEPIT_WERROR) == OFF ]] || fail "SNAKEPIT_WERROR defaults to $(cache SNAKEPIT_WERROR) in a sub-project"

# Only the parent's own target, as `cmake --build . --target app` does.
cmake --build "$build" --target consumer

out=$(cd / && env -u SNAKEPIT_PYTHONPATH "$build/consumer")
echo "$out"
[[ $out == *'"native":true'* ]] || fail "the worker did not serve with the native transport"
echo "fetchcontent_consumer: OK (Release sub-project build, native transport)"
