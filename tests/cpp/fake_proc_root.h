// FakeProcRoot: a test fixture holding a scratch folder laid out like
// /proc, for the code that reads /proc through a `proc_root` argument
// (process/proc_files.h and its users). Write() creates a file with its
// folders; the folder is removed after each test.
#ifndef SNAKEPIT_TESTS_CPP_FAKE_PROC_ROOT_H_
#define SNAKEPIT_TESTS_CPP_FAKE_PROC_ROOT_H_

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "gtest/gtest.h"

namespace snakepit::testing {

class FakeProcRoot : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = ::testing::TempDir() + "/fake_proc_XXXXXX";
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    root_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  // Writes `content` to <root>/<relative>, creating its folders.
  void Write(const std::string& relative, const std::string& content) {
    const std::filesystem::path path = std::filesystem::path(root_) / relative;
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path) << content;
  }

  std::string root_;
};

}  // namespace snakepit::testing

#endif  // SNAKEPIT_TESTS_CPP_FAKE_PROC_ROOT_H_
