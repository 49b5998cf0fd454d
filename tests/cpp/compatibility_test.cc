// The thread-safety matrix compiled into the library and its reports.
#include "snakepit/compatibility.h"

#include <fstream>
#include <sstream>

#include "gtest/gtest.h"

namespace snakepit {
namespace {

TEST(CompatibilityMatrix, BuiltinHoldsTheDataFileTheWorkerReads) {
  std::ifstream in(SNAKEPIT_MATRIX_JSON);
  ASSERT_TRUE(in) << SNAKEPIT_MATRIX_JSON;
  std::stringstream text;
  text << in.rdbuf();
  absl::StatusOr<CompatibilityMatrix> file = CompatibilityMatrix::FromJson(text.str());
  ASSERT_TRUE(file.ok()) << file.status();
  const CompatibilityMatrix& builtin = CompatibilityMatrix::Builtin();
  ASSERT_EQ(builtin.libraries().size(), file->libraries().size());
  for (const char* name : {"numpy", "scipy", "torch", "tensorflow", "pandas", "polars", "scikit-learn", "xgboost",
                           "lightgbm", "transformers", "matplotlib", "sqlite3", "requests", "httpx"}) {
    const LibraryCompatibility* lib = builtin.Find(name);
    ASSERT_NE(lib, nullptr) << name;
    EXPECT_FALSE(lib->notes.empty()) << name;
    EXPECT_FALSE(lib->import_names.empty()) << name;
  }
  EXPECT_EQ(builtin.Find("matplotlib")->thread_safe, ThreadSafety::kUnsafe);
}

TEST(CompatibilityMatrix, FindsByImportNameAndIgnoresSpelling) {
  const CompatibilityMatrix& m = CompatibilityMatrix::Builtin();
  ASSERT_NE(m.Find("sklearn"), nullptr);
  EXPECT_EQ(m.Find("sklearn")->name, "scikit-learn");
  EXPECT_EQ(m.Find("Scikit_Learn"), m.Find("scikit-learn"));
  EXPECT_EQ(m.Find("no-such-library"), nullptr);
}

TEST(CompatibilityMatrix, ReportsOnARequirementsList) {
  const std::vector<CompatibilityEntry> report = CompatibilityMatrix::Builtin().Report({
      "# ML stack",
      "",
      "numpy>=2.2,<3",
      "scikit-learn[alldeps]==1.0 ; python_version > '3.8'",
      "matplotlib",
      "no-such-lib==1.0",
      "--index-url https://example.org/simple",
  });
  ASSERT_EQ(report.size(), 4u);
  EXPECT_EQ(report[0].name, "numpy");
  EXPECT_TRUE(report[0].known);
  EXPECT_EQ(report[0].version, "2.2");
  ASSERT_TRUE(report[0].meets_min_version.has_value());
  EXPECT_TRUE(*report[0].meets_min_version);  // numpy's free-threading minimum is 2.1.0
  EXPECT_EQ(report[1].name, "scikit-learn");
  EXPECT_EQ(report[1].version, "1.0");
  ASSERT_TRUE(report[1].meets_min_version.has_value());
  EXPECT_FALSE(*report[1].meets_min_version);
  EXPECT_EQ(report[2].thread_safe, ThreadSafety::kUnsafe);
  EXPECT_FALSE(report[2].meets_min_version.has_value());  // no version asked for
  EXPECT_FALSE(report[3].known);
  EXPECT_EQ(report[3].name, "no-such-lib");
  EXPECT_EQ(report[3].ToJson()["known"], false);
}

TEST(CompatibilityMatrix, ReportsOnInstalledPackagesItKnows) {
  const std::vector<CompatibilityEntry> report =
      CompatibilityMatrix::Builtin().ReportInstalled({{"numpy", "1.24.2"}, {"left-pad", "1.0"}});
  ASSERT_EQ(report.size(), 1u);
  EXPECT_EQ(report[0].version, "1.24.2");
  EXPECT_FALSE(*report[0].meets_min_version);
}

TEST(CompatibilityMatrix, FindsTheUnsafeLibrariesAmongLoadedOnesOnce) {
  const auto unsafe = CompatibilityMatrix::Builtin().UnsafeAmong(
      {{"httplib2", "0.20.4"}, {"numpy", "1.24.2"}, {"matplotlib", "3.6.3"}, {"Matplotlib", "3.6.3"}, {"x", ""}});
  // In the map's order ("Matplotlib" < "httplib2" < "matplotlib"); the
  // second spelling of matplotlib is the same library, not listed again.
  ASSERT_EQ(unsafe.size(), 2u);
  EXPECT_EQ(unsafe[0].first->name, "matplotlib");
  EXPECT_EQ(unsafe[1].first->name, "httplib2");
  EXPECT_EQ(unsafe[1].second, "0.20.4");
}

TEST(CompatibilityMatrix, RejectsAMalformedMatrixNamingTheLibrary) {
  absl::StatusOr<CompatibilityMatrix> bad =
      CompatibilityMatrix::FromJson(R"({"libraries": {"foo": {"thread_safe": "maybe"}}})");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("'foo'"), std::string::npos) << bad.status();
  EXPECT_FALSE(CompatibilityMatrix::FromJson("[1, 2").ok());
}

TEST(Versions, CompareNumerically) {
  EXPECT_GT(CompareVersions("1.10", "1.9"), 0);
  EXPECT_EQ(CompareVersions("2.1", "2.1.0"), 0);
  EXPECT_LT(CompareVersions("2.0.9", "2.1"), 0);
  EXPECT_EQ(CompareVersions("2.1rc1", "2.1"), 0);
  EXPECT_EQ(NormalizePackageName("Scikit__Learn.x"), "scikit-learn-x");
}

}  // namespace
}  // namespace snakepit
