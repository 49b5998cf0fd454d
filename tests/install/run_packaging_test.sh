#!/usr/bin/env bash
# packaging: the pkg-config file and the Debian package of BUILD_DIR.
#  1. pkg-config: installs into a scratch prefix and builds the outside
#     program tests/install/consumer/main.cc with nothing but
#     `c++ ... $(pkg-config --cflags --libs snakepit)`, then runs it with
#     SNAKEPIT_PYTHONPATH=$(pkg-config --variable=pythondir snakepit).
#  2. Debian package: `cpack -G DEB`; checks with `apt-get install -s` (a
#     simulation: nothing is installed) that its Depends resolve on this
#     system, extracts it with `dpkg -x` into a scratch root (not installed
#     system-wide: nothing to remove afterwards), and builds and runs the
#     CMake consumer (tests/install/consumer) against that root with
#     find_package(snakepit).
# Skips (exit 0, "SKIPPED:") without dpkg-deb, cpack, pkg-config or, for the
# apt-get simulation only, without root.
#   usage: run_packaging_test.sh BUILD_DIR
set -euo pipefail
build=$1
here=$(cd "$(dirname "$0")" && pwd)
for tool in pkg-config dpkg-deb cpack c++; do
  if ! command -v "$tool" >/dev/null; then
    echo "SKIPPED: $tool is not installed"
    exit 0
  fi
done
scratch=$(mktemp -d "${TMPDIR:-/tmp}/snakepit-packaging.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# 1. pkg-config, from a prefix the library was not configured for.
cmake --install "$build" --prefix "$scratch/prefix" >/dev/null
pc=$(find "$scratch/prefix" -name snakepit.pc -path '*/pkgconfig/*' | head -n 1)
[[ -n $pc ]] || fail "no snakepit.pc installed"
test -f "$scratch/prefix/share/doc/snakepit/LICENSE" || fail "LICENSE is not installed"
export PKG_CONFIG_PATH=${pc%/*}
# shellcheck disable=SC2046 # pkg-config's output is a list of flags
c++ -std=c++20 -o "$scratch/pc-consumer" "$here/consumer/main.cc" $(pkg-config --cflags --libs snakepit) ||
  fail "the consumer does not build with pkg-config --cflags --libs snakepit"
pythondir=$(pkg-config --variable=pythondir snakepit)
out=$(cd / && SNAKEPIT_PYTHONPATH=$pythondir "$scratch/pc-consumer")
[[ $out == *"$scratch/prefix/"*"/snakepit_worker/showcase.py"* ]] ||
  fail "the pkg-config consumer did not run the installed package: $out"
echo "packaging: pkg-config consumer OK"

# 2. The Debian package.
(cd "$scratch" && cpack --config "$build/CPackConfig.cmake" -G DEB -B "$scratch/deb" >/dev/null)
deb=$(find "$scratch/deb" -maxdepth 1 -name 'snakepit*.deb' | head -n 1)
[[ -n $deb ]] || fail "cpack made no .deb"
echo "packaging: $(basename "$deb"); Depends: $(dpkg-deb -f "$deb" Depends)"
if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
  apt-get install -s "$deb" >"$scratch/apt.log" 2>&1 || {
    cat "$scratch/apt.log" >&2
    fail "apt-get cannot install $deb: its Depends do not resolve"
  }
else
  echo "packaging: not root: the apt-get install simulation is skipped"
fi
dpkg -x "$deb" "$scratch/root"
prefix=$(dirname "$(dirname "$(find "$scratch/root" -path '*/include/snakepit/snakepit.h' | head -n 1)")")
prefix=${prefix%/include}
cmake -S "$here/consumer" -B "$scratch/deb-consumer" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$scratch/deb-consumer" >/dev/null
out=$(cd / && env -u SNAKEPIT_PYTHONPATH "$scratch/deb-consumer/consumer")
[[ $out == *"File \"$prefix/share/snakepit/python/snakepit_worker/showcase.py\""* ]] ||
  fail "the consumer of the extracted package did not run its worker package: $out"
echo "packaging: OK"
