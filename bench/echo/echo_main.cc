// snakepit_bench_echo: the baseline servers, in a process of their own so
// that their CPU time is theirs and not the client's.
//
//   snakepit_bench_echo --grpc unix:/path --raw /path2 [--ready-fd N]
//
// Writes "ready\n" to fd N (default stdout) once both listen; exits on
// SIGTERM/SIGINT, or when its parent dies.
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "echo/grpc_echo.h"
#include "echo/raw_echo.h"

int main(int argc, char** argv) {
  // A benchmark that crashes must not leave its servers behind.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  std::string grpc_target, raw_path;
  int ready_fd = STDOUT_FILENO;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--grpc") grpc_target = argv[i + 1];
    if (flag == "--raw") raw_path = argv[i + 1];
    if (flag == "--ready-fd") ready_fd = std::atoi(argv[i + 1]);
  }
  if (grpc_target.empty() || raw_path.empty()) {
    std::fprintf(stderr, "usage: %s --grpc unix:/path --raw /path [--ready-fd N]\n", argv[0]);
    return 2;
  }
  // Signals are taken with sigwait below, on this thread only.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  constexpr int kMaxMessage = 256 << 20;  // above the 64 MiB payloads and their framing
  std::unique_ptr<grpc::Server> server = snakepit::bench::StartGrpcEcho(grpc_target, kMaxMessage);
  if (server == nullptr) {
    std::fprintf(stderr, "cannot listen on %s\n", grpc_target.c_str());
    return 1;
  }
  if (absl::Status raw = snakepit::bench::StartRawEcho(raw_path); !raw.ok()) {
    std::fprintf(stderr, "%s\n", raw.ToString().c_str());
    return 1;
  }
  if (::write(ready_fd, "ready\n", 6) != 6) return 1;
  if (ready_fd != STDOUT_FILENO) ::close(ready_fd);
  int signal = 0;
  sigwait(&stop, &signal);
  server->Shutdown();
  // The raw echo threads are detached; exiting ends them.
  std::_Exit(0);
}
