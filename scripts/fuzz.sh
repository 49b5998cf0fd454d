#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz with clang (ASan+UBSan) in
# ./build-fuzz (or $SNAKEPIT_FUZZ_BUILD_DIR) and runs each for
# $SNAKEPIT_FUZZ_SECONDS seconds (default 60) over its corpus. A crash stops
# the run and leaves the input in tests/fuzz/regressions/<target>/: fix the
# bug and commit the file, and the ctest fuzz_replay_<target> keeps it fixed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${SNAKEPIT_FUZZ_BUILD_DIR:-$root/build-fuzz}
seconds=${SNAKEPIT_FUZZ_SECONDS:-60}
"$root/scripts/setup.sh"
# clang, and libFuzzer's runtime (libclang_rt.fuzzer) with the sanitizers'.
"$root/scripts/ensure_packages.sh" fuzz clang libclang-rt-14-dev
CC=clang CXX=clang++ cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DSNAKEPIT_SANITIZER=fuzzer -DSNAKEPIT_FUZZ=ON -DSNAKEPIT_BUILD_TESTS=OFF -DSNAKEPIT_BUILD_EXAMPLES=OFF >/dev/null
cmake --build "$build" --target config_fuzzer reply_fuzzer
for target in config reply; do
  corpus=$(mktemp -d)
  cp -r "$root/tests/fuzz/corpus/$target/." "$corpus/"
  echo "fuzz: $target for ${seconds}s"
  "$build/tests/fuzz/${target}_fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$root/tests/fuzz/regressions/$target/" "$corpus" 2>&1 | tail -5
  rm -rf "$corpus"
done
