// Pool configuration: plain structs, plus JSON loading with validation.
//
// Every field documents its default. Durations are std::chrono values in C++
// and seconds (integer or fractional) in JSON. docs/configuration.md lists
// every JSON key.
#ifndef SNAKEPIT_CONFIG_H_
#define SNAKEPIT_CONFIG_H_

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "snakepit/export.h"

namespace snakepit {

// How a pool's Python processes run calls. See README.md for the trade-offs.
enum class Profile {
  kProcess,  // many single-threaded processes, one call each at a time
  kThread,   // few processes, threads_per_worker concurrent calls each
};

// "process" or "thread".
SNAKEPIT_EXPORT std::string_view ProfileName(Profile profile);

// A pool's workers listening on TCP instead of a Unix socket
// (docs/configuration.md, "TCP and TLS"). Each worker binds `host` on a port
// the kernel picks and reports it when ready; every RPC carries the
// worker's random token, on a Unix socket too.
struct SNAKEPIT_EXPORT TcpConfig {
  // Address the workers bind and the host connects to: a host name or an
  // IPv4/IPv6 literal (no brackets). Default: "127.0.0.1".
  std::string host = "127.0.0.1";

  // TLS. tls_cert and tls_key: PEM files of the workers' certificate
  // (chain) and private key, read by each worker at start; both or
  // neither. tls_ca: PEM file of the CA certificate(s) the host verifies
  // the workers' certificate against (for a self-signed certificate, the
  // certificate itself); required with tls_cert. All empty: plaintext.
  std::string tls_cert;
  std::string tls_key;
  std::string tls_ca;

  // The name the workers' certificate must carry (SAN or CN). Empty: `host`.
  std::string tls_server_name;

  // A `host` that is not a loopback address ("localhost", 127.0.0.0/8,
  // "::1") exposes the workers to the network, so the config is refused
  // unless TLS is configured or this says plaintext there is meant.
  // Default: false.
  bool allow_plaintext = false;
};

// A pool whose workers run elsewhere (docs/remote.md): standalone worker
// servers (`python -m snakepit_worker serve`) that the library does not
// start, found through `target` and re-resolved every resolve_interval, so
// that workers that come and go (Kubernetes pods) join and leave the pool.
// Each resolved address is one worker, with the capacity its Stats
// reports. An address whose calls fail at the transport, or whose health
// probes fail, is ejected and readmitted after a backoff. Calls cross the
// network, so TLS and the token are required.
struct SNAKEPIT_EXPORT RemoteConfig {
  // Where the workers are, in gRPC's target syntax: "dns:///name:port"
  // (every address the name resolves to; a Kubernetes headless Service),
  // "name:port" (the same), or a static list
  // "ipv4:10.0.0.5:50051,10.0.0.6:50051" / "ipv6:[fd00::5]:50051,...".
  // Required.
  std::string target;
  // PEM file of the CA certificate(s) the workers' certificates are
  // verified against. Required: a remote pool speaks TLS only.
  std::string tls_ca;
  // The name the workers' certificates must carry. Default: the target's
  // host name (for a static list, required unless the certificates carry
  // the IP addresses).
  std::string tls_server_name;
  // Mutual TLS: the host's client certificate (chain) and key, PEM files;
  // both or neither. Default: none (the token authenticates the host).
  std::string tls_client_cert;
  std::string tls_client_key;
  // File holding the token the workers require (their --token-file, e.g.
  // the same Kubernetes Secret). Required.
  std::string token_file;
  // How often the target is resolved again. Default: 5 s.
  std::chrono::milliseconds resolve_interval{5'000};
  // An ejected address (or one that failed to start) is retried after
  // eject_backoff_initial, doubling per failure up to eject_backoff_max;
  // the backoff resets once a worker there has served for
  // eject_backoff_max. Defaults: 1 s, 30 s.
  std::chrono::milliseconds eject_backoff_initial{1'000};
  std::chrono::milliseconds eject_backoff_max{30'000};
};

// The server a worker uses for the worker protocol (docs/worker-protocol.md,
// "Transports"). The host cannot tell them apart; they differ in cost and in
// which interpreters they run on.
enum class WorkerTransport {
  // shm where shared memory can be had and the worker's interpreter imports
  // the native module; else native; else grpcio
  kAuto,
  kNative,  // gRPC C++ inside the Python process (snakepit_worker._native)
  kGrpcio,  // Python's grpcio
  // native, with calls carried over shared memory between the host and the
  // worker (docs/worker-protocol.md, "Shared-memory data plane"); health
  // and stats stay on gRPC. Where shared memory cannot be had, the pool
  // uses native and says why, once, in the log and in stats.
  kShm,
};

// "auto", "native", "grpcio" or "shm".
SNAKEPIT_EXPORT std::string_view WorkerTransportName(WorkerTransport transport);

// Whether this process can make the shared-memory region that one local
// worker's "shm" transport needs (a reserved, sealed memfd of the default
// size): OK, or why not (RESOURCE_EXHAUSTED: no memory for it; UNAVAILABLE:
// memfds are refused). Pools fall back to gRPC by themselves; this is for
// diagnostics (`snakepit doctor`).
[[nodiscard]] SNAKEPIT_EXPORT absl::Status SharedMemoryAvailable();

// How a pool gets its worker processes (docs/lifecycle.md, "Warm start").
enum class StartMethod {
  // Fork from a template when the template finds the adapter forkable,
  // else spawn (the reasons are logged once).
  kAuto,
  kSpawn,     // always posix_spawn a new interpreter
  kTemplate,  // always fork from a template; a worker start fails if it cannot
};

// "auto", "spawn" or "template".
SNAKEPIT_EXPORT std::string_view StartMethodName(StartMethod method);

// What an autoscaled pool aims for (AutoscaleConfig::target).
enum class AutoscaleTarget {
  kUtilization,  // busy share of the slots: (running + queued calls) / slots
  kQueueDepth,   // calls waiting per worker, on top of its running ones
};

// "utilization" or "queue_depth".
SNAKEPIT_EXPORT std::string_view AutoscaleTargetName(AutoscaleTarget target);

// Autoscaling of one pool (docs/elastic.md). The pool's size moves between
// min_workers and max_workers with its load, sampled every
// sample_interval: the load is the calls running plus the calls queued.
// A pool grows once the load has asked for more workers for
// scale_up_delay without a break, straight to the largest size those
// samples asked for; it shrinks once the load has allowed fewer for
// scale_down_delay without a break, to the largest size the samples of
// that window asked for, and only below a band of `hysteresis` under the
// target, so that a load sitting at a threshold moves nothing. A pool with
// no call at all for idle_timeout goes to min_workers. Every decision is
// an event (pool_scaling) with its reason.
struct SNAKEPIT_EXPORT AutoscaleConfig {
  // Bounds of the size. 1 <= min_workers <= max_workers <= 1024. The pool
  // starts with pool_size workers if set (it must lie within the bounds),
  // else min_workers. Defaults: 1 and 4.
  int min_workers = 1;
  int max_workers = 4;

  // Default: kUtilization.
  AutoscaleTarget target = AutoscaleTarget::kUtilization;
  // kUtilization: the share of the slots the load should fill, in
  // (0, 1]. Default: 0.8.
  double target_utilization = 0.8;
  // kQueueDepth: the calls that may wait per worker, in [1, 1000].
  // Default: 2.
  int target_queue_depth = 2;

  // A shrink needs the load to fit the smaller size with this share of
  // its slots to spare, in [0, 0.9]. Default: 0.2.
  double hysteresis = 0.2;

  // Defaults: 1 s, 30 s, 10 s (0: never), 0.25 s.
  std::chrono::milliseconds scale_up_delay{1'000};
  std::chrono::milliseconds scale_down_delay{30'000};
  std::chrono::milliseconds idle_timeout{10'000};
  std::chrono::milliseconds sample_interval{250};
};

struct SNAKEPIT_EXPORT PoolConfig {
  // Unique name callers use to address the pool. JSON: "name", required in
  // a "pools" list.
  std::string name = "default";

  // Default: kProcess.
  Profile profile = Profile::kProcess;

  // Python processes in the pool. 0 means the profile's default: 4 for
  // kProcess, 2 for kThread.
  int pool_size = 0;

  // Concurrent calls per process (kThread only; kProcess is always 1).
  // 0 means the default: 4 for kThread, 1 for kProcess.
  int threads_per_worker = 0;

  // Interpreter to run. Empty means the build's default (/usr/bin/python3 on
  // Debian). A bare name is looked up on PATH.
  std::string python;

  // The worker's server (--transport). kNative fails a worker's start when
  // the native module does not import in its interpreter. Default: kAuto.
  WorkerTransport worker_transport = WorkerTransport::kAuto;

  // Shared-memory transport only: how long, in microseconds, a synchronous
  // caller (execute, call) polls for its reply before it sleeps. Polling
  // saves the wake-up (about 10 µs a call on small VMs) for the CPU it
  // burns; a caller polls only while the calls in flight and the polling
  // callers of this process fit its CPUs, and only while replies come
  // within this time. 0 = never poll. Default: 50.
  int reply_poll_us = 50;

  // Adapter class, "module:Class". Default: the showcase adapter.
  std::string adapter = "snakepit_worker.showcase:ShowcaseAdapter";

  // Directories put before the worker package on the worker's PYTHONPATH
  // (where your adapter modules live). A relative entry in a config read by
  // Config::FromJsonFile is relative to that file's folder (made absolute
  // there); anywhere else (FromJson, FromJsonString, C++) it is left as it
  // is, so the worker resolves it against its working directory, which is
  // the host process's. Default: none.
  std::vector<std::string> python_path;

  // Extra command-line arguments appended to the worker's. Default: none.
  std::vector<std::string> extra_args;

  // Environment for the worker, on top of a clean base environment and the
  // profile's thread variables; values here win. A PYTHONPATH here is kept
  // and the worker package is appended to it. Default: none.
  std::map<std::string, std::string> env;

  // Handed to the adapter's setup(preload) before the worker reports ready.
  // Must be a JSON array. Default: [].
  nlohmann::json preload = nlohmann::json::array();

  // Workers spawned at once during start-up; the next batch starts when the
  // previous one is ready. Default: 8.
  int startup_batch_size = 8;

  // Time one worker has to become ready. Default: 30 s.
  std::chrono::milliseconds startup_timeout{30'000};

  // Calls that may wait for a free slot; beyond that a call fails at once
  // with RESOURCE_EXHAUSTED. 0 disables queueing. Default: 1000.
  int max_queue = 1000;

  // Longest a call waits in the queue before DEADLINE_EXCEEDED. Default: 5 s.
  std::chrono::milliseconds queue_timeout{5'000};

  // Deadline of a call that sets none, from submission (queueing included)
  // to reply. Default: 30 s.
  std::chrono::milliseconds call_timeout{30'000};

  // If the thread profile cannot start (e.g. the adapter refuses thread
  // mode), start the pool with the process profile instead and say so in the
  // log and in stats. Default: false.
  bool fallback_to_process = false;

  // Runs the Python ThreadSafetyChecker in every worker: it reports
  // adapter methods entered by several threads at once without the adapter
  // lock, and thread-unsafe libraries loaded; the Inspector shows the
  // findings. Costs a little per call. Default: false.
  bool thread_safety_checks = false;

  // Resource limits each worker sets on itself before it loads anything
  // (setrlimit, soft = hard): its address space in MiB (RLIMIT_AS; a
  // command that allocates past it gets MemoryError, the worker lives on)
  // and its open files (RLIMIT_NOFILE, at least 16). 0: inherited from the
  // host. Note that RLIMIT_AS counts reserved virtual memory (thread
  // stacks, arenas): a grpcio worker reserves about 1 GiB before it does
  // anything, so limits below ~1.5 GiB fail at start. Default: 0.
  std::int64_t rlimit_as_mb = 0;
  int rlimit_nofile = 0;

  // Set: the workers listen on TCP (see TcpConfig). Unset: each listens on
  // a Unix socket in the PoolManager's private directory. Default: unset.
  std::optional<TcpConfig> tcp;

  // gRPC message limit, both directions, set on both sides. Default: 128 MiB.
  std::int64_t max_message_bytes = std::int64_t{128} << 20;

  // How long shutdown, or a recycle, waits for a worker's in-flight calls
  // before SIGTERM. Default: 30 s.
  std::chrono::milliseconds drain_timeout{30'000};

  // Time between SIGTERM and SIGKILL; the worker uses it to finish calls.
  // Default: 5 s.
  std::chrono::milliseconds kill_grace{5'000};

  // --- Lifecycle (docs/lifecycle.md). Every recycle is graceful: the
  // replacement starts first (within max_surge), the old worker drains its
  // in-flight calls (up to drain_timeout), then gets SIGTERM and, after
  // kill_grace, SIGKILL.

  // Recycle a worker after this lifetime, plus a random extra in
  // [0, worker_ttl_jitter] drawn per worker. 0 = never. Default: 0.
  std::chrono::milliseconds worker_ttl{0};
  std::chrono::milliseconds worker_ttl_jitter{0};

  // Recycle a worker after it has served this many calls, plus a random
  // extra in [0, worker_max_requests_jitter] drawn per worker. The router
  // never sends a worker more calls than its limit. 0 = never. Default: 0.
  std::int64_t worker_max_requests = 0;
  std::int64_t worker_max_requests_jitter = 0;

  // Recycle a worker whose memory (PSS of the Python process and its
  // children, from /proc/<pid>/smaps_rollup) exceeds this many MiB, checked
  // every memory_check_interval. 0 = no limit. Default: 0; interval 1 s.
  std::int64_t worker_max_memory_mb = 0;
  std::chrono::milliseconds memory_check_interval{1'000};

  // Probe each ready worker with a Health RPC every health_check_interval;
  // after health_check_failures consecutive failures (no answer within
  // health_check_timeout) the worker is killed and replaced. Interval 0 =
  // no health checks. Defaults: 0, 5 s, 3.
  std::chrono::milliseconds health_check_interval{0};
  std::chrono::milliseconds health_check_timeout{5'000};
  int health_check_failures = 3;

  // "Harakiri": a call still running this long after its caller gave up
  // on it (its deadline passed or it was cancelled; the worker was asked to
  // stop it) gets its worker SIGKILLed and replaced, its Python stacks
  // dumped first (the only way to stop a process stuck in C code). Its
  // caller already got DEADLINE_EXCEEDED or CANCELLED. In the thread
  // profile this fails the worker's other in-flight calls too
  // (UNAVAILABLE). 0 = never. Default: 10 s, so that a pool heals from a
  // stuck call without configuration.
  std::chrono::milliseconds call_kill_timeout{10'000};

  // Chunks of a stream the host holds for a reader that has not taken them
  // (CallOptions::stream_buffer overrides it per call); when that many
  // wait, the host stops reading and the generator pauses. Default: 16.
  int stream_buffer = 16;

  // Replacement workers that may run on top of pool_size while their
  // predecessors drain. 0 = stop the old worker first. Default: 1.
  int max_surge = 1;

  // A crashed worker is restarted at once; if that start fails, the next
  // attempt waits restart_backoff_initial, doubling per consecutive failed
  // start up to restart_backoff_max. After
  // degraded_after_failures consecutive failed starts the pool reports
  // itself degraded (stats, event) and keeps retrying at the backoff rate.
  // Defaults: 0.1 s, 30 s, 3.
  std::chrono::milliseconds restart_backoff_initial{100};
  std::chrono::milliseconds restart_backoff_max{30'000};
  int degraded_after_failures = 3;

  // Set: a remote pool (see RemoteConfig); the workers are not started by
  // the library, so the settings of a worker process (tcp, python, env,
  // pool_size, lifecycle limits, ...) are refused with it. Default: unset.
  std::optional<RemoteConfig> remote;

  // How workers start: forked copy-on-write from a template process that
  // imported the adapter, or spawned as new interpreters. Default: kSpawn.
  StartMethod start_method = StartMethod::kSpawn;

  // --- Elastic pools (docs/elastic.md).

  // Set: the pool sizes itself with its load (see AutoscaleConfig).
  // Unset: the pool keeps pool_size workers unless PoolManager::resize()
  // changes it. Default: unset.
  std::optional<AutoscaleConfig> autoscale;

  // Affinity keys (CallOptions::affinity_key) the pool remembers; past
  // this the least recently used key is forgotten (its next call goes to
  // any worker and binds there). Default: 10000.
  int affinity_max_keys = 10'000;

  // Resolved values (profile defaults applied). The pool size is the size
  // the pool starts with: pool_size, else autoscale's min_workers, else
  // the profile's default.
  int effective_pool_size() const;
  int effective_threads_per_worker() const;
};

// The PoolManager's metrics endpoint (docs/diagnostics.md, "The metrics
// endpoint"): plain HTTP serving every pool's figures, GET /metrics in
// Prometheus text format, /inspect as the `snakepit inspect` text report and
// /inspect.json as its JSON (one line). JSON: {"metrics": {"listen": "127.0.0.1:9464"}}.
struct SNAKEPIT_EXPORT MetricsConfig {
  // "host:port": an IPv4 literal, "localhost", or an IPv6 literal in
  // brackets ("[::1]:9464"); port 0 lets the kernel pick one
  // (PoolManager::metrics_url() says which). Required.
  std::string listen;

  // The endpoint has no authentication or TLS, so a host that is not a
  // loopback address is refused unless this says that serving the figures
  // to the network is meant. Default: false.
  bool allow_plaintext = false;
};

struct SNAKEPIT_EXPORT Config {
  std::vector<PoolConfig> pools;

  // Set: PoolManager::Start serves the metrics endpoint (MetricsConfig).
  // Unset: no port is opened. Default: unset.
  std::optional<MetricsConfig> metrics;

  // Parent directory of the private (0700) socket directory. Empty means
  // $XDG_RUNTIME_DIR if set, else /tmp.
  std::string socket_dir;

  // Parses and validates. Errors are INVALID_ARGUMENT and name the key path
  // and the reason, e.g. "pools[1].threads_per_worker: must be >= 1".
  // The legacy single-pool form (pool keys at top level, no "pools") becomes
  // one pool named "default".
  [[nodiscard]] static absl::StatusOr<Config> FromJson(const nlohmann::json& json);
  [[nodiscard]] static absl::StatusOr<Config> FromJsonString(std::string_view text);
  [[nodiscard]] static absl::StatusOr<Config> FromJsonFile(const std::string& path);

  // Checks a Config built in C++ the same way FromJson does (duplicate
  // names, ranges, profile/field combinations).
  [[nodiscard]] absl::Status Validate() const;
};

}  // namespace snakepit

#endif  // SNAKEPIT_CONFIG_H_
