// ScratchDir: a private temporary directory for the benchmark's sockets,
// removed with everything in it by the destructor.
#ifndef SNAKEPIT_BENCH_SUPPORT_SCRATCH_DIR_H_
#define SNAKEPIT_BENCH_SUPPORT_SCRATCH_DIR_H_

#include <string>

namespace snakepit::bench {

class ScratchDir {
 public:
  // Under /tmp (Unix socket paths must stay short). Aborts the program if
  // it cannot be made: nothing can be measured without it.
  ScratchDir();
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::string& path() const { return path_; }
  // path()/name.
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace snakepit::bench

#endif  // SNAKEPIT_BENCH_SUPPORT_SCRATCH_DIR_H_
