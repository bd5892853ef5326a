// sluice-bench — round-trip latency of one small message.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "measure.hpp"
#include "payload.hpp"

namespace sluice::bench {
namespace {

constexpr std::uint64_t kWarmupTrips = 2000;

}  // namespace

double percentile_of_sorted(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(sorted.size())));
  return sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1];
}

JobResult latency_result(const LatencyRounds& rounds, std::uint64_t samples_per_round) {
  JobResult result;
  result.status = JobStatus::kOk;
  result.p50_us = median(rounds.p50);
  result.p99_us = median(rounds.p99);
  result.p999_us = median(rounds.p999);
  result.max_us = rounds.max.empty() ? 0 : *std::max_element(rounds.max.begin(), rounds.max.end());
  result.messages_per_round = samples_per_round;
  return result;
}

JobResult lead_pingpong(Channel& channel, ControlLink& control, const JobSpec& spec) {
  const PatternPool pool(spec.size_bytes, 0x9196'9096ull);
  std::vector<std::byte> ping(pool.message(0).begin(), pool.message(0).end());
  std::vector<std::byte> pong(spec.size_bytes);
  const bool stamp = spec.size_bytes >= sizeof(std::uint64_t);
  const auto rounds = static_cast<std::uint64_t>(spec.rounds);
  control.send(Command{Op::kPingPong, static_cast<std::uint32_t>(spec.size_bytes),
                       kWarmupTrips + rounds * spec.pingpong_samples});

  // Every echo is checked: a sequence number in the first bytes, the rest compared whole.
  std::uint64_t sequence = 0;
  auto trip = [&] {
    if (stamp) std::memcpy(ping.data(), &sequence, sizeof sequence);
    ++sequence;
    channel.send(ping);
    channel.receive(pong);
    if (std::memcmp(ping.data(), pong.data(), ping.size()) != 0) {
      throw BenchError("ECHO MISMATCH at round trip " + std::to_string(sequence));
    }
  };
  for (std::uint64_t i = 0; i < kWarmupTrips; ++i) trip();

  LatencyRounds per_round;  // medians reported, max is the max
  std::vector<double> samples(spec.pingpong_samples);
  for (std::uint64_t round = 0; round < rounds; ++round) {
    for (double& sample : samples) {
      const std::int64_t start = monotonic_ns();
      trip();
      sample = static_cast<double>(monotonic_ns() - start) / 1e3;
    }
    std::sort(samples.begin(), samples.end());
    per_round.p50.push_back(percentile_of_sorted(samples, 0.50));
    per_round.p99.push_back(percentile_of_sorted(samples, 0.99));
    per_round.p999.push_back(percentile_of_sorted(samples, 0.999));
    per_round.max.push_back(samples.back());
  }
  (void)control.receive_reply();

  return latency_result(per_round, spec.pingpong_samples);
}

void follow_pingpong(Channel& channel, ControlLink& control, const Command& command) {
  std::vector<std::byte> buffer(command.size_bytes);
  for (std::uint64_t i = 0; i < command.count; ++i) {
    channel.receive(buffer);
    channel.send(buffer);
  }
  control.send(Reply{});
}

}  // namespace sluice::bench
