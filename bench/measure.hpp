// sluice-bench — the measurements: leader and follower sides, and the reader's work alone.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "control.hpp"
#include "job.hpp"
#include "transport.hpp"

namespace sluice::bench {

/// CLOCK_MONOTONIC in nanoseconds.
std::int64_t monotonic_ns() noexcept;
/// The median (mean of the middle two for an even count); 0 for none.
double median(std::vector<double> values);
/// Nearest-rank percentile, q in [0, 1], of sorted values.
double percentile_of_sorted(const std::vector<double>& sorted, double q);

/// Latencies (µs) of each round of a latency test.
struct LatencyRounds {
  std::vector<double> p50, p99, p999, max;
};
/// A latency row: the medians over rounds of p50, p99 and p99.9, and the maximum of all.
JobResult latency_result(const LatencyRounds& rounds, std::uint64_t samples_per_round);

class PatternPool;

/// Seconds from `start_ns` to `end_ns` (monotonic_ns values), at least 1 ns.
double seconds_between(std::int64_t start_ns, std::int64_t end_ns) noexcept;
/// Throws BenchError ("CHECKSUM MISMATCH …") unless the reader's checksum is the expected one.
void check_checksum(std::uint64_t seen, std::uint64_t expected, std::uint64_t count);

/// One throughput round: moves messages [0, count) of `pool` and returns the seconds it took.
using ThroughputRound = std::function<double(const PatternPool& pool, std::uint64_t count)>;
/// Calibrates the message count so that a round takes about spec.round_seconds (the calibration
/// rounds double as warm-up), then runs spec.rounds rounds: medians of MB/s and messages/s.
JobResult measure_throughput(const JobSpec& spec, const ThroughputRound& round);

/// One-way throughput: the leader writes, the follower reads whole messages and checksums every
/// byte; a checksum mismatch throws. Calibrates the message count, then runs spec.rounds rounds.
JobResult lead_throughput(Channel& channel, ControlLink& control, const JobSpec& spec);
void follow_throughput(Channel& channel, ControlLink& control, const Command& command);

/// Ping-pong: the leader times each round trip of one message the follower echoes.
JobResult lead_pingpong(Channel& channel, ControlLink& control, const JobSpec& spec);
void follow_pingpong(Channel& channel, ControlLink& control, const Command& command);

/// Connect: the follower opens `count` connections per round one after another (open, one round
/// trip of spec.size_bytes, close) and times each; the leader serves them through `listener`.
/// Calibrates the count like throughput; reports the medians over rounds of each round's
/// p50/p99/p99.9 per connection, and the max over all.
JobResult lead_connect(Listener& listener, ControlLink& control, const JobSpec& spec);
void follow_connect(Transport& transport, ControlLink& control, const Command& command);

/// Reader alone (no IPC, one process): copies each message of the throughput pattern into the
/// reader's buffer and checksums it, as the follower does after each receive; the bound no
/// transport can pass. Throughput rows only.
JobResult measure_reader_alone(const JobSpec& spec);

}  // namespace sluice::bench
