// snakepit_bench_embed: the pybind11 baseline of scenario 9. The
// interpreter runs inside this C++ process; `threads` C++ threads call
// cpu_loop(n) from cpu_loop_script.py, each taking the GIL for the call.
// On a GIL interpreter they take turns, so 2 threads should do about what
// 1 does.
//
//   snakepit_bench_embed --module-dir DIR --n N --threads T --seconds S
//
// Prints one JSON line: {"threads", "n", "calls", "seconds", "calls_per_s",
// "cpu_cores"}.
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "nlohmann/json.hpp"
#include "pybind11/embed.h"

namespace py = pybind11;

namespace {

double CpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  std::string module_dir = ".";
  int n = 10'000, threads = 2;
  double seconds = 2;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--module-dir") module_dir = argv[i + 1];
    if (flag == "--n") n = std::atoi(argv[i + 1]);
    if (flag == "--threads") threads = std::atoi(argv[i + 1]);
    if (flag == "--seconds") seconds = std::atof(argv[i + 1]);
  }
  py::scoped_interpreter interpreter;
  py::module_::import("sys").attr("path").attr("insert")(0, module_dir);
  py::object cpu_loop = py::module_::import("cpu_loop_script").attr("cpu_loop");
  cpu_loop(n);  // warm: the first call pays for imports and caches

  std::atomic<long> calls{0};
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  const double cpu_before = CpuSeconds();
  const auto started = std::chrono::steady_clock::now();
  {
    // The main thread lets go of the GIL; each call takes it.
    py::gil_scoped_release release;
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&] {
        while (std::chrono::steady_clock::now() < deadline) {
          py::gil_scoped_acquire gil;
          cpu_loop(n);
          calls.fetch_add(1, std::memory_order_relaxed);
        }
      });
    }
    for (std::thread& t : pool) t.join();
  }
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const nlohmann::json out = {{"threads", threads},
                              {"n", n},
                              {"calls", calls.load()},
                              {"seconds", elapsed},
                              {"calls_per_s", static_cast<double>(calls.load()) / elapsed},
                              {"cpu_cores", (CpuSeconds() - cpu_before) / elapsed}};
  std::printf("%s\n", out.dump().c_str());
  return 0;
}
