// The command-line flags the bench programs share (scripts/bench.sh passes
// them). Arguments not recognised here are returned untouched, so that
// Google Benchmark can read its own --benchmark_* flags.
#ifndef SNAKEPIT_BENCH_SUPPORT_FLAGS_H_
#define SNAKEPIT_BENCH_SUPPORT_FLAGS_H_

#include <string>
#include <vector>

namespace snakepit::bench {

struct BenchFlags {
  std::string python = "/usr/bin/python3";  // --python: the workers' interpreter
  std::string python_path;                  // --python-path: build-tree worker package
  // --ft-python: a free-threaded interpreter (scenario 11). Default: the one
  // CMake found (SNAKEPIT_FT_PYTHON); empty when there was none.
  std::string ft_python;
  std::string echo_server;  // --echo-server: snakepit_bench_echo
  std::string embed;        // --embed: snakepit_bench_embed
  std::string script;       // --script: cpu_loop_script.py
  std::string out;          // --out: where the JSON goes
  std::string only;         // --only: comma-separated scenario names
  bool quick = false;       // --quick: short runs, to check the plumbing
};

// Parses argv; exits with a message on a missing value. `rest` gets
// argv[0] and every argument it did not know.
BenchFlags ParseFlags(int argc, char** argv, std::vector<char*>* rest);

}  // namespace snakepit::bench

#endif  // SNAKEPIT_BENCH_SUPPORT_FLAGS_H_
