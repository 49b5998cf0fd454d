#!/usr/bin/env bash
# The README's benchmark command: set up, build the bench/ programs in
# ./build-bench (or $SNAKEPIT_BENCH_BUILD_DIR, Release), run every scenario
# of docs/performance.md, and write bench/results/latest.json plus the PNG
# plots and tables next to it. Sized for a 2-core machine: about 7-9 minutes.
#
#   ./scripts/bench.sh                 # everything
#   ./scripts/bench.sh --quick         # shorter runs, for checking the plumbing
#   ./scripts/bench.sh --only transport,free_threading
#                                      # those pool scenarios again (names as in
#                                      # snakepit_bench), merged into the last
#                                      # full run's results (report.py --merge)
#
# Scenario 11 (free_threading) runs on a free-threaded CPython 3.13t: the one
# CMake finds (cmake/SnakepitFreeThreaded.cmake), else it records that it was
# skipped. SNAKEPIT_FREE_THREADED=1 first builds (once) that interpreter and
# hands it to CMake as SNAKEPIT_FREE_THREADED_PYTHON (scripts/configure.sh,
# docs/free-threading.md).
# $SNAKEPIT_BENCH_RESULTS picks another output folder (default bench/results).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${SNAKEPIT_BENCH_BUILD_DIR:-$root/build-bench}
results=${SNAKEPIT_BENCH_RESULTS:-$root/bench/results}
python=/usr/bin/python3  # Debian's: the one with grpcio, numpy, matplotlib
quick=()
only=
while (($#)); do
  case $1 in
    --quick) quick=(--quick) ;;
    --only)
      only=${2:?--only needs a list of scenario names}
      shift
      ;;
    *)
      echo "usage: $0 [--quick] [--only NAME,...]" >&2
      exit 2
      ;;
  esac
  shift
done
if [[ -n $only && ! -f $results/raw/scenarios.json ]]; then
  echo "bench: --only merges into a full run's results; run ./scripts/bench.sh once first" >&2
  exit 2
fi

started=$(date +%s)
"$root/scripts/setup.sh"

# What the benchmarks need on top of the project's packages.
"$root/scripts/ensure_packages.sh" bench pybind11-dev python3-dev python3-matplotlib

# Release at -O2, as Debian builds its packages: GCC 12 at -O3 reports a
# false -Wrestrict (GCC bug 105329) in std::string code, which -Werror
# turns into a build failure.
"$root/scripts/configure.sh" "$build" -DCMAKE_BUILD_TYPE=Release "-DCMAKE_CXX_FLAGS_RELEASE=-O2 -DNDEBUG" \
  -DSNAKEPIT_BUILD_BENCH=ON -DSNAKEPIT_BUILD_TESTS=OFF -DSNAKEPIT_BUILD_EXAMPLES=OFF
# Only the bench programs (and the library and worker package they need).
cmake --build "$build" --parallel "$(nproc)" --target snakepit_bench_all
built=$(date +%s)

# The figures are only as good as the machine is quiet: say so if it is not.
load=$(cut -d' ' -f1 /proc/loadavg)
if awk -v l="$load" 'BEGIN {exit !(l > 0.5)}'; then
  echo "bench: warning: load average $load before the run; other work on this machine inflates the figures"
fi

mkdir -p "$results/raw"
# The workers run the build tree's package, whatever else is installed.
export SNAKEPIT_PYTHONPATH=$build/python
bin=$build/bench

pool_scenarios=("$bin/snakepit_bench" --python-path "$build/python" --echo-server "$bin/snakepit_bench_echo"
  --embed "$bin/snakepit_bench_embed" --script "$root/bench/python/cpu_loop_script.py" "${quick[@]}")
if [[ -n $only ]]; then
  echo "bench: pool scenarios $only"
  "${pool_scenarios[@]}" --only "$only" --out "$results/raw/scenarios-only.json"
  finished=$(date +%s)
  echo "bench: report"
  "$python" "$root/bench/python/report.py" --raw "$results/raw" --out "$results" \
    --merge "$results/raw/scenarios-only.json" \
    --command "./scripts/bench.sh${quick:+ ${quick[*]}} --only $only" --build-seconds $((built - started)) \
    --run-seconds $((finished - built))
  echo "bench: done in $(($(date +%s) - started)) s; results in $results"
  exit 0
fi

echo "bench: machine"
"$python" "$root/bench/python/machine_info.py" >"$results/raw/machine.json"
echo "bench: no-op call micro-benchmarks (scenarios 1, 2)"
"$bin/snakepit_micro" --python-path "$build/python" --echo-server "$bin/snakepit_bench_echo" "${quick[@]}" \
  --benchmark_out="$results/raw/micro.json" --benchmark_out_format=json
echo "bench: pool scenarios (3-11)"
"${pool_scenarios[@]}" --out "$results/raw/scenarios.json"
finished=$(date +%s)

echo "bench: report"
"$python" "$root/bench/python/report.py" --raw "$results/raw" --out "$results" \
  --command "./scripts/bench.sh${quick:+ ${quick[*]}}" --build-seconds $((built - started)) \
  --run-seconds $((finished - built))
echo "bench: done in $(($(date +%s) - started)) s; results in $results"
