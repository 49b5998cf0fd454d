// Tests of ReadProcessTreeMemory: real Python processes (one, a parent with a
// child, a child forked from a non-main thread) checked against VmRSS read
// independently from /proc/<pid>/status; missing pids and zombies; and a
// hand-written proc_root for parsing, cycles, vanished processes and the cap.
#include "lifecycle/proc_memory.h"

#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/unique_fd.h"
#include "fake_proc_root.h"
#include "gtest/gtest.h"
#include "process/child_process.h"
#include "test_support.h"

namespace snakepit::internal {
namespace {

constexpr std::int64_t kMiB = std::int64_t{1} << 20;
constexpr auto kReadyTimeout = std::chrono::seconds(60);

std::string Str(absl::string_view s) { return std::string(s.data(), s.size()); }

// Passes when `status` has `code` and its message contains `part`.
::testing::AssertionResult FailsWith(const absl::Status& status, absl::StatusCode code, const std::string& part) {
  if (status.code() == code && Str(status.message()).find(part) != std::string::npos) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << "got " << status << "\n  want code " << absl::StatusCodeToString(code)
                                       << " containing: " << part;
}

// VmRSS of `pid` from /proc/<pid>/status, in bytes; -1 if unreadable.
std::int64_t VmRssBytes(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6)) * 1024;
  }
  return -1;
}

// Whether `measured` is within 10% or 4 MiB (whichever is larger) of `expected`.
::testing::AssertionResult Near(std::int64_t measured, std::int64_t expected) {
  const std::int64_t tolerance = std::max(expected / 10, 4 * kMiB);
  if (std::abs(measured - expected) <= tolerance) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << measured << " bytes is not within " << tolerance << " of " << expected;
}

// A running python3 whose stdout and stderr come back through `output`.
// The destructor SIGKILLs the whole process group (ChildProcess gives the
// child its own group, and subprocesses inherit it) before ChildProcess's
// own destructor reaps the leader, so nothing outlives a test, even a failed
// one; the leader is not reaped yet, so the group id cannot be recycled.
struct Python {
  std::unique_ptr<ChildProcess> process;
  UniqueFd output;
  ~Python() {
    if (process != nullptr) ::kill(-process->pid(), SIGKILL);
  }
  pid_t pid() const { return process->pid(); }

  // The first output line starting with "ready", waiting at most
  // kReadyTimeout; on failure the error carries all output read so far.
  absl::StatusOr<std::string> ReadReady() {
    const auto deadline = std::chrono::steady_clock::now() + kReadyTimeout;
    std::string all, line;
    while (true) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      pollfd pfd{output.get(), POLLIN, 0};
      if (left.count() <= 0 || ::poll(&pfd, 1, static_cast<int>(left.count())) == 0) {
        return absl::DeadlineExceededError("no ready line; output: " + all);
      }
      char c;
      if (::read(output.get(), &c, 1) != 1) return absl::UnavailableError("python exited; output: " + all);
      all.push_back(c);
      if (c != '\n') {
        line.push_back(c);
      } else if (line.rfind("ready", 0) == 0) {
        return line;
      } else {
        line.clear();
      }
    }
  }
};

absl::StatusOr<std::unique_ptr<Python>> StartPython(const std::vector<std::string>& args) {
  auto pipe = MakePipe();
  if (!pipe.ok()) return pipe.status();
  SpawnRequest request;
  request.executable = "/usr/bin/python3";
  request.argv = {"python3", "-c"};
  request.argv.insert(request.argv.end(), args.begin(), args.end());
  request.env = {"PATH=/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE=1"};
  request.output_fd = pipe->write.get();
  auto python = std::make_unique<Python>();
  auto process = ChildProcess::Spawn(request);
  if (!process.ok()) return process.status();
  python->process = std::move(*process);
  python->output = std::move(pipe->read);
  return python;
}

// Allocates and touches argv[1] MiB, says "ready", then lives 120 s, or
// until its stdin closes when that is a pipe (a grandchild: when its parent
// dies), so it cannot outlive the test.
constexpr char kAllocate[] = R"(
import os, select, stat, sys, time
b = bytearray(int(sys.argv[1]) * 1024 * 1024)
for i in range(0, len(b), 4096):
    b[i] = 1
print("ready", flush=True)
if stat.S_ISFIFO(os.fstat(0).st_mode):
    select.select([sys.stdin], [], [], 120)
else:
    time.sleep(120)
)";

// Starts kAllocate (argv[1]) for argv[2] MiB as a child, forked from the main
// thread or, when argv[3] == "thread", from another thread that stays alive;
// waits for the child's "ready", then prints "ready <child pid>".
constexpr char kParent[] = R"(
import subprocess, sys, threading, time
children = []
def spawn():
    children.append(subprocess.Popen([sys.executable, "-c", sys.argv[1], sys.argv[2]],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE))
    time.sleep(120)
if sys.argv[3] == "thread":
    threading.Thread(target=spawn, daemon=True).start()
    for _ in range(3000):
        if children:
            break
        time.sleep(0.01)
else:
    children.append(subprocess.Popen([sys.executable, "-c", sys.argv[1], sys.argv[2]],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE))
if children[0].stdout.readline().strip() != b"ready":
    sys.exit("child failed")
print("ready", children[0].pid, flush=True)
time.sleep(120)
)";

TEST(ProcMemory, MeasuresAPythonProcessLikeVmRss) {
  auto python = StartPython({kAllocate, "200"});
  ASSERT_TRUE(python.ok()) << python.status();
  auto ready = (*python)->ReadReady();
  ASSERT_TRUE(ready.ok()) << ready.status();
  const pid_t pid = (*python)->pid();

  const std::int64_t vm_rss = VmRssBytes(pid);
  auto memory = ReadProcessTreeMemory(pid);
  ASSERT_TRUE(memory.ok()) << memory.status();
  std::cout << "[ figures  ] single: rss=" << memory->rss_bytes / kMiB << " MiB pss=" << memory->pss_bytes / kMiB
            << " MiB VmRSS=" << vm_rss / kMiB << " MiB processes=" << memory->processes << "\n";
  EXPECT_EQ(memory->processes, 1);
  EXPECT_GE(memory->rss_bytes, 200 * kMiB);
  EXPECT_TRUE(Near(memory->rss_bytes, vm_rss));
  EXPECT_GT(memory->pss_bytes, 0);
  EXPECT_LE(memory->pss_bytes, memory->rss_bytes);
  // The 200 MiB are private, so they count in full in PSS too.
  EXPECT_GE(memory->pss_bytes, 200 * kMiB);
}

// Parent + child, the child forked from the main thread or from another one.
void CheckTree(const std::string& fork_from) {
  auto python = StartPython({kParent, kAllocate, "100", fork_from});
  ASSERT_TRUE(python.ok()) << python.status();
  auto ready = (*python)->ReadReady();
  ASSERT_TRUE(ready.ok()) << ready.status();
  const pid_t parent = (*python)->pid();
  const pid_t child = std::stoi(ready->substr(6));

  const std::int64_t parent_rss = VmRssBytes(parent);
  const std::int64_t child_rss = VmRssBytes(child);
  auto tree = ReadProcessTreeMemory(parent);
  ASSERT_TRUE(tree.ok()) << tree.status();
  auto child_only = ReadProcessTreeMemory(child);
  ASSERT_TRUE(child_only.ok()) << child_only.status();
  std::cout << "[ figures  ] tree (" << fork_from << "): rss=" << tree->rss_bytes / kMiB
            << " MiB pss=" << tree->pss_bytes / kMiB << " MiB processes=" << tree->processes
            << "; VmRSS parent=" << parent_rss / kMiB << " MiB child=" << child_rss / kMiB << " MiB\n";
  EXPECT_EQ(tree->processes, 2);
  EXPECT_EQ(child_only->processes, 1);
  EXPECT_GE(tree->rss_bytes, parent_rss + 100 * kMiB);
  EXPECT_TRUE(Near(tree->rss_bytes, parent_rss + child_rss));
  EXPECT_LE(tree->pss_bytes, tree->rss_bytes);
  EXPECT_GE(tree->pss_bytes, child_only->pss_bytes);
  EXPECT_GE(child_only->pss_bytes, 100 * kMiB);
}

TEST(ProcMemory, IncludesAChildProcess) { CheckTree("main"); }

TEST(ProcMemory, IncludesAChildForkedByANonMainThread) { CheckTree("thread"); }

TEST(ProcMemory, ConcurrentReadsAllSucceed) {
  auto python = StartPython({kAllocate, "1"});
  ASSERT_TRUE(python.ok()) << python.status();
  auto ready = (*python)->ReadReady();
  ASSERT_TRUE(ready.ok()) << ready.status();
  const pid_t pid = (*python)->pid();
  std::vector<int> failures(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        auto memory = ReadProcessTreeMemory(pid);
        if (!memory.ok() || memory->processes != 1 || memory->rss_bytes <= 0) ++failures[t];
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int t = 0; t < 4; ++t) EXPECT_EQ(failures[t], 0) << "thread " << t;
}

TEST(ProcMemory, MissingPidIsNotFound) {
  // Pids are below pid_max, so pid_max itself never exists.
  std::ifstream pid_max_file("/proc/sys/kernel/pid_max");
  int pid_max = 0;
  ASSERT_TRUE(pid_max_file >> pid_max);
  const std::string pid = std::to_string(pid_max);
  EXPECT_TRUE(FailsWith(ReadProcessTreeMemory(pid_max).status(), absl::StatusCode::kNotFound, "process " + pid));
  EXPECT_TRUE(FailsWith(ReadProcessTreeMemory(0).status(), absl::StatusCode::kNotFound, "process 0"));
  EXPECT_TRUE(FailsWith(ReadProcessTreeMemory(-1).status(), absl::StatusCode::kNotFound, "process -1"));
}

TEST(ProcMemory, ZombieIsNotFound) {
  SpawnRequest request;
  request.executable = "/bin/true";
  request.argv = {"true"};
  auto process = ChildProcess::Spawn(request);
  ASSERT_TRUE(process.ok()) << process.status();
  const pid_t pid = (*process)->pid();
  // Not reaped: it stays a zombie until the ChildProcess is destroyed.
  ASSERT_TRUE(testing::WaitFor([pid] { return !testing::ProcessAlive(pid); }, std::chrono::seconds(10)));
  ASSERT_TRUE(std::filesystem::exists("/proc/" + std::to_string(pid)));
  EXPECT_TRUE(
      FailsWith(ReadProcessTreeMemory(pid).status(), absl::StatusCode::kNotFound, "process " + std::to_string(pid)));
}

// --- A hand-written proc_root -------------------------------------------

std::string Rollup(int rss_kib, int pss_kib) {
  // The shape of a real smaps_rollup, with keys that share a prefix with
  // "Pss:" and "Rss:" around the real ones.
  return absl::StrCat("55e2641cd000-7ffdf4eb5000 ---p 00000000 00:00 0                          [rollup]\n",
                      "Rss:          ", rss_kib, " kB\n", "Pss:          ", pss_kib, " kB\n",
                      "Pss_Dirty:           112 kB\nPss_Anon:            112 kB\nPss_File:            162 kB\n"
                      "Shared_Clean:       1500 kB\nSwapPss:               0 kB\n");
}

class FakeProc : public testing::FakeProcRoot {
 protected:
  // A process with one thread (tid == pid) and the given children.
  void Process(int pid, int rss_kib, int pss_kib, const std::string& children) {
    Write(absl::StrCat(pid, "/smaps_rollup"), Rollup(rss_kib, pss_kib));
    Write(absl::StrCat(pid, "/task/", pid, "/children"), children);
  }
};

TEST_F(FakeProc, SumsTheTreeAcrossThreadsAndSkipsCyclesAndVanishedProcesses) {
  Process(100, 1000, 600, "101 102 ");
  Write("100/task/105/children", "103\n109\n");  // a second thread's children
  Write("100/task/106/children", "");            // a thread without children
  Process(101, 200, 150, "100 102 101 107");     // the root, a sibling, itself
  Process(102, 30, 20, "104");
  // 103: listed but gone (no directory).
  Write("104/smaps_rollup", "");  // lost its memory while being read
  // 107: its smaps_rollup is gone but task/ is left; skipped with its child.
  Write("107/task/107/children", "108");
  Process(108, 5, 5, "");
  Process(109, 7, 3, "");

  auto memory = ReadProcessTreeMemory(100, root_);
  ASSERT_TRUE(memory.ok()) << memory.status();
  EXPECT_EQ(memory->processes, 4);  // 100, 101, 102, 109
  EXPECT_EQ(memory->rss_bytes, (1000 + 200 + 30 + 7) * 1024);
  EXPECT_EQ(memory->pss_bytes, (600 + 150 + 20 + 3) * 1024);

  // A subtree on its own.
  memory = ReadProcessTreeMemory(102, root_);
  ASSERT_TRUE(memory.ok()) << memory.status();
  EXPECT_EQ(memory->processes, 1);
  EXPECT_EQ(memory->rss_bytes, 30 * 1024);
}

TEST_F(FakeProc, ProcessWithoutTaskDirectoryHasNoChildren) {
  Write("7/smaps_rollup", Rollup(8, 4));
  auto memory = ReadProcessTreeMemory(7, root_);
  ASSERT_TRUE(memory.ok()) << memory.status();
  EXPECT_EQ(memory->processes, 1);
  EXPECT_EQ(memory->rss_bytes, 8 * 1024);
  EXPECT_EQ(memory->pss_bytes, 4 * 1024);
}

TEST_F(FakeProc, MissingOrEmptyRootIsNotFound) {
  EXPECT_TRUE(FailsWith(ReadProcessTreeMemory(42, root_).status(), absl::StatusCode::kNotFound, "process 42"));
  Write("43/smaps_rollup", "");
  EXPECT_TRUE(FailsWith(ReadProcessTreeMemory(43, root_).status(), absl::StatusCode::kNotFound, "process 43"));
}

TEST_F(FakeProc, MalformedRollupIsInternalNamingTheFile) {
  const std::string file = root_ + "/5/smaps_rollup";
  const std::vector<std::string> bad = {
      "Rss: 10 kB\n",                           // no Pss line
      "Pss: 10 kB\n",                           // no Rss line
      "Rss: ten kB\nPss: 1 kB\n",               // not a number
      "Rss: 10 MB\nPss: 1 kB\n",                // not kB
      "Rss: -10 kB\nPss: 1 kB\n",               // negative
      "Rss: 10 kB\nPss_Anon: 1 kB\n",           // only a look-alike key
      "Rss: 9999999999999999 kB\nPss: 1 kB\n",  // implausibly large
  };
  for (const std::string& content : bad) {
    Write("5/smaps_rollup", content);
    EXPECT_TRUE(FailsWith(ReadProcessTreeMemory(5, root_).status(), absl::StatusCode::kInternal, file)) << content;
  }
}

TEST_F(FakeProc, MalformedChildrenIsInternalNamingTheFile) {
  Process(5, 1, 1, "6 x7");
  EXPECT_TRUE(
      FailsWith(ReadProcessTreeMemory(5, root_).status(), absl::StatusCode::kInternal, root_ + "/5/task/5/children"));
  Process(5, 1, 1, "-6");
  EXPECT_FALSE(ReadProcessTreeMemory(5, root_).ok());
}

TEST_F(FakeProc, DirectoryInPlaceOfAFileIsInternalNamingTheFile) {
  // read() of a directory fails with EISDIR.
  Process(5, 1, 1, "6");
  std::filesystem::create_directories(std::filesystem::path(root_) / "6/smaps_rollup");
  EXPECT_TRUE(
      FailsWith(ReadProcessTreeMemory(5, root_).status(), absl::StatusCode::kInternal, root_ + "/6/smaps_rollup"));
}

TEST_F(FakeProc, UnreadableFileIsPermissionDeniedNamingTheFile) {
  Process(5, 1, 1, "6");
  Process(6, 1, 1, "");
  const std::string file = root_ + "/6/smaps_rollup";
  ASSERT_EQ(::chmod(root_.c_str(), 0755), 0);
  ASSERT_EQ(::chmod(file.c_str(), 0), 0);
  if (::geteuid() != 0) {
    EXPECT_TRUE(FailsWith(ReadProcessTreeMemory(5, root_).status(), absl::StatusCode::kPermissionDenied, file));
    return;
  }
  // Root reads files whatever their mode: check in a child that gave up
  // root. The test is single-threaded here, so fork is safe.
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (::setresgid(65534, 65534, 65534) != 0 || ::setresuid(65534, 65534, 65534) != 0) ::_exit(2);
    const absl::Status status = ReadProcessTreeMemory(5, root_).status();
    ::_exit(FailsWith(status, absl::StatusCode::kPermissionDenied, file) ? 0 : 1);
  }
  int wait_status = -1;
  const bool exited =
      testing::WaitFor([&] { return ::waitpid(pid, &wait_status, WNOHANG) == pid; }, std::chrono::seconds(10));
  if (!exited) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &wait_status, 0);
  }
  ASSERT_TRUE(exited);
  ASSERT_TRUE(WIFEXITED(wait_status));
  EXPECT_NE(WEXITSTATUS(wait_status), 2) << "could not drop root";
  EXPECT_EQ(WEXITSTATUS(wait_status), 0) << "not PERMISSION_DENIED naming " << file;
}

TEST_F(FakeProc, TreeIsCappedAtMaxProcesses) {
  // Every child is a symlink to one process directory (no task/, so no
  // grandchildren): cheap to create in the thousands.
  Write("template/smaps_rollup", Rollup(1, 1));
  std::string children;
  for (int pid = 2; pid < 2 + kMaxTreeProcesses + 100; ++pid) {
    absl::StrAppend(&children, pid, " ");
    std::filesystem::create_directory_symlink("template", std::filesystem::path(root_) / std::to_string(pid));
  }
  Process(1, 1, 1, children);
  auto memory = ReadProcessTreeMemory(1, root_);
  ASSERT_TRUE(memory.ok()) << memory.status();
  EXPECT_EQ(memory->processes, kMaxTreeProcesses);
  EXPECT_EQ(memory->rss_bytes, std::int64_t{kMaxTreeProcesses} * 1024);
}

}  // namespace
}  // namespace snakepit::internal
