#include "netns_hosts.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/unique_fd.h"

namespace snakepit::testing {
namespace {

std::string& Error() {
  static std::string error = "EnterPrivateNetwork() was not called";
  return error;
}

std::string HostsPath() { return absl::StrCat("/tmp/snakepit-netns-hosts-", ::getpid()); }

std::string Errno(const char* what) { return absl::StrCat(what, ": ", std::strerror(errno)); }

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

std::string EnterPrivateNetwork() {
  if (::geteuid() != 0) return Error() = "not root: network namespaces need root";
  if (::unshare(CLONE_NEWNET | CLONE_NEWNS) != 0) return Error() = Errno("unshare(CLONE_NEWNET | CLONE_NEWNS)");
  // Nothing mounted from now on shows outside this process's namespace.
  if (::mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
    return Error() = Errno("mount --make-rprivate /");
  ::mkdir("/run/netns", 0755);
  if (::mount("tmpfs", "/run/netns", "tmpfs", 0, "mode=0755") != 0) return Error() = Errno("mount tmpfs /run/netns");
  const std::string hosts = HostsPath();
  {
    std::ofstream out(hosts);
    out << "127.0.0.1 localhost\n";
  }
  if (::mount(hosts.c_str(), "/etc/hosts", nullptr, MS_BIND, nullptr) != 0) return Error() = Errno("bind /etc/hosts");
  ::unlink(hosts.c_str());  // the bind mount keeps the file; nothing is left on disk
  if (std::system("ip link set lo up") != 0) return Error() = "ip link set lo up failed";
  return Error() = "";
}

const std::string& PrivateNetworkError() { return Error(); }

void SetHosts(const std::vector<std::pair<std::string, std::string>>& entries) {
  std::string text = "127.0.0.1 localhost\n";
  for (const auto& [address, name] : entries) absl::StrAppend(&text, address, " ", name, "\n");
  // In place: the bind mount follows the inode, so no rename.
  std::ofstream out("/etc/hosts", std::ios::trunc);
  out << text;
}

absl::Status Sh(const std::string& command) {
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return absl::InternalError(Errno("popen"));
  std::string output;
  char buffer[1024];
  while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) output += buffer;
  const int status = ::pclose(pipe);
  if (status == 0) return absl::OkStatus();
  return absl::InternalError(absl::StrCat(command, " failed (wait status ", status, "): ", output));
}

absl::StatusOr<std::unique_ptr<NetnsHost>> NetnsHost::Create(const std::string& name, int subnet, int addresses) {
  std::unique_ptr<NetnsHost> host(new NetnsHost(name, subnet));
  const std::string ours = absl::StrCat("v", name), theirs = absl::StrCat("e", name);
  std::vector<std::string> commands = {
      absl::StrCat("ip netns add ", name),
      absl::StrCat("ip link add ", ours, " type veth peer name ", theirs, " netns ", name),
      absl::StrCat("ip addr add 10.77.", subnet, ".1/24 dev ", ours),
      absl::StrCat("ip link set ", ours, " up"),
      absl::StrCat("ip -n ", name, " link set lo up"),
      absl::StrCat("ip -n ", name, " link set ", theirs, " up"),
  };
  for (int i = 0; i < addresses; ++i) {
    commands.push_back(absl::StrCat("ip -n ", name, " addr add ", host->address(i), "/24 dev ", theirs));
  }
  for (const std::string& command : commands) {
    if (absl::Status status = Sh(command); !status.ok()) return status;
  }
  return host;
}

NetnsHost::~NetnsHost() {
  for (auto& server : servers_) {
    server->KillWithDescendants();
    server->WaitForExit(absl::Now() + absl::Seconds(5));
  }
  (void)Sh(absl::StrCat("ip link del v", name_, " 2>/dev/null; true"));
  (void)Sh(absl::StrCat("ip netns del ", name_));
}

std::string NetnsHost::address(int i) const { return absl::StrCat("10.77.", subnet_, ".", 2 + i); }

absl::Status NetnsHost::Serve(int i, int port, const std::vector<std::string>& flags, const std::string& python,
                              const std::string& pythonpath) {
  const std::string log = absl::StrCat("/tmp/snakepit-netns-", ::getpid(), "-", name_, "-", i, ".log");
  internal::UniqueFd out(::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  internal::SpawnRequest request;
  request.executable = "/usr/sbin/ip";
  request.argv = {"ip", "netns",           "exec",  name_,      python,
                  "-m", "snakepit_worker", "serve", "--listen", absl::StrCat(address(i), ":", port)};
  request.argv.insert(request.argv.end(), flags.begin(), flags.end());
  request.env = {absl::StrCat("PYTHONPATH=", pythonpath), "PATH=/usr/sbin:/usr/bin:/sbin:/bin"};
  request.output_fd = out.get();
  auto child = internal::ChildProcess::Spawn(request);
  if (!child.ok()) return child.status();
  servers_.push_back(*std::move(child));
  logs_.push_back(log);
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (ReadFile(log).find("\"ok\": true") == std::string::npos) {
    if (absl::Now() > deadline) {
      return absl::UnavailableError(absl::StrCat("worker server in ", name_, " not ready; its log:\n", ReadFile(log)));
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  return absl::OkStatus();
}

absl::Status NetnsHost::Unplug() { return Sh(absl::StrCat("ip link del v", name_)); }

bool NetnsHost::TerminateServers(int grace_s) {
  bool clean = true;
  for (auto& server : servers_) server->Signal(SIGTERM);
  for (auto& server : servers_) {
    const std::optional<internal::ExitInfo> info = server->WaitForExit(absl::Now() + absl::Seconds(grace_s + 5));
    clean = clean && info && info->signal == 0 && info->exit_code == 0;
  }
  return clean;
}

}  // namespace snakepit::testing
