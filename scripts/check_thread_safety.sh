#!/usr/bin/env bash
# Compiles the library and its tests with clang's -Wthread-safety -Werror
# (SNAKEPIT_THREAD_SAFETY), so that every lock annotation (ABSL_GUARDED_BY,
# ABSL_EXCLUSIVE_LOCKS_REQUIRED, ...) is checked, not just written. GCC, the
# main build's compiler, ignores them. Build folder: $SNAKEPIT_TSA_BUILD_DIR
# or ./build-thread-safety; ccache keeps reruns short.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${SNAKEPIT_TSA_BUILD_DIR:-$root/build-thread-safety}
"$root/scripts/ensure_packages.sh" thread-safety clang
"$root/scripts/configure.sh" "$build" -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Debug \
  -DSNAKEPIT_THREAD_SAFETY=ON -DSNAKEPIT_WERROR=ON -DSNAKEPIT_BUILD_EXAMPLES=OFF
# The library's layers and the test support are where the locks are; the
# test programs add nothing the analysis checks beyond the fakes.
cmake --build "$build" --parallel "$(nproc)" --target snakepit snakepit_test_support pool_policy_test \
  lifecycle_policy_test
echo "thread-safety analysis: clean"
