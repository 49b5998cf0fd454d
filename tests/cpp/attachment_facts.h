// The end-to-end check that request attachments reach the command in
// place, without a copy: the fixtures' attachment_facts command
// (tests/python/adapters/fixtures.py) reports what it sees, and
// ExpectSeenInPlace checks that against what was sent, for the transport
// the test runs on ($SNAKEPIT_TEST_WORKER_TRANSPORT).
#ifndef SNAKEPIT_TESTS_CPP_ATTACHMENT_FACTS_H_
#define SNAKEPIT_TESTS_CPP_ATTACHMENT_FACTS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "nlohmann/json.hpp"

namespace snakepit::testing {

// Empty, 5 bytes, and 9 MiB (past a shared-memory ring) of varied bytes.
std::vector<std::string> InPlaceAttachments();

// zlib's CRC-32 of `bytes` (Python's zlib.crc32).
std::uint32_t Crc32(std::string_view bytes);

// The name of the type that owns the bytes a command's attachment views
// show on this test's transport: "bytes" on grpcio (protobuf's), else the
// native module's "AttachmentBuffer".
std::string ExpectedAttachmentOwner();

// Checks one view's facts (fixtures.view_facts) against `sent`:
// a read-only memoryview owned by ExpectedAttachmentOwner(), with the same
// size and CRC-32, which NumPy reads in place (where the worker has NumPy;
// required unless the workers run another interpreter).
void ExpectViewInPlace(const nlohmann::json& facts, const std::string& sent);

// Checks a call's facts (fixtures.call_facts) against `sent`: each
// view as above, and `attachments` the same bytes, kept.
void ExpectSeenInPlace(const nlohmann::json& facts, const std::vector<std::string>& sent);

}  // namespace snakepit::testing

#endif  // SNAKEPIT_TESTS_CPP_ATTACHMENT_FACTS_H_
