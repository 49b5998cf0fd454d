#!/usr/bin/env bash
# Installs everything snakepit-cpp needs to build, test and run, from
# Debian's packages (scripts/ensure_packages.sh installs only the missing
# ones; when all are there it only asks dpkg, well under a second).
set -euo pipefail

PACKAGES=(
  cmake ninja-build g++ pkg-config clang-format
  # Compiler cache: CI's clean clones and the extra builds reuse objects.
  ccache
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libabsl-dev libspdlog-dev nlohmann-json3-dev
  # HTTP for the metrics endpoint and `snakepit inspect --url`.
  libcpp-httplib-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  # Command-line parsing for the `snakepit` tool (header-only).
  libcli11-dev
  # The worker's interpreter is Debian's /usr/bin/python3; these are its
  # modules (PyPI is not used).
  python3 python3-grpcio python3-protobuf python3-numpy python3-psutil
  python3-threadpoolctl python3-pytest python3-prometheus-client
  # The linter and type checker the python_lint and python_typecheck tests run.
  flake8 mypy
  # Headers for the native worker transport, a CPython extension module.
  python3-dev
  # A library the thread-safety matrix marks unsafe, for the diagnostics tests.
  python3-httplib2
  # Remote pools: the manifests test parses deploy/kubernetes/ (yaml); the
  # namespace tests create network namespaces and veth pairs (ip) and
  # certificates (openssl).
  python3-yaml iproute2 openssl
  # Without OpenBLAS, numpy uses the reference BLAS and thread pinning has
  # nothing to pin.
  libopenblas0-pthread
)

exec "$(dirname "$0")/ensure_packages.sh" setup "${PACKAGES[@]}"
