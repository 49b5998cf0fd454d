#include "attachment_facts.h"

#include <cstdlib>

#include "gtest/gtest.h"

namespace snakepit::testing {

std::vector<std::string> InPlaceAttachments() {
  std::string big(9 << 20, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 131 % 251);
  return {"", "hello", std::move(big)};
}

std::uint32_t Crc32(std::string_view bytes) {
  std::uint32_t crc = 0xFFFFFFFFu;
  for (const char c : bytes) {
    crc ^= static_cast<unsigned char>(c);
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

std::string ExpectedAttachmentOwner() {
  const char* transport = std::getenv("SNAKEPIT_TEST_WORKER_TRANSPORT");
  return transport != nullptr && std::string(transport) == "grpcio" ? "bytes" : "AttachmentBuffer";
}

void ExpectViewInPlace(const nlohmann::json& facts, const std::string& sent) {
  SCOPED_TRACE("attachment of " + std::to_string(sent.size()) + " bytes: " + facts.dump());
  EXPECT_EQ(facts.value("view", ""), "memoryview");
  EXPECT_EQ(facts.value("owner", ""), ExpectedAttachmentOwner()) << "the bytes were copied on their way to Python";
  EXPECT_EQ(facts.value("readonly", false), true);
  EXPECT_EQ(facts.value("size", -1), static_cast<std::int64_t>(sent.size()));
  EXPECT_EQ(facts.value("crc32", std::uint64_t{0}), Crc32(sent)) << "the bytes changed";
  if (!facts.contains("numpy")) {
    EXPECT_NE(std::getenv("SNAKEPIT_TEST_WORKER_PYTHON"), nullptr) << "the worker's interpreter has no NumPy";
    return;
  }
  const nlohmann::json& numpy = facts["numpy"];
  EXPECT_EQ(numpy.value("writeable", true), false);
  EXPECT_EQ(numpy.value("owndata", true), false) << "numpy.frombuffer copied the view";
  if (!sent.empty()) {
    EXPECT_EQ(numpy.value("same_address", false), true) << "numpy.frombuffer did not read the view in place";
  }
  std::uint64_t sum = 0;
  for (const char c : sent) sum += static_cast<unsigned char>(c);
  EXPECT_EQ(numpy.value("sum", std::uint64_t{0}), sum);
}

void ExpectSeenInPlace(const nlohmann::json& facts, const std::vector<std::string>& sent) {
  ASSERT_TRUE(facts.contains("views") && facts["views"].is_array()) << facts.dump();
  ASSERT_EQ(facts["views"].size(), sent.size());
  for (std::size_t i = 0; i < sent.size(); ++i) ExpectViewInPlace(facts["views"][i], sent[i]);
  EXPECT_EQ(facts.value("bytes", nlohmann::json()), nlohmann::json(std::vector<bool>(sent.size(), true)))
      << "current_call().attachments differs from its views";
  EXPECT_EQ(facts.value("bytes_kept", false), true) << "current_call().attachments was built twice";
}

}  // namespace snakepit::testing
