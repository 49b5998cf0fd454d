// BareStub: what a C++ user would write without the library: the generated
// snakepit.v1.Worker stub on one channel to one worker. No router, no JSON
// handling, no deadlines beyond what the request carries.
#ifndef SNAKEPIT_BENCH_SUPPORT_BARE_STUB_H_
#define SNAKEPIT_BENCH_SUPPORT_BARE_STUB_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "snakepit/v1/worker.grpc.pb.h"

namespace snakepit::bench {

class BareStub {
 public:
  // `target` is a gRPC target ("unix:/path"). Message limits are set to
  // `max_message_bytes` both ways, as the library sets them.
  explicit BareStub(const std::string& target, int max_message_bytes = 256 << 20);
  BareStub(const BareStub&) = delete;
  BareStub& operator=(const BareStub&) = delete;

  // True once the channel is connected, false at `timeout`.
  bool WaitConnected(absl::Duration timeout);

  // A request as the library builds it: command, JSON args, a call id and
  // a deadline 30 s out (the library's default call_timeout).
  snakepit::v1::ExecuteRequest Request(const std::string& command, const std::string& args_json);

  // Blocking Execute through the synchronous API: the calling thread
  // drives its own completion queue, so no other thread is involved.
  grpc::Status Execute(const snakepit::v1::ExecuteRequest& request, snakepit::v1::ExecuteResponse* response);

  // The same through the callback API the library uses, the caller
  // waiting until gRPC's callback thread has run the completion: the cost
  // of that API and of one thread hop, without the router.
  grpc::Status ExecuteCallback(const snakepit::v1::ExecuteRequest& request, snakepit::v1::ExecuteResponse* response);

  // Execute of `command` with args "{}" and, unless it is empty, one
  // attachment, which the command must echo (echo_attachments): OK only
  // for a result that carries as many bytes back.
  absl::Status Call(const std::string& command, const std::string& attachment = {});

 private:
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<snakepit::v1::Worker::Stub> stub_;
  std::atomic<std::uint64_t> next_call_id_{1};
};

// An absl::Status for a reply: the RPC failed, the worker returned an
// error, or (when `echoed_bytes` is not negative) the result does not carry
// one attachment of that size.
absl::Status CheckReply(const grpc::Status& status, const snakepit::v1::ExecuteResponse& response,
                        std::int64_t echoed_bytes = -1);

}  // namespace snakepit::bench

#endif  // SNAKEPIT_BENCH_SUPPORT_BARE_STUB_H_
