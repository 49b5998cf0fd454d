// ShmRing and ShmRegion: order and wrap-around, waits and their deadlines,
// Close, two real processes sharing a memfd, and a peer that corrupts the
// region or dies mid-write. No Python; label "unit".
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <thread>

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "shm/shm_region.h"
#include "shm/shm_ring.h"

namespace snakepit::internal {
namespace {

constexpr std::size_t kCapacity = 4096;

ShmRegion NewRegion(std::size_t capacity = kCapacity) {
  auto region = ShmRegion::Create("shm-ring-test", ShmRing::RegionSize(capacity));
  EXPECT_TRUE(region.ok()) << region.status();
  EXPECT_TRUE(ShmRing::Format(region->bytes(), capacity).ok());
  return std::move(*region);
}

ShmRing AttachTo(const ShmRegion& region, std::size_t capacity = kCapacity) {
  auto ring = ShmRing::Attach(region.bytes(), capacity);
  EXPECT_TRUE(ring.ok()) << ring.status();
  return std::move(*ring);
}

absl::Time Soon() { return absl::Now() + absl::Seconds(10); }

void Send(ShmRing& ring, const std::string& text) {
  auto space = ring.Reserve(text.size(), Soon());
  ASSERT_TRUE(space.ok()) << space.status();
  std::memcpy(space->data(), text.data(), text.size());
  ring.Commit(text.size());
}

std::string Receive(ShmRing& ring) {
  EXPECT_TRUE(ring.Wait(Soon()).ok());
  auto message = ring.Peek();
  EXPECT_TRUE(message.ok() && message->has_value()) << message.status();
  if (!message.ok() || !message->has_value()) return "<none>";
  std::string text(reinterpret_cast<const char*>((*message)->data()), (*message)->size());
  ring.Release();
  return text;
}

void ExpectEmpty(ShmRing& ring) {
  auto next = ring.Peek();
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_FALSE(next->has_value());
}

// Waits for `child` and returns its wait status.
int Reap(pid_t child) {
  int status = 0;
  EXPECT_EQ(::waitpid(child, &status, 0), child);
  return status;
}

// A child process that attaches to `region` as its writer, runs `body`
// and exits 0 (2 if it cannot attach).
pid_t ForkWriter(const ShmRegion& region, const std::function<void(ShmRing&)>& body) {
  const pid_t child = ::fork();
  if (child == 0) {
    auto writer = ShmRing::Attach(region.bytes(), kCapacity);
    if (!writer.ok()) ::_exit(2);
    body(*writer);
    ::_exit(0);
  }
  EXPECT_GT(child, 0);
  return child;
}

// One ring, with a writer and a reader attached in this process.
class ShmRingTest : public ::testing::Test {
 protected:
  ShmRegion region = NewRegion();
  ShmRing writer = AttachTo(region);
  ShmRing reader = AttachTo(region);
};

TEST(ShmRing, RefusesBadGeometry) {
  ShmRegion region = NewRegion();
  EXPECT_EQ(ShmRing::Format(region.bytes(), 100).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ShmRing::Format(region.bytes(), kCapacity * 2).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ShmRing::Attach(region.bytes(), kCapacity / 2).status().code(), absl::StatusCode::kFailedPrecondition);
  auto blank = ShmRegion::Create("blank", ShmRing::RegionSize(kCapacity));
  ASSERT_TRUE(blank.ok());
  EXPECT_EQ(ShmRing::Attach(blank->bytes(), kCapacity).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(ShmRingTest, MessagesArriveInOrderAcrossWrapArounds) {
  std::mt19937 random(7);
  for (int i = 0; i < 10000; ++i) {
    // Sizes up to a third of the ring force padding records at the end.
    std::string text(random() % (kCapacity / 3), static_cast<char>('a' + i % 26));
    text += std::to_string(i);
    Send(writer, text);
    ASSERT_EQ(Receive(reader), text) << "message " << i;
  }
  ExpectEmpty(reader);
}

TEST_F(ShmRingTest, SizeLimitAndFullRingWaitHonourDeadlines) {
  EXPECT_EQ(writer.Reserve(ShmRing::MaxMessage(kCapacity) + 1, Soon()).status().code(),
            absl::StatusCode::kInvalidArgument);
  Send(writer, std::string(ShmRing::MaxMessage(kCapacity), 'x'));  // fills the ring
  const absl::Time start = absl::Now();
  EXPECT_EQ(writer.Reserve(1, start + absl::Milliseconds(50)).status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(50));
  EXPECT_EQ(Receive(reader).size(), ShmRing::MaxMessage(kCapacity));
  EXPECT_EQ(reader.Wait(absl::Now() + absl::Milliseconds(20)).code(), absl::StatusCode::kDeadlineExceeded);
  Send(writer, "after");
  EXPECT_EQ(Receive(reader), "after");
}

TEST_F(ShmRingTest, SleepingWriterWakesWhenTheReaderFreesRoom) {
  writer.set_spin(absl::ZeroDuration());
  Send(writer, std::string(ShmRing::MaxMessage(kCapacity), 'x'));
  std::thread consumer([&] {
    absl::SleepFor(absl::Milliseconds(30));  // let the writer fall asleep
    Receive(reader);
  });
  Send(writer, "woken");
  consumer.join();
  EXPECT_EQ(Receive(reader), "woken");
}

// A reader polls while keep_polling() holds; once it no longer does, the
// reader asks no more and sleeps, and the message still wakes it.
TEST_F(ShmRingTest, APollStopsWhenItsConditionNoLongerHolds) {
  const std::atomic<bool> interrupt{false};
  std::atomic<bool> fits{true};
  int asked = 0;
  std::thread sender([&] {
    absl::SleepFor(absl::Milliseconds(20));
    fits = false;  // e.g. another call went in flight
    absl::SleepFor(absl::Milliseconds(100));
    Send(writer, "late");
  });
  const absl::Status waited = reader.Wait(Soon(), interrupt, absl::Seconds(5), [&] {
    ++asked;
    return fits.load();
  });
  sender.join();
  ASSERT_TRUE(waited.ok()) << waited;
  EXPECT_EQ(Receive(reader), "late");
  // Polled for about 20 ms (asked many times), then slept: never asked again.
  const int asked_while_fitting = asked;
  EXPECT_GT(asked_while_fitting, 1);
  std::atomic<bool> never{false};
  int asked_after = 0;
  std::thread again([&] {
    absl::SleepFor(absl::Milliseconds(50));
    Send(writer, "second");
  });
  ASSERT_TRUE(reader
                  .Wait(Soon(), interrupt, absl::Seconds(5),
                        [&] {
                          ++asked_after;
                          return never.load();
                        })
                  .ok());
  again.join();
  EXPECT_EQ(asked_after, 1) << "a poll whose condition failed went on asking";
  EXPECT_EQ(Receive(reader), "second");
}

TEST_F(ShmRingTest, CloseWakesASleepingReader) {
  ShmRing& other = writer;
  reader.set_spin(absl::ZeroDuration());
  std::thread closer([&] {
    absl::SleepFor(absl::Milliseconds(30));
    other.Close();
  });
  const absl::Time start = absl::Now();
  EXPECT_EQ(reader.Wait(start + absl::Seconds(30)).code(), absl::StatusCode::kCancelled);
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
  closer.join();
  EXPECT_TRUE(reader.closed());
  EXPECT_EQ(other.Reserve(1, Soon()).status().code(), absl::StatusCode::kCancelled);
}

// The doorbell: rung by a writer only while the reader stepped away, and
// by StepAway itself for a message that came just before; never while a
// thread reads. A stand-in asleep on it wakes for a message or a Close.
TEST_F(ShmRingTest, TheDoorbellRingsOnlyWhileTheReaderIsAway) {
  std::uint32_t bell = reader.doorbell();
  Send(writer, "read by the reader");
  EXPECT_EQ(reader.doorbell(), bell) << "rung while the reader was there";
  EXPECT_EQ(Receive(reader), "read by the reader");

  reader.StepAway();
  EXPECT_EQ(reader.doorbell(), bell) << "rung for no message";
  Send(writer, "while away");
  EXPECT_NE(reader.doorbell(), bell);
  bell = reader.doorbell();
  reader.StepBack();
  EXPECT_EQ(Receive(reader), "while away");
  Send(writer, "back");
  EXPECT_EQ(reader.doorbell(), bell) << "rung after StepBack";

  // A message left unread when the reader steps away: rung at once.
  reader.StepAway();
  EXPECT_NE(reader.doorbell(), bell);
  reader.StepBack();
  EXPECT_EQ(Receive(reader), "back");
}

TEST_F(ShmRingTest, AStandInAsleepOnTheDoorbellWakesForAMessage) {
  reader.StepAway();
  const std::uint32_t bell = reader.doorbell();
  std::thread sender([&] {
    absl::SleepFor(absl::Milliseconds(30));  // let the stand-in fall asleep
    Send(writer, "come");
  });
  const absl::Time start = absl::Now();
  reader.AwaitDoorbell(bell, start + absl::Seconds(30));
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
  EXPECT_NE(reader.doorbell(), bell);
  sender.join();
  reader.StepBack();
  EXPECT_EQ(Receive(reader), "come");
  // A doorbell that rang before the wait began does not wait at all.
  const absl::Time again = absl::Now();
  reader.AwaitDoorbell(bell, again + absl::Seconds(30));
  EXPECT_LT(absl::Now() - again, absl::Seconds(10));
}

TEST_F(ShmRingTest, CloseWakesAStandInAndTheDeadlineEndsItsWait) {
  const std::uint32_t bell = reader.doorbell();
  const absl::Time start = absl::Now();
  reader.AwaitDoorbell(bell, start + absl::Milliseconds(50));
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(50));
  std::thread closer([&] {
    absl::SleepFor(absl::Milliseconds(30));
    writer.Close();
  });
  const absl::Time closing = absl::Now();
  reader.AwaitDoorbell(bell, closing + absl::Seconds(30));
  EXPECT_LT(absl::Now() - closing, absl::Seconds(10));
  closer.join();
}

// A child process writes through the memfd it inherited; the parent reads.
TEST(ShmRing, TwoProcessesShareARing) {
  constexpr int kMessages = 100000;
  ShmRegion region = NewRegion();
  const pid_t child = ForkWriter(region, [](ShmRing& writer) {
    writer.set_spin(absl::ZeroDuration());  // exercise the futex path
    for (int i = 0; i < kMessages; ++i) {
      auto space = writer.Reserve(sizeof i, Soon());
      if (!space.ok()) ::_exit(3);
      std::memcpy(space->data(), &i, sizeof i);
      writer.Commit(sizeof i);
    }
  });
  ShmRing reader = AttachTo(region);
  for (int i = 0; i < kMessages; ++i) {
    ASSERT_TRUE(reader.Wait(Soon()).ok()) << "message " << i;
    auto message = reader.Peek();
    ASSERT_TRUE(message.ok() && message->has_value());
    int value = -1;
    ASSERT_EQ((*message)->size(), sizeof value);
    std::memcpy(&value, (*message)->data(), sizeof value);
    ASSERT_EQ(value, i);
    reader.Release();
  }
  const int status = Reap(child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

// A writer killed after writing its bytes but before Commit published
// them: the reader sees the messages before it, and nothing of the last.
TEST(ShmRing, AWriterThatDiesMidWriteLeavesNothingHalfWritten) {
  ShmRegion region = NewRegion();
  const pid_t child = ForkWriter(region, [](ShmRing& writer) {
    Send(writer, "whole");
    auto space = writer.Reserve(100, Soon());
    if (space.ok()) std::memset(space->data(), 'z', 100);
    ::raise(SIGKILL);
  });
  ASSERT_TRUE(WIFSIGNALED(Reap(child)));
  ShmRing reader = AttachTo(region);
  EXPECT_EQ(Receive(reader), "whole");
  ExpectEmpty(reader);
}

// A peer that scribbles over the region: every read stays inside the
// region, and an impossible cursor or length is DATA_LOSS.
TEST_F(ShmRingTest, CorruptionIsDataLossNeverAnOutOfBoundsAccess) {
  Send(writer, "ok");
  // A record length past the published bytes.
  std::byte* records = region.bytes().data() + ShmRing::ControlSize();
  const std::uint32_t huge = 1u << 30;
  std::memcpy(records, &huge, sizeof huge);
  EXPECT_EQ(reader.Peek().status().code(), absl::StatusCode::kDataLoss);

  std::mt19937 random(11);
  for (int round = 0; round < 2000; ++round) {
    ShmRegion fresh = NewRegion();
    ShmRing w = AttachTo(fresh);
    ShmRing r = AttachTo(fresh);
    for (int i = 0; i < static_cast<int>(random() % 8); ++i) Send(w, std::string(random() % 700, 'm'));
    // Overwrite a few random bytes anywhere in the control block or records.
    for (int hit = 0; hit < 4; ++hit) {
      const std::size_t at = random() % fresh.bytes().size();
      fresh.bytes()[at] = static_cast<std::byte>(random());
    }
    auto message = r.Peek();
    if (message.ok() && message->has_value()) {
      const std::byte* data = (*message)->data();
      const std::byte* fresh_begin = fresh.bytes().data();
      EXPECT_GE(data, fresh_begin + ShmRing::ControlSize());
      EXPECT_LE(data + (*message)->size(), fresh_begin + fresh.bytes().size());
    } else if (!message.ok()) {
      EXPECT_EQ(message.status().code(), absl::StatusCode::kDataLoss);
    }
    auto space = w.Reserve(16, absl::Now());
    if (space.ok()) {
      EXPECT_GE(space->data(), fresh.bytes().data() + ShmRing::ControlSize());
      EXPECT_LE(space->data() + space->size(), fresh.bytes().data() + fresh.bytes().size());
    }
  }
}

TEST(ShmRegion, MapChecksSealsAndSize) {
  ShmRegion region = NewRegion();
  UniqueFd copy(::fcntl(region.fd(), F_DUPFD_CLOEXEC, 0));
  EXPECT_EQ(ShmRegion::Map(std::move(copy), region.bytes().size() + 4096).status().code(),
            absl::StatusCode::kFailedPrecondition);
  UniqueFd same(::fcntl(region.fd(), F_DUPFD_CLOEXEC, 0));
  auto mapped = ShmRegion::Map(std::move(same), region.bytes().size());
  ASSERT_TRUE(mapped.ok()) << mapped.status();
  region.bytes()[100] = std::byte{42};
  EXPECT_EQ(mapped->bytes()[100], std::byte{42});  // one memory, two mappings

  UniqueFd unsealed(::memfd_create("unsealed", MFD_CLOEXEC));
  ASSERT_TRUE(unsealed.valid());
  ASSERT_EQ(::ftruncate(unsealed.get(), 4096), 0);
  auto refused = ShmRegion::Map(std::move(unsealed), 4096);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("sealed"), std::string::npos) << refused.status();
}

// Memory that cannot be had is RESOURCE_EXHAUSTED at Create (the caller
// falls back to another transport), not a SIGBUS later. A file size limit
// stands in for a full tmpfs: both refuse the size up front.
TEST(ShmRegion, MemoryThatCannotBeHadIsResourceExhausted) {
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::signal(SIGXFSZ, SIG_IGN);
    const rlimit small{4096, 4096};
    ::setrlimit(RLIMIT_FSIZE, &small);
    auto region = ShmRegion::Create("too-big", 1 << 20);
    const bool named = !region.ok() && region.status().message().find("1048576 bytes") != std::string_view::npos;
    ::_exit(!region.ok() && region.status().code() == absl::StatusCode::kResourceExhausted && named ? 0 : 1);
  }
  const int status = Reap(child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

}  // namespace
}  // namespace snakepit::internal
