#!/usr/bin/env bash
# install_consumer: installs snakepit from BUILD_DIR into a scratch prefix,
# moves that prefix elsewhere (relocation), builds the outside project in
# consumer/ against the moved tree with find_package(snakepit), runs it with
# SNAKEPIT_PYTHONPATH unset, and checks that the worker it started imported
# the worker package from the moved tree.
#   usage: run_install_test.sh BUILD_DIR
set -euo pipefail
build=$1
here=$(cd "$(dirname "$0")" && pwd)
scratch=$(mktemp -d "${TMPDIR:-/tmp}/snakepit-install.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

cmake --install "$build" --prefix "$scratch/first" >/dev/null
mv "$scratch/first" "$scratch/moved"
prefix="$scratch/moved"

test -f "$prefix/include/snakepit/snakepit.h"
test -f "$prefix/share/snakepit/python/snakepit_worker/_gen/snakepit/v1/worker_pb2.py"
# The native transport's modules (one per interpreter) go beside the package.
for module in "$build"/python/snakepit_worker/_native.*; do
  if [[ -e $module ]]; then test -f "$prefix/share/snakepit/python/snakepit_worker/${module##*/}"; fi
done
if grep -rlE '#include *[<"](grpc|google/protobuf)' "$prefix/include"; then
  echo "FAIL: an installed public header includes gRPC or protobuf" >&2
  exit 1
fi

cmake -S "$here/consumer" -B "$scratch/consumer-build" -G Ninja \
  -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$scratch/consumer-build" >/dev/null

# Run from an unrelated directory with no override, as an installed program.
out=$(cd / && env -u SNAKEPIT_PYTHONPATH "$scratch/consumer-build/consumer")
echo "$out"
expected="$prefix/share/snakepit/python"
if [[ ":${out#PYTHONPATH=}:" != *":$expected:"* ]]; then
  echo "FAIL: the worker's PYTHONPATH does not hold $expected" >&2
  exit 1
fi
echo "install_consumer: OK (worker package from $expected)"
