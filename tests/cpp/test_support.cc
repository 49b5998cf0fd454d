#include "test_support.h"

#include <signal.h>
#include <sys/wait.h>

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <thread>

#include "common/mutex.h"
#include "gtest/gtest.h"

namespace snakepit::testing {

Config MakeConfig(std::vector<nlohmann::json> pools) {
  nlohmann::json doc = {{"pools", nlohmann::json::array()}};
  const char* transport = std::getenv("SNAKEPIT_TEST_WORKER_TRANSPORT");
  const char* python = std::getenv("SNAKEPIT_TEST_WORKER_PYTHON");
  for (nlohmann::json& p : pools) {
    if (transport != nullptr && *transport != '\0' && !p.contains("worker_transport"))
      p["worker_transport"] = transport;
    if (python != nullptr && *python != '\0' && !p.contains("python")) p["python"] = python;
    if (!p.contains("python_path")) p["python_path"] = {SNAKEPIT_TEST_ADAPTERS};
    if (!p.contains("startup_timeout")) p["startup_timeout"] = 20;
    if (!p.contains("kill_grace")) p["kill_grace"] = 2;
    if (!p.contains("drain_timeout")) p["drain_timeout"] = 5;
    doc["pools"].push_back(p);
  }
  absl::StatusOr<Config> config = Config::FromJson(doc);
  if (!config.ok()) {
    ADD_FAILURE() << "bad test config: " << config.status();
    return Config{};
  }
  return *config;
}

nlohmann::json WithFixtureAdapter(nlohmann::json pool) {
  pool["adapter"] = "fixtures:FixtureAdapter";
  // A pool with a python_path of its own gets no default one from
  // MakeConfig, so the adapter's directory is added here.
  nlohmann::json& path = pool["python_path"];
  if (path.is_null()) path = nlohmann::json::array();
  path.push_back(SNAKEPIT_TEST_ADAPTERS);
  return pool;
}

nlohmann::json ShmPool(nlohmann::json pool) {
  pool["worker_transport"] = "shm";
  return WithFixtureAdapter(std::move(pool));
}

std::unique_ptr<PoolManager> StartOrDie(const Config& config, EventHandler on_event) {
  absl::StatusOr<std::unique_ptr<PoolManager>> pools = PoolManager::Start(config, std::move(on_event));
  if (!pools.ok()) {
    ADD_FAILURE() << "PoolManager::Start failed: " << pools.status();
    return nullptr;
  }
  return *std::move(pools);
}

bool ProcessAlive(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return false;
  std::string line;
  std::getline(stat, line);
  // Field 3, after "pid (comm)", is the state; Z is a zombie.
  const size_t paren = line.rfind(')');
  return paren != std::string::npos && paren + 2 < line.size() && line[paren + 2] != 'Z';
}

bool WaitFor(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return condition();
}

std::vector<int> WorkerPids(PoolManager& pools, const std::string& pool) {
  std::vector<int> pids;
  absl::StatusOr<PoolStats> stats = pools.stats(pool);
  if (!stats.ok()) return pids;
  for (const WorkerStats& w : stats->per_worker) {
    if (w.state == WorkerState::kReady) pids.push_back(w.pid);
  }
  return pids;
}

struct EventLog::State {
  mutable internal::Mutex mu;
  std::vector<Event> events ABSL_GUARDED_BY(mu);
};

EventLog::EventLog() : state_(std::make_shared<State>()) {}

EventHandler EventLog::Handler() {
  return [state = state_](const Event& event) {
    internal::MutexLock lock(&state->mu);
    state->events.push_back(event);
  };
}

std::vector<Event> EventLog::Events() const {
  internal::MutexLock lock(&state_->mu);
  return state_->events;
}

std::vector<Event> EventLog::Of(EventType type, const std::string& reason) const {
  std::vector<Event> found;
  for (Event& e : Events()) {
    if (e.type == type && (reason.empty() || e.reason == reason)) found.push_back(std::move(e));
  }
  return found;
}

bool EventLog::WaitFor(EventType type, const std::string& reason, std::size_t count,
                       std::chrono::milliseconds timeout) const {
  return testing::WaitFor([&] { return Of(type, reason).size() >= count; }, timeout);
}

std::vector<pid_t> ZombieChildren() {
  std::vector<pid_t> zombies;
  const pid_t self = ::getpid();
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream stat(entry.path() / "stat");
    std::string line;
    if (!std::getline(stat, line)) continue;
    // "pid (comm) state ppid ...": comm may hold spaces, so parse after ')'.
    const auto close = line.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(line.substr(close + 1));
    char state = 0;
    pid_t ppid = 0;
    rest >> state >> ppid;
    if (ppid == self && state == 'Z') zombies.push_back(std::stoi(name));
  }
  return zombies;
}

std::string WorkerSocketDir(int pid) {
  std::ifstream cmdline("/proc/" + std::to_string(pid) + "/cmdline");
  std::string arg;
  bool next_is_listen = false;
  while (std::getline(cmdline, arg, '\0')) {
    if (next_is_listen && arg.rfind("unix:", 0) == 0) return std::filesystem::path(arg.substr(5)).parent_path();
    next_is_listen = arg == "--listen";
  }
  return "";
}

std::string SocketDir(PoolManager& pools, const std::string& pool) {
  for (int pid : WorkerPids(pools, pool)) {
    if (std::string dir = WorkerSocketDir(pid); !dir.empty()) return dir;
  }
  return "";
}

std::vector<std::string> SocketFiles(const std::string& dir) {
  std::vector<std::string> files;
  std::error_code ignored;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ignored)) {
    if (entry.path().extension() == ".sock") files.push_back(entry.path().filename());
  }
  std::sort(files.begin(), files.end());
  return files;
}

void ExpectCleanShutdown(PoolManager& pools, const EventLog& log, const std::string& socket_dir) {
  pools.shutdown();
  for (const Event& e : log.Of(EventType::kWorkerReady)) {
    EXPECT_FALSE(ProcessAlive(e.pid)) << "worker " << e.pool << "-" << e.worker_id << " (pid " << e.pid
                                      << ") outlived shutdown";
  }
  EXPECT_TRUE(ZombieChildren().empty()) << "zombie children left";
  EXPECT_FALSE(socket_dir.empty());
  EXPECT_TRUE(SocketFiles(socket_dir).empty()) << "socket files left in " << socket_dir;
}

std::int64_t VmRssBytes(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string key;
  while (status >> key) {
    if (key == "VmRSS:") {
      std::int64_t kb = 0;
      status >> kb;
      return kb * 1024;
    }
    status.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
  }
  return 0;
}

std::pair<int, std::string> RunCommand(const std::string& command) {
  std::string output;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return {-1, "popen failed"};
  char buf[4096];
  while (std::fgets(buf, sizeof buf, pipe) != nullptr) output += buf;
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

}  // namespace snakepit::testing
