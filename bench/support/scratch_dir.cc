#include "support/scratch_dir.h"

#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <system_error>

namespace snakepit::bench {

ScratchDir::ScratchDir() {
  // Not "snakepit-...": a worker whose lifeline closes removes its socket's
  // directory when that is named like the library's private socket
  // directories ("snakepit-" prefix, python/snakepit_worker/lifeline.py) and
  // empty, which took this folder away between scenarios.
  char name[] = "/tmp/snakepit_bench-XXXXXX";
  if (::mkdtemp(name) == nullptr) {
    std::perror("mkdtemp");
    std::abort();
  }
  path_ = name;
}

ScratchDir::~ScratchDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

}  // namespace snakepit::bench
