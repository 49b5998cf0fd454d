#!/usr/bin/env bash
# install_consumer: installs snakepit from BUILD_DIR into a scratch prefix,
# moves that prefix elsewhere (relocation), builds the outside project in
# consumer/ against the moved tree with find_package(snakepit), runs it with
# SNAKEPIT_PYTHONPATH unset, and checks that the worker it started imported
# the worker package from the moved tree; then, with the installed package
# removed, that it does not fall back to BUILD_DIR's. With FT_PYTHON (the free-threaded
# interpreter the build found), it also checks that the installed package
# loads from .pyc files there: code compiled from source keeps mortal
# constants that 3.13t threads contend on (docs/free-threading.md).
#   usage: run_install_test.sh BUILD_DIR [FT_PYTHON]
set -euo pipefail
build=$1
ft_python=${2:-}
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

if [[ -n $ft_python ]]; then
  # -B: a fallback compile from source must not write the .pyc it lacked.
  # A constant of code loaded from a .pyc is immortal: its reference count
  # reads as 2**32 - 1 on 3.13t, and as a handful when compiled from source.
  refcount=$(cd / && "$ft_python" -I -B -c "
import sys
sys.path.insert(0, '$prefix/share/snakepit/python')
from snakepit_worker.showcase import ShowcaseAdapter
consts = ShowcaseAdapter.cpu_loop.__code__.co_consts
print(sys.getrefcount(next(c for c in consts if c == 1_000_000_007)))")
  if ((refcount < 1 << 30)); then
    echo "FAIL: $ft_python compiled the installed worker package from source" \
      "(a constant's reference count is $refcount, not immortal): no .pyc for it was installed" >&2
    exit 1
  fi
  echo "install_consumer: the installed package loads from .pyc files on $ft_python"
fi

cmake -S "$here/consumer" -B "$scratch/consumer-build" -G Ninja \
  -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$scratch/consumer-build" >/dev/null

# Run from an unrelated directory with no override, as an installed program.
out=$(cd / && env -u SNAKEPIT_PYTHONPATH "$scratch/consumer-build/consumer")
echo "$out"
expected="$prefix/share/snakepit/python"
if [[ $out != *"File \"$expected/snakepit_worker/showcase.py\""* ]]; then
  echo "FAIL: the worker did not run the default adapter from $expected" >&2
  exit 1
fi

# The installed library knows no build tree: with the installed package
# gone, the consumer must not fall back to BUILD_DIR's package (the build
# tree stays where it is, as on a developer's machine). It fails, listing
# where it looked, or finds another installed package, never BUILD_DIR's.
mv "$prefix/share/snakepit/python" "$prefix/share/snakepit/python.moved-away"
status=0
out=$(cd / && env -u SNAKEPIT_PYTHONPATH "$scratch/consumer-build/consumer" 2>&1) || status=$?
if [[ $out == *"$build/python"* ]]; then
  echo "$out" >&2
  echo "FAIL: without its installed package, the installed library used the build tree's ($build/python)" >&2
  exit 1
fi
if ((status != 0)) && [[ $out != *"snakepit_worker Python package was not found"* ]]; then
  echo "$out" >&2
  echo "FAIL: the consumer failed, but not for want of the worker package" >&2
  exit 1
fi
echo "install_consumer: OK (worker package from $expected; no fallback to the build tree)"
