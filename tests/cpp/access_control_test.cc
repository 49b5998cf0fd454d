// Nobody else can talk to our workers: the socket directory is private to
// our uid (0700), each socket file is 0600, and a process of another uid
// can neither list the directory nor connect to a worker.
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "gtest/gtest.h"
#include "test_support.h"

namespace snakepit {
namespace {

// Runs `python_code` as user nobody (setpriv, so the test must run as
// root); returns its exit status and output.
std::pair<int, std::string> RunAsNobody(const std::string& python_code) {
  const std::string cmd = "setpriv --reuid=nobody --regid=nogroup --clear-groups " + std::string(SNAKEPIT_TEST_PYTHON) +
                          " -c '" + python_code + "'";
  return testing::RunCommand(cmd);
}

TEST(AccessControl, SocketDirectoryAndFilesArePrivate) {
  auto pools = testing::StartOrDie(testing::MakeConfig({{{"name", "p"}, {"pool_size", 2}}}));
  const std::string dir = testing::SocketDir(*pools, "p");
  struct stat st {};
  ASSERT_EQ(::stat(dir.c_str(), &st), 0) << dir;
  EXPECT_EQ(st.st_mode & 0777, 0700u) << dir;
  EXPECT_EQ(st.st_uid, ::geteuid());
  const std::vector<std::string> sockets = testing::SocketFiles(dir);
  ASSERT_EQ(sockets.size(), 2u);
  for (const std::string& name : sockets) {
    const std::string s = dir + "/" + name;
    ASSERT_EQ(::stat(s.c_str(), &st), 0) << s;
    EXPECT_TRUE(S_ISSOCK(st.st_mode)) << s;
    EXPECT_EQ(st.st_mode & 0777, 0600u) << s;
  }
}

TEST(AccessControl, AnotherUserCannotReachTheWorkers) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to run a probe as another user (setpriv)";
  auto pools = testing::StartOrDie(testing::MakeConfig({{{"name", "p"}, {"pool_size", 1}}}));
  const std::string dir = testing::SocketDir(*pools, "p");
  const std::string socket = dir + "/" + testing::SocketFiles(dir).at(0);
  // The probe tries to list the directory and to connect; it prints what
  // happened and exits 0 only if both were refused.
  const auto [status, out] = RunAsNobody(
      "import os, socket, sys\n"
      "results = []\n"
      "try:\n"
      "    os.listdir(\"" +
      dir +
      "\"); results.append(\"listed\")\n"
      "except PermissionError: results.append(\"list refused\")\n"
      "s = socket.socket(socket.AF_UNIX)\n"
      "try:\n"
      "    s.connect(\"" +
      socket +
      "\"); results.append(\"connected\")\n"
      "except PermissionError: results.append(\"connect refused\")\n"
      "print(results); sys.exit(0 if results == [\"list refused\", \"connect refused\"] else 1)\n");
  EXPECT_EQ(status, 0) << out;
  EXPECT_NE(out.find("connect refused"), std::string::npos) << out;
  // We, the owner, still can.
  EXPECT_TRUE(pools->execute("p", "ping").ok());
}

}  // namespace
}  // namespace snakepit
