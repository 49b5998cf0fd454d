// "Did you mean": the edit distance and the choice of a suggestion
// (src/cli/suggest.h). The end-to-end checks are in cli_test.sh.
#include "cli/suggest.h"

#include <gtest/gtest.h>

namespace snakepit::cli {
namespace {

TEST(EditDistance, CountsInsertionsDeletionsSubstitutionsAndSwaps) {
  EXPECT_EQ(EditDistance("", ""), 0u);
  EXPECT_EQ(EditDistance("run", "run"), 0u);
  EXPECT_EQ(EditDistance("", "run"), 3u);
  EXPECT_EQ(EditDistance("rn", "run"), 1u);               // insertion
  EXPECT_EQ(EditDistance("runn", "run"), 1u);             // deletion
  EXPECT_EQ(EditDistance("ran", "run"), 1u);              // substitution
  EXPECT_EQ(EditDistance("--wrokers", "--workers"), 1u);  // swap of neighbours
  EXPECT_EQ(EditDistance("doctor", "inspect"), 7u);
}

const std::vector<std::string> kCommands = {"doctor", "inspect", "run"};
const std::vector<std::string> kFlags = {"--help",   "--config",           "--workers",   "--timeout",
                                         "--attach", "--save-attachments", "--log-level", "--verbose"};

TEST(Suggest, TheNearestCommand) {
  EXPECT_EQ(Suggest("docter", kCommands), "doctor");
  EXPECT_EQ(Suggest("inpsect", kCommands), "inspect");
  EXPECT_EQ(Suggest("rnu", kCommands), "run");
}

TEST(Suggest, TheNearestFlag) {
  EXPECT_EQ(Suggest("--wrokers", kFlags), "--workers");
  EXPECT_EQ(Suggest("--timout", kFlags), "--timeout");
  EXPECT_EQ(Suggest("--loglevel", kFlags), "--log-level");
  EXPECT_EQ(Suggest("--save-attachment", kFlags), "--save-attachments");
}

TEST(Suggest, APrefixOfThreeCharactersOrMore) {
  EXPECT_EQ(Suggest("--work", kFlags), "--workers");
  EXPECT_EQ(Suggest("insp", kCommands), "inspect");
  EXPECT_EQ(Suggest("do", kCommands), std::nullopt);  // too short to guess from
}

TEST(Suggest, NothingWhenNothingIsNear) {
  EXPECT_EQ(Suggest("frobnicate", kCommands), std::nullopt);
  EXPECT_EQ(Suggest("--no-such-option", kFlags), std::nullopt);
  EXPECT_EQ(Suggest("x", kCommands), std::nullopt);
  EXPECT_EQ(Suggest("run", {}), std::nullopt);
}

TEST(Suggest, NeverTheWordItself) { EXPECT_EQ(Suggest("run", {"run"}), std::nullopt); }

}  // namespace
}  // namespace snakepit::cli
