// Network namespaces as the "hosts" of remote workers, for the remote-pool
// tests and benchmark (docs/remote.md). Everything stays private to the
// test process: EnterPrivateNetwork() gives it a network namespace and a
// mount namespace of its own, so the namespaces it creates (their
// /run/netns is a tmpfs of that mount namespace), its veth pairs, its
// addresses (10.77.0.0/16, inside those namespaces only) and the hosts
// file it edits vanish with the process, even when it crashes. Needs root;
// callers skip with the reason EnterPrivateNetwork() gives otherwise.
// Shared by tests/cpp/remote_pool_test.cc and the benchmark's "remote"
// scenario; no gtest here.
#ifndef SNAKEPIT_TESTS_CPP_NETNS_HOSTS_H_
#define SNAKEPIT_TESTS_CPP_NETNS_HOSTS_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "process/child_process.h"

namespace snakepit::testing {

// Call first thing in main(), while the process has one thread (unshare
// applies to the calling thread only). "" once the process is in its
// private network, else why not ("not root", an unshare error).
std::string EnterPrivateNetwork();
// What EnterPrivateNetwork() returned ("" once in).
const std::string& PrivateNetworkError();

// Rewrites the private /etc/hosts in place: "address name" lines.
void SetHosts(const std::vector<std::pair<std::string, std::string>>& entries);

// One namespace `name` joined to ours by a veth pair on subnet
// 10.77.<subnet>.0/24: ours is .1, the namespace has .2, .3, ... (one per
// address asked for).
class NetnsHost {
 public:
  // INTERNAL naming the command and its output when one fails.
  static absl::StatusOr<std::unique_ptr<NetnsHost>> Create(const std::string& name, int subnet, int addresses);
  ~NetnsHost();  // kills its servers, deletes the namespace
  NetnsHost(const NetnsHost&) = delete;
  NetnsHost& operator=(const NetnsHost&) = delete;

  std::string address(int i) const;  // "10.77.<subnet>.<2 + i>"
  // Starts `python3 -m snakepit_worker serve --listen <address(i)>:<port>
  // <flags>` inside the namespace with `python` and the worker package in
  // `pythonpath`, and waits (20 s) for its readiness record; UNAVAILABLE
  // with the server's log if it does not come.
  absl::Status Serve(int i, int port, const std::vector<std::string>& flags, const std::string& python,
                     const std::string& pythonpath);
  // Deletes the veth pair: the host vanishes without a word (no FIN, no
  // RST), like a node that loses power.
  absl::Status Unplug();
  // SIGTERMs every server and waits (up to `grace` + 5 s) for each to exit; true if all exited 0.
  bool TerminateServers(int grace_s);

 private:
  NetnsHost(std::string name, int subnet) : name_(std::move(name)), subnet_(subnet) {}

  const std::string name_;
  const int subnet_;
  std::vector<std::unique_ptr<internal::ChildProcess>> servers_;
  std::vector<std::string> logs_;
};

// Runs `command` with /bin/sh; INTERNAL with its output unless it exits 0.
absl::Status Sh(const std::string& command);

}  // namespace snakepit::testing

#endif  // SNAKEPIT_TESTS_CPP_NETNS_HOSTS_H_
