#!/usr/bin/env bash
# shared_consumer: snakepit built as a shared library (-DSNAKEPIT_SHARED=ON)
# in BUILD_DIR (kept between runs: a rerun is incremental, and ccache
# serves the objects the main build compiled, with the same flags), then
#  1. installed into a scratch prefix: lib/libsnakepit.so (and its
#     versioned names), no static archive;
#  2. its dynamic symbol table (nm -D --defined-only) holds the public API
#     (snakepit::PoolManager::Start...) and nothing of gRPC, protobuf, the
#     generated snakepit::v1 code or snakepit::internal;
#  3. the outside project tests/install/consumer, built with
#     find_package(snakepit), runs a real pool through the shared library
#     (ldd shows the installed one) and its worker imports the installed
#     package;
#  4. the same program built with `pkg-config --cflags --libs snakepit`
#     runs likewise.
#   usage: run_shared_test.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
source_dir=$1
build=$2
here=$(cd "$(dirname "$0")" && pwd)
scratch=$(mktemp -d "${TMPDIR:-/tmp}/snakepit-shared.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# The main build's flags (scripts/build.sh), so ccache has every object.
"$source_dir/scripts/configure.sh" "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSNAKEPIT_WERROR=ON \
  -DSNAKEPIT_SHARED=ON -DSNAKEPIT_BUILD_TESTS=OFF -DSNAKEPIT_BUILD_EXAMPLES=OFF >/dev/null
cmake --build "$build" --parallel "$(nproc)" >/dev/null
prefix="$scratch/prefix"
cmake --install "$build" --prefix "$prefix" >/dev/null
libdir=$(dirname "$(find "$prefix" -name 'libsnakepit.so' | head -n 1)")
[[ -L $libdir/libsnakepit.so ]] || fail "no libsnakepit.so installed"
[[ ! -e $libdir/libsnakepit.a ]] || fail "a shared build installed libsnakepit.a too"
so=$(readlink -f "$libdir/libsnakepit.so")
echo "shared_consumer: $(basename "$so"), soname $(objdump -p "$so" | awk '$1 == "SONAME" {print $2}')"

# 2. Only the public API is exported.
nm -D --defined-only "$so" | awk '{print $3}' | c++filt >"$scratch/symbols"
echo "shared_consumer: $(wc -l <"$scratch/symbols") exported symbols"
if grep -E 'grpc|protobuf|google::|snakepit::v1::|snakepit::internal::|snakepit::cli::' "$scratch/symbols" \
  >"$scratch/leaked"; then
  head -n 20 "$scratch/leaked" >&2
  fail "libsnakepit.so exports $(wc -l <"$scratch/leaked") gRPC, protobuf or internal symbols (first above)"
fi
for public in 'snakepit::PoolManager::Start(' 'snakepit::Config::FromJsonFile(' 'snakepit::Inspector::Inspect()' \
  'snakepit::GetPythonError(' 'snakepit::set_logger('; do
  grep -qF "$public" "$scratch/symbols" || fail "libsnakepit.so does not export $public"
done

# 3. find_package consumer.
cmake -S "$here/consumer" -B "$scratch/consumer-build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$scratch/consumer-build" >/dev/null
# ldd's output is read whole before it is searched: under pipefail, a
# `ldd | grep -q` fails whenever grep's early exit makes ldd die of SIGPIPE.
loaded=$(ldd "$scratch/consumer-build/consumer")
grep -qF "$so" <<<"$loaded" || grep -qF "$libdir/libsnakepit.so" <<<"$loaded" ||
  fail "the consumer does not load $libdir/libsnakepit.so: $(grep snakepit <<<"$loaded")"
out=$(cd / && env -u SNAKEPIT_PYTHONPATH "$scratch/consumer-build/consumer")
[[ $out == *"File \"$prefix/share/snakepit/python/snakepit_worker/showcase.py\""* ]] ||
  fail "the find_package consumer did not run the installed worker package: $out"
echo "shared_consumer: find_package consumer OK"

# 4. pkg-config consumer (the library's run-time path given by the link).
export PKG_CONFIG_PATH=$libdir/pkgconfig
# shellcheck disable=SC2046 # pkg-config's output is a list of flags
c++ -std=c++20 -o "$scratch/pc-consumer" "$here/consumer/main.cc" $(pkg-config --cflags --libs snakepit) \
  "-Wl,-rpath,$libdir" || fail "the consumer does not build with pkg-config --cflags --libs snakepit"
pythondir=$(pkg-config --variable=pythondir snakepit)
out=$(cd / && SNAKEPIT_PYTHONPATH=$pythondir "$scratch/pc-consumer")
[[ $out == *"$prefix/share/snakepit/python/snakepit_worker/showcase.py"* ]] ||
  fail "the pkg-config consumer did not run the installed package: $out"
echo "shared_consumer: OK"
