// The descendant walk (src/process/process_tree.h) over a fake /proc, and
// KillDescendants over a fake system whose tree keeps forking. The real
// thing, with real workers, is tests/cpp/descendants_test.cc.
#include "process/process_tree.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "fake_proc_root.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace snakepit::internal {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

using FakeProcTree = testing::FakeProcRoot;

TEST_F(FakeProcTree, ListsEveryThreadsChildrenRecursivelyOnceEach) {
  Write("100/task/100/children", "101 102 ");
  Write("100/task/105/children", "103\n109\n");       // a second thread's children
  Write("100/task/106/children", "");                 // a thread without children
  Write("101/task/101/children", "100 102 101 107");  // the root, a sibling, itself
  Write("102/task/102/children", "104");
  // 103: listed but gone (no directory): listed, no children.
  Write("107/task/107/children", "108");
  Write("108/task/108/children", "");
  auto found = ListDescendants(100, root_);
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_THAT(*found, UnorderedElementsAre(101, 102, 103, 109, 107, 104, 108));
  // Breadth-first: the root's children come first.
  EXPECT_THAT(std::vector<pid_t>(found->begin(), found->begin() + 4), UnorderedElementsAre(101, 102, 103, 109));

  found = ListDescendants(102, root_);
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_THAT(*found, ElementsAre(104));
}

TEST_F(FakeProcTree, GoneProcessHasNoDescendants) {
  auto found = ListDescendants(42, root_);
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_THAT(*found, IsEmpty());
}

TEST_F(FakeProcTree, MalformedChildrenFileIsInternalNamingTheFile) {
  Write("7/task/7/children", "8 x9");
  auto found = ListDescendants(7, root_);
  EXPECT_EQ(found.status().code(), absl::StatusCode::kInternal);
  EXPECT_THAT(found.status().message(), ::testing::HasSubstr("7/task/7/children: malformed pid 'x9'"));
}

TEST_F(FakeProcTree, AHugeTreeIsCutAtTheLimit) {
  std::string children;
  for (int i = 0; i < kMaxDescendants + 10; ++i) absl::StrAppend(&children, 10'000 + i, " ");
  Write("1/task/1/children", children);
  auto found = ListDescendants(1, root_);
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(found->size(), static_cast<std::size_t>(kMaxDescendants));
}

TEST_F(FakeProcTree, RealProcHasOurOwnChild) {
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::pause();
    ::_exit(0);
  }
  auto found = ListDescendants(::getpid());
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_THAT(*found, ::testing::Contains(child));
}

// A tree that grows while it is walked: every process that has not been
// stopped when the tree is listed forks a child right after the listing,
// as a process in a fork loop would, for `generations` generations (a
// fork bomb with no end when that is large).
class ForkingTree : public ProcessSignaller {
 public:
  ForkingTree(std::vector<pid_t> initial, int generations) : live_(std::move(initial)), generations_(generations) {}

  absl::StatusOr<std::vector<pid_t>> Descendants(pid_t) override {
    std::vector<pid_t> listed = live_;
    if (listings_++ < generations_) {
      for (pid_t p : listed) {
        if (!stopped(p)) live_.push_back(next_++);  // forks before it is stopped
      }
    }
    return listed;
  }
  void Signal(pid_t pid, int sig) override { signals_.emplace_back(pid, sig); }

  bool stopped(pid_t pid) const { return Sent(pid, SIGSTOP); }
  bool killed(pid_t pid) const { return Sent(pid, SIGKILL); }
  bool Sent(pid_t pid, int sig) const {
    for (const auto& [p, s] : signals_) {
      if (p == pid && s == sig) return true;
    }
    return false;
  }

  std::vector<pid_t> live_;
  std::vector<std::pair<pid_t, int>> signals_;
  const int generations_;
  int listings_ = 0;
  pid_t next_ = 1000;
};

TEST(KillDescendants, StopsEveryoneFirstAndKillsAllIncludingLateForks) {
  ForkingTree tree({10, 11, 12}, 5);
  const int killed = KillDescendants(1, tree);
  // Every process that ever appeared was stopped, then killed; no SIGKILL
  // came before the last SIGSTOP.
  EXPECT_EQ(killed, static_cast<int>(tree.live_.size()));
  EXPECT_GT(tree.live_.size(), 3u);  // the forks made before the stops were found too
  for (pid_t p : tree.live_) {
    EXPECT_TRUE(tree.stopped(p)) << p;
    EXPECT_TRUE(tree.killed(p)) << p;
  }
  bool killing = false;
  for (const auto& [p, s] : tree.signals_) {
    if (s == SIGKILL) killing = true;
    if (killing) {
      EXPECT_EQ(s, SIGKILL) << "a SIGSTOP after the first SIGKILL, to " << p;
    }
  }
}

TEST(KillDescendants, AnEndlessForkLoopIsCutAfterBoundedPassesAndAllFoundAreKilled) {
  ForkingTree tree({10}, 1'000'000);
  const int killed = KillDescendants(1, tree);
  EXPECT_EQ(killed, 64);  // one new process per pass, 64 passes
  EXPECT_EQ(tree.listings_, 64);
  for (pid_t p = 1000; p < 1000 + 63; ++p) EXPECT_TRUE(tree.killed(p)) << p;
}

TEST(KillDescendants, NoDescendantsSendsNothing) {
  ForkingTree tree({}, 0);
  EXPECT_EQ(KillDescendants(1, tree), 0);
  EXPECT_THAT(tree.signals_, IsEmpty());
}

}  // namespace
}  // namespace snakepit::internal
