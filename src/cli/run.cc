// snakepit run: one call on a pool, printing its result or its error.
#include <chrono>
#include <cstdio>
#include <iostream>
#include <optional>
#include <utility>

#include "CLI/CLI.hpp"
#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "cli/attachments.h"
#include "cli/cli.h"
#include "cli/pools.h"
#include "config/config_rules.h"

namespace snakepit::cli {
namespace {

class RunCommand final : public Command {
 public:
  void Define(CLI::App& cmd) override {
    cmd.footer(
        "Starts POOL of FILE, runs COMMAND on it with ARGS_JSON (default {}), prints the JSON\n"
        "result on stdout and exits 0; on failure prints the error (with the Python traceback,\n"
        "if the command raised) on stderr and exits 1. A progress line shows on stderr while\n"
        "the pool's workers start.");
    cmd.add_option("POOL", pool_, "the pool of FILE to start and call")->required();
    cmd.add_option("COMMAND", command_, "the adapter's command")->required();
    cmd.add_option("ARGS_JSON", args_json_, "the command's arguments: a JSON object, list or null (default {})");
    // The options, one line each.
    cmd.add_option("--config", config_, "pools configuration (docs/configuration.md); required")
        ->option_text("FILE")
        ->required();
    cmd.add_option("--workers", workers_, "start N workers instead of the pool's pool_size")
        ->option_text("N")
        ->check(WholeNumber(internal::kPoolSizeRange.min, internal::kPoolSizeRange.max));
    AddSecondsOption(cmd, "--timeout", &options_.timeout, "deadline of the call (default: the pool's call_timeout)");
    cmd.add_option("--attach", attach_, "send FILE's bytes as an attachment (repeatable: in order)")
        ->option_text("FILE")
        ->allow_extra_args(false);
    cmd.add_option("--save-attachments", save_dir_, "write the reply's attachments as DIR/attachment-0.bin, ...")
        ->option_text("DIR");
    cmd.add_flag("--stream", stream_,
                 "call a generator command: print each chunk as one JSON line as it arrives\n"
                 "(--save-attachments: the chunks' attachments, in order)");
  }

  int Execute() override;

 private:
  // --stream: prints the chunks as they arrive; the reply is the last
  // status, with every chunk's attachments in order.
  absl::StatusOr<Reply> Stream(PoolManager& pools, const nlohmann::json& args);

  std::string pool_;
  std::string command_;
  std::string args_json_ = "{}";
  std::string config_;
  int workers_ = 0;  // 0: the pool's own
  CallOptions options_;
  std::vector<std::string> attach_;
  std::string save_dir_;
  bool stream_ = false;
};

// Prints "snakepit run: <flag>: <status message>" on stderr; returns kFailed.
int Failed(const char* flag, const absl::Status& status) {
  std::fprintf(stderr, "snakepit run: %s: %s\n", flag, std::string(status.message()).c_str());
  return kFailed;
}

int RunCommand::Execute() {
  const nlohmann::json call_args = nlohmann::json::parse(args_json_, nullptr, /*allow_exceptions=*/false);
  if (call_args.is_discarded()) return UsageError("run", "ARGS_JSON is not valid JSON: " + args_json_);
  absl::StatusOr<std::vector<std::string>> blobs = ReadAttachments(attach_);
  if (!blobs.ok()) return Failed("--attach", blobs.status());
  options_.attachments = *std::move(blobs);
  if (!save_dir_.empty()) {
    if (absl::Status dir = PrepareAttachmentDir(save_dir_); !dir.ok()) return Failed("--save-attachments", dir);
  }
  std::unique_ptr<PoolManager> pools =
      StartPools("run", config_, {.progress = true, .only_pool = pool_, .workers = workers_, .abandon_at_exit = true});
  if (pools == nullptr) return kFailed;
  // The call is made once: its attachments are moved, not copied.
  absl::StatusOr<Reply> reply =
      stream_ ? Stream(*pools, call_args) : pools->call(pool_, command_, call_args, std::move(options_));
  // Answer first: stopping the workers may take up to kill_grace.
  int code = kOk;
  if (!reply.ok()) {
    std::fprintf(
        stderr, "snakepit run: %s: %s%s\n", absl::StatusCodeToString(reply.status().code()).c_str(),
        std::string(reply.status().message()).c_str(),
        !stream_ && absl::StrContains(reply.status().message(), "execute_stream") ? " (snakepit run --stream)" : "");
    code = kFailed;
  } else {
    if (!stream_) std::cout << reply->result.dump(2) << std::endl;  // before what follows on stderr
    if (!save_dir_.empty()) {
      absl::StatusOr<std::vector<std::string>> saved = SaveAttachments(save_dir_, reply->attachments);
      if (!saved.ok()) {
        code = Failed("--save-attachments", saved.status());
      } else if (saved->empty()) {
        std::fprintf(stderr, "snakepit run: the reply has no attachments; nothing written in %s\n", save_dir_.c_str());
      } else {
        std::fprintf(stderr, "snakepit run: %zu attachments saved: %s\n", saved->size(),
                     absl::StrJoin(*saved, " ").c_str());
      }
    }
  }
  std::fflush(stderr);
  std::cout.flush();
  pools->shutdown();
  return code;
}

absl::StatusOr<Reply> RunCommand::Stream(PoolManager& pools, const nlohmann::json& args) {
  StreamReader reader = pools.execute_stream(pool_, command_, args, std::move(options_));
  Reply all;
  while (true) {
    absl::StatusOr<std::optional<Chunk>> next = reader.Next();
    if (!next.ok()) return next.status();
    if (!next->has_value()) return all;
    std::cout << (*next)->data.dump() << std::endl;  // one line a chunk, flushed as it arrives
    for (std::string& blob : (*next)->attachments) all.attachments.push_back(std::move(blob));
  }
}

}  // namespace

std::unique_ptr<Command> MakeRun() { return std::make_unique<RunCommand>(); }

}  // namespace snakepit::cli
