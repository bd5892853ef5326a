// sluice-bench — one measurement (test × transport × size) and what it produced.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace sluice::bench {

enum class TestKind { kThroughput, kPingPong };

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
};

/// Runs the job in a fresh leader process (which forks the follower), so a crash, a hang or an
/// abort in a transport becomes an error result. Never throws for transport failures.
JobResult run_job(const JobSpec& spec);

/// The first argument of a leader or follower that the runner started with exec (transports
/// whose library cannot be used after fork, Transport::needs_fresh_process); internal.
inline constexpr const char* kJobProcessFlag = "--job-process";
/// main() of such a process: argv[1] is kJobProcessFlag. Returns the exit status.
int run_job_process(int argc, char** argv);

}  // namespace sluice::bench
