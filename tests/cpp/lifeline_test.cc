// Orphans: when the host process dies, even by SIGKILL (no destructor, no
// atexit), every worker it started exits within 2 s through its lifeline,
// and the last one out removes the host's socket directory. So does a
// pool's worker template, and every worker forked from it.
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <set>
#include <string>

#include "gtest/gtest.h"
#include "test_support.h"

extern char** environ;

namespace snakepit {
namespace {

// Starts snakepit_test_host with `config`, SIGKILLs it once its pools are
// ready, and expects every worker and template it started (and its socket
// directory) gone within 2 s. `workers` and `templates`: how many the host
// reports.
void KillHostAndExpectNothingLeft(const nlohmann::json& config, size_t workers, size_t templates) {
  int out[2];
  ASSERT_EQ(::pipe(out), 0);
  posix_spawn_file_actions_t actions;
  ::posix_spawn_file_actions_init(&actions);
  ::posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  ::posix_spawn_file_actions_addclose(&actions, out[0]);
  const std::string host = SNAKEPIT_TEST_HOST;
  const std::string config_text = config.dump();
  char* argv[] = {const_cast<char*>(host.c_str()), const_cast<char*>(config_text.c_str()), nullptr};
  pid_t host_pid = 0;
  ASSERT_EQ(::posix_spawn(&host_pid, host.c_str(), &actions, nullptr, argv, environ), 0);
  ::posix_spawn_file_actions_destroy(&actions);
  ::close(out[1]);

  // Read the pid line (bounded by the host's own start-up timeout).
  std::string line;
  char c;
  while (::read(out[0], &c, 1) == 1 && c != '\n') line.push_back(c);
  ::close(out[0]);
  nlohmann::json reply = nlohmann::json::parse(line, nullptr, false);
  ASSERT_TRUE(reply.is_object()) << "host printed: " << line;
  std::vector<int> pids = reply["pids"].get<std::vector<int>>();
  ASSERT_EQ(pids.size(), workers);
  const std::set<int> template_pids = reply["templates"].get<std::set<int>>();
  ASSERT_EQ(template_pids.size(), templates);
  pids.insert(pids.end(), template_pids.begin(), template_pids.end());
  for (int pid : pids) ASSERT_TRUE(testing::ProcessAlive(pid)) << pid;
  // From the address, not the command line: a forked worker's is its
  // template's.
  const std::string address = reply["addresses"][0].get<std::string>();
  ASSERT_TRUE(address.starts_with("unix:")) << address;
  const std::string socket_dir = std::filesystem::path(address.substr(5)).parent_path();

  ASSERT_EQ(::kill(host_pid, SIGKILL), 0);
  ASSERT_EQ(::waitpid(host_pid, nullptr, 0), host_pid);
  const auto killed = std::chrono::steady_clock::now();
  for (int pid : pids) {
    EXPECT_TRUE(testing::WaitFor(
        [pid] { return !testing::ProcessAlive(pid); },
        std::chrono::milliseconds(2000) -
            std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - killed)))
        << "process " << pid << " outlived its host by more than 2 s";
  }
  // Nobody is left to remove the socket directory but the workers.
  EXPECT_TRUE(testing::WaitFor([&] { return !std::filesystem::exists(socket_dir); }, std::chrono::milliseconds(2000)))
      << socket_dir << " outlived the host and its workers";
}

TEST(Lifeline, WorkersExitWhenTheHostIsKilled) {
  KillHostAndExpectNothingLeft(
      {{"pools",
        {{{"name", "proc"}, {"profile", "process"}, {"pool_size", 3}},
         {{"name", "thr"}, {"profile", "thread"}, {"pool_size", 1}, {"threads_per_worker", 2}}}}},
      4, 0);
}

// The template's lifeline is its control socket; its forked workers have
// their own lifelines, as spawned ones do.
TEST(Lifeline, TemplateAndForkedWorkersExitWhenTheHostIsKilled) {
  KillHostAndExpectNothingLeft(
      {{"pools", {{{"name", "proc"}, {"profile", "process"}, {"pool_size", 3}, {"start_method", "template"}}}}}, 3, 1);
}

}  // namespace
}  // namespace snakepit
