// ShmChannel: messages both ways, fragmentation of messages larger than a
// ring, senders on several threads, a receive deadline in the middle of a
// message, and a peer that breaks the format. No Python; label "unit".
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "shm/shm_channel.h"
#include "shm/shm_region.h"
#include "shm/shm_ring.h"

namespace snakepit::internal {
namespace {

constexpr std::size_t kRing = 4096;
constexpr std::size_t kLimit = 1 << 20;

absl::Time Soon() { return absl::Now() + absl::Seconds(10); }

std::span<const std::byte> Bytes(const std::string& text) { return std::as_bytes(std::span(text)); }

std::string Text(const Frame& frame) {
  return std::string(reinterpret_cast<const char*>(frame.data.get()), frame.size);
}

// A host end and a worker end over one region, as two processes would
// have them (the worker maps the host's memfd afresh).
struct Pair {
  std::unique_ptr<ShmChannel> host;
  std::unique_ptr<ShmChannel> worker;
};

Pair NewPair(std::size_t limit = kLimit) {
  Pair pair;
  auto region = ShmRegion::Create("shm-channel-test", ShmChannel::RegionSize(kRing));
  EXPECT_TRUE(region.ok()) << region.status();
  auto host = ShmChannel::CreateHost(std::move(*region), kRing, limit);
  EXPECT_TRUE(host.ok()) << host.status();
  pair.host = std::move(*host);
  auto mapped = ShmRegion::Map(UniqueFd(::dup(pair.host->fd())), ShmChannel::RegionSize(kRing));
  EXPECT_TRUE(mapped.ok()) << mapped.status();
  auto worker = ShmChannel::AttachWorker(std::move(*mapped), kRing, limit);
  EXPECT_TRUE(worker.ok()) << worker.status();
  pair.worker = std::move(*worker);
  return pair;
}

std::string Pattern(std::size_t size, char seed) {
  std::string text(size, '\0');
  for (std::size_t i = 0; i < size; ++i) text[i] = static_cast<char>(seed + i * 7 % 251);
  return text;
}

TEST(ShmChannelTest, CarriesMessagesBothWays) {
  Pair pair = NewPair();
  ASSERT_TRUE(pair.host->Send(FrameKind::kExecute, 7, {Bytes("ab"), Bytes("cd")}, Soon()).ok());
  auto request = pair.worker->Receive(Soon());
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->kind, FrameKind::kExecute);
  EXPECT_EQ(request->call_id, 7u);
  EXPECT_EQ(Text(*request), "abcd");

  ASSERT_TRUE(pair.worker->Send(FrameKind::kReply, 7, {}, Soon()).ok());
  auto reply = pair.host->Receive(Soon());
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->kind, FrameKind::kReply);
  EXPECT_EQ(reply->size, 0u);
}

TEST(ShmChannelTest, FragmentsMessagesLargerThanTheRing) {
  Pair pair = NewPair();
  // 3.5 rings, in parts whose edges fall inside fragments.
  const std::string a = Pattern(5000, 'a'), b = Pattern(9336, 'b');
  std::thread sender([&] { ASSERT_TRUE(pair.host->Send(FrameKind::kExecute, 1, {Bytes(a), Bytes(b)}, Soon()).ok()); });
  auto message = pair.worker->Receive(Soon());
  sender.join();
  ASSERT_TRUE(message.ok()) << message.status();
  EXPECT_EQ(Text(*message), a + b);
}

TEST(ShmChannelTest, SendersOnManyThreadsNeverInterleave) {
  Pair pair = NewPair();
  constexpr int kThreads = 4, kEach = 50;
  std::vector<std::thread> senders;
  for (int t = 0; t < kThreads; ++t) {
    senders.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        const std::string body = Pattern(1000 + 900 * (i % 5), static_cast<char>('a' + t));
        ASSERT_TRUE(pair.worker->Send(FrameKind::kChunk, t, {Bytes(body)}, Soon()).ok());
      }
    });
  }
  std::vector<int> seen(kThreads, 0);
  for (int n = 0; n < kThreads * kEach; ++n) {
    auto message = pair.host->Receive(Soon());
    ASSERT_TRUE(message.ok()) << message.status();
    const int t = static_cast<int>(message->call_id);
    ASSERT_EQ(Text(*message), Pattern(1000 + 900 * (seen[t] % 5), static_cast<char>('a' + t)));
    ++seen[t];
  }
  for (auto& sender : senders) sender.join();
}

TEST(ShmChannelTest, AReceiveDeadlineMidMessageLosesNothing) {
  Pair pair = NewPair();
  const std::string big = Pattern(3 * kRing, 'x');
  std::thread sender([&] { ASSERT_TRUE(pair.host->Send(FrameKind::kExecute, 3, {Bytes(big)}, Soon()).ok()); });
  // Deadlines already past: each call takes what is there and gives up.
  absl::StatusOr<Frame> message = absl::DeadlineExceededError("");
  for (int i = 0; i < 100000 && absl::IsDeadlineExceeded(message.status()); ++i) {
    message = pair.worker->Receive(absl::InfinitePast());
  }
  sender.join();
  ASSERT_TRUE(message.ok()) << message.status();
  EXPECT_EQ(Text(*message), big);
}

TEST(ShmChannelTest, RefusesOversizeMessages) {
  Pair pair = NewPair(/*limit=*/100);
  const std::string big(101, 'x');
  EXPECT_TRUE(absl::IsInvalidArgument(pair.host->Send(FrameKind::kExecute, 1, {Bytes(big)}, Soon())));
  // The channel still works.
  ASSERT_TRUE(pair.host->Send(FrameKind::kExecute, 2, {Bytes("ok")}, Soon()).ok());
  EXPECT_EQ(Text(*pair.worker->Receive(Soon())), "ok");
}

TEST(ShmChannelTest, APeerThatLiesAboutSizesIsDataLoss) {
  // A worker whose limit is larger than the host's sends a message the host
  // may not accept: the host refuses it and closes, without reading it.
  auto region = ShmRegion::Create("shm-channel-test", ShmChannel::RegionSize(kRing));
  ASSERT_TRUE(region.ok());
  auto host = ShmChannel::CreateHost(std::move(*region), kRing, /*max_payload=*/10);
  ASSERT_TRUE(host.ok());
  auto mapped = ShmRegion::Map(UniqueFd(::dup((*host)->fd())), ShmChannel::RegionSize(kRing));
  ASSERT_TRUE(mapped.ok());
  auto worker = ShmChannel::AttachWorker(std::move(*mapped), kRing, kLimit);
  ASSERT_TRUE(worker.ok());
  ASSERT_TRUE((*worker)->Send(FrameKind::kReply, 1, {Bytes(std::string(11, 'x'))}, Soon()).ok());
  auto message = (*host)->Receive(Soon());
  EXPECT_TRUE(absl::IsDataLoss(message.status())) << message.status();
  EXPECT_TRUE((*host)->closed());
}

TEST(ShmChannelTest, AnUnknownKindIsDataLoss) {
  Pair pair = NewPair();
  ASSERT_TRUE(pair.worker->Send(static_cast<FrameKind>(99), 1, {}, Soon()).ok());
  auto message = pair.host->Receive(Soon());
  EXPECT_TRUE(absl::IsDataLoss(message.status())) << message.status();
  EXPECT_NE(message.status().message().find("unknown frame kind 99"), std::string::npos);
}

TEST(ShmChannelTest, SectionsTravelBesideThePayloadAcrossFragments) {
  Pair pair = NewPair();
  // An empty section, a small one, and one of 3.5 rings whose edges fall
  // inside fragments; the payload in two parts.
  const std::vector<std::string> sections = {"", Pattern(10, 's'), Pattern(14336, 'l')};
  const std::string a = Pattern(700, 'a'), b = Pattern(1500, 'b');
  std::thread sender([&] {
    ASSERT_TRUE(pair.host->Send(FrameKind::kExecute, 4, {Bytes(a), Bytes(b)}, sections, Soon()).ok());
  });
  auto message = pair.worker->Receive(Soon());
  sender.join();
  ASSERT_TRUE(message.ok()) << message.status();
  EXPECT_EQ(message->call_id, 4u);
  EXPECT_EQ(Text(*message), a + b);
  EXPECT_EQ(message->sections, sections);
  // A message without sections after one with: nothing left over.
  ASSERT_TRUE(pair.host->Send(FrameKind::kCancel, 5, {Bytes("x")}, Soon()).ok());
  auto next = pair.worker->Receive(Soon());
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(Text(*next), "x");
  EXPECT_TRUE(next->sections.empty());
}

TEST(ShmChannelTest, SectionsCountTowardsTheLimitAndTheirNumberIsBounded) {
  Pair pair = NewPair(/*limit=*/100);
  const std::vector<std::string> big = {std::string(90, 'x')};
  EXPECT_TRUE(absl::IsInvalidArgument(pair.host->Send(FrameKind::kExecute, 1, {Bytes("0123456789")}, big, Soon())));
  // The section table counts, as MessageBytes says: 84 bytes in one
  // section fill the limit of 100 exactly, 85 go over it.
  EXPECT_EQ(ShmChannel::MessageBytes(84, 1), 100u);
  EXPECT_EQ(ShmChannel::MessageBytes(84, 0), 84u);
  const std::vector<std::string> exact = {std::string(84, 'e')};
  ASSERT_TRUE(pair.host->Send(FrameKind::kExecute, 7, {}, exact, Soon()).ok());
  EXPECT_EQ(pair.worker->Receive(Soon())->sections, exact);
  const std::vector<std::string> over = {std::string(85, 'o')};
  EXPECT_TRUE(absl::IsInvalidArgument(pair.host->Send(FrameKind::kExecute, 8, {}, over, Soon())));
  const std::vector<std::string> many(pair.host->max_sections() + 1, "");
  const absl::Status refused = pair.host->Send(FrameKind::kExecute, 2, {}, many, Soon());
  EXPECT_TRUE(absl::IsInvalidArgument(refused)) << refused;
  EXPECT_NE(refused.message().find("at most " + std::to_string(pair.host->max_sections())), std::string::npos)
      << refused;
  ASSERT_TRUE(pair.host->Send(FrameKind::kExecute, 3, {Bytes("ok")}, Soon()).ok());
  EXPECT_EQ(Text(*pair.worker->Receive(Soon())), "ok");
}

// Writes one record of `words` straight into the worker-to-host ring of
// `pair`, as a peer that ignores the format could.
void Forge(Pair& pair, const std::vector<std::uint64_t>& words) {
  auto mapped = ShmRegion::Map(UniqueFd(::dup(pair.host->fd())), ShmChannel::RegionSize(kRing));
  ASSERT_TRUE(mapped.ok()) << mapped.status();
  const std::size_t ring_size = ShmRing::RegionSize(kRing);
  auto ring = ShmRing::Attach(mapped->bytes().subspan(ring_size, ring_size), kRing);
  ASSERT_TRUE(ring.ok()) << ring.status();
  const std::size_t bytes = words.size() * sizeof(std::uint64_t);
  auto record = ring->Reserve(bytes, Soon());
  ASSERT_TRUE(record.ok()) << record.status();
  std::memcpy(record->data(), words.data(), bytes);
  ring->Commit(bytes);
}

constexpr std::uint64_t Word(std::uint32_t low, std::uint32_t high) {
  return std::uint64_t{low} | (std::uint64_t{high} << 32);
}

TEST(ShmChannelTest, ASectionTableThatLiesIsDataLoss) {
  const std::uint64_t reply = static_cast<std::uint32_t>(FrameKind::kReply);
  struct Case {
    std::string name;
    std::vector<std::uint64_t> words;  // header (kind|flags, call id, size), then the body
    std::string says;
  };
  const std::vector<Case> cases = {
      {"a section longer than its message", {Word(reply, 1), 9, 24, Word(1, 0), 1000, 0}, "sections longer"},
      {"a table past the first record", {Word(reply, 1), 9, 16, Word(3, 0), 8}, "section table of 3"},
      {"a table whose padding is not 0", {Word(reply, 1), 9, 16, Word(1, 5), 0}, "section table"},
      {"an unknown flag", {Word(reply, 6), 9, 0}, "unknown frame flags 6"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Pair pair = NewPair();
    Forge(pair, c.words);
    auto message = pair.host->Receive(Soon());
    EXPECT_TRUE(absl::IsDataLoss(message.status())) << message.status();
    EXPECT_NE(message.status().message().find(c.says), std::string::npos) << message.status();
    EXPECT_TRUE(pair.host->closed());
  }
}

TEST(ShmChannelTest, CloseWakesABlockedReceiveAndSend) {
  Pair pair = NewPair();
  std::thread closer([&] {
    absl::SleepFor(absl::Milliseconds(50));
    pair.host->Close();
  });
  auto message = pair.host->Receive(Soon());
  EXPECT_TRUE(absl::IsCancelled(message.status())) << message.status();
  // The worker sees the close too: its sends fail instead of waiting.
  const std::string fill(kRing / 4 - 64, 'x');
  absl::Status sent;
  for (int i = 0; i < 16 && sent.ok(); ++i) sent = pair.worker->Send(FrameKind::kReply, 1, {Bytes(fill)}, Soon());
  EXPECT_TRUE(absl::IsCancelled(sent)) << sent;
  closer.join();
}

TEST(ShmChannelTest, InterruptWakesAReceiveWithoutLosingAMessage) {
  Pair pair = NewPair();
  std::thread waker([&] {
    absl::SleepFor(absl::Milliseconds(50));
    pair.host->Interrupt();
  });
  auto woken = pair.host->Receive(Soon());
  EXPECT_TRUE(absl::IsAborted(woken.status())) << woken.status();
  waker.join();
  ASSERT_TRUE(pair.worker->Send(FrameKind::kReply, 5, {Bytes("after")}, Soon()).ok());
  auto message = pair.host->Receive(Soon());
  ASSERT_TRUE(message.ok()) << message.status();
  EXPECT_EQ(Text(*message), "after");
}

}  // namespace
}  // namespace snakepit::internal
