// sluice-bench — the two measurements, leader and follower sides.
#pragma once

#include <cstdint>
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

/// One-way throughput: the leader writes, the follower reads whole messages and checksums every
/// byte; a checksum mismatch throws. Calibrates the message count, then runs spec.rounds rounds.
JobResult lead_throughput(Channel& channel, ControlLink& control, const JobSpec& spec);
void follow_throughput(Channel& channel, ControlLink& control, const Command& command);

/// Ping-pong: the leader times each round trip of one message the follower echoes.
JobResult lead_pingpong(Channel& channel, ControlLink& control, const JobSpec& spec);
void follow_pingpong(Channel& channel, ControlLink& control, const Command& command);

}  // namespace sluice::bench
