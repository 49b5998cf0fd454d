#!/usr/bin/env bash
# Installs everything snakepit-cpp needs to build, test and run, from
# Debian's packages. Idempotent: when every package is already installed it
# only asks dpkg (well under a second) and changes nothing.
set -euo pipefail

PACKAGES=(
  cmake ninja-build g++ pkg-config clang-format
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libabsl-dev libspdlog-dev nlohmann-json3-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  # The worker's interpreter is Debian's /usr/bin/python3; these are its
  # modules (PyPI is not used).
  python3 python3-grpcio python3-protobuf python3-numpy python3-psutil
  python3-threadpoolctl python3-pytest python3-prometheus-client
  # Headers for the native worker transport, a CPython extension module.
  python3-dev
  # A library the thread-safety matrix marks unsafe, for the diagnostics tests.
  python3-httplib2
  # Without OpenBLAS, numpy uses the reference BLAS and thread pinning has
  # nothing to pin.
  libopenblas0-pthread
)

# dpkg-query exits non-zero when any package is unknown to dpkg; that just
# means "missing", so its status is ignored here.
installed=$( (dpkg-query -W -f='${Package} ${db:Status-Status}\n' "${PACKAGES[@]}" 2>/dev/null || true) |
  awk '$2 == "installed" {print $1}')
missing=()
for p in "${PACKAGES[@]}"; do
  grep -qx "$p" <<<"$installed" || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
  echo "setup: all ${#PACKAGES[@]} packages present"
  exit 0
fi

echo "setup: installing ${missing[*]}"
sudo=()
if [[ $(id -u) -ne 0 ]]; then sudo=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null
