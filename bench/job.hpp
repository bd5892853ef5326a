// sluice-bench — one measurement (test × transport × size) and what it produced.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace sluice::bench {

enum class TestKind {
  kThroughput,
  kPingPong,
  kEcho,       // request/reply against one server from `clients` processes (echo_runner.cpp)
  kEchoScale,  // clients × connections idle connections: descriptors, memory, one verified trip
  kConnect,    // connection set-up: open, one round trip, close, per connection
};

/// What to measure and how long to try.
struct JobSpec {
  TestKind test = TestKind::kThroughput;
  std::string transport;
  std::size_t size_bytes = 64;
  int rounds = 5;
  /// Throughput: each round sends enough messages to take about this long.
  double round_seconds = 0.3;
  /// Ping-pong: timed round trips per round (after a warm-up).
  std::uint64_t pingpong_samples = 20000;
  /// The whole job (setup, calibration, rounds) is killed after this.
  std::chrono::milliseconds timeout{20000};
  /// CPUs for the leader and the follower; empty means do not pin.
  std::vector<int> cpus;
  /// Echo: client processes, connections each, and the per-connection buffer size (also the
  /// buffer size of the connect test's server instances).
  int clients = 1;
  int connections_per_client = 1;
  std::size_t buffer_bytes = 4096;
  /// Echo: unmeasured time before the first round.
  double warmup_seconds = 0.3;
};

enum class JobStatus { kOk, kError, kSkipped };

/// Medians over the rounds of one job.
struct JobResult {
  JobStatus status = JobStatus::kError;
  std::string error;  // kError / kSkipped: why
  double mb_per_s = 0;
  double msgs_per_s = 0;
  std::uint64_t messages_per_round = 0;
  double p50_us = 0;
  double p99_us = 0;
  double p999_us = 0;
  double max_us = 0;
  /// Echo: median over rounds of requests/s and of each round's p50/p99 (all clients merged).
  double requests_per_s = 0;
  /// Echo scale: connections served, and per connection the descriptors (server, clients)
  /// and the memory growth of server + clients (PSS and RSS from /proc/<pid>/smaps_rollup).
  std::uint64_t connections = 0;
  double server_fds_per_connection = 0;
  double client_fds_per_connection = 0;
  double server_pss_bytes_per_connection = 0;
  double client_pss_bytes_per_connection = 0;
  double rss_bytes_per_connection = 0;
};

/// Runs the job in a fresh leader process (which forks the follower), so a crash, a hang or an
/// abort in a transport becomes an error result. Never throws for transport failures.
JobResult run_job(const JobSpec& spec);

/// Runs an echo job (kEcho, kEchoScale): a server process and spec.clients client processes,
/// all exec'd afresh in one process group that is killed at the end or after spec.timeout.
JobResult run_echo_job(const JobSpec& spec);

/// The first argument of an exec'd echo server or client; internal.
inline constexpr const char* kEchoProcessFlag = "--echo-process";
/// main() of such a process: argv[1] is kEchoProcessFlag. Returns the exit status.
int run_echo_process(int argc, char** argv);

/// The first argument of a leader or follower that the runner started with exec (transports
/// whose library cannot be used after fork, Transport::needs_fresh_process); internal.
inline constexpr const char* kJobProcessFlag = "--job-process";
/// main() of such a process: argv[1] is kJobProcessFlag. Returns the exit status.
int run_job_process(int argc, char** argv);

}  // namespace sluice::bench
