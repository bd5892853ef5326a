// sluice-bench — one-way throughput.
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <string>

#include "measure.hpp"
#include "payload.hpp"

namespace sluice::bench {
namespace {

constexpr std::uint64_t kMinMessages = 8;
constexpr std::uint64_t kMaxMessages = 200'000'000;
constexpr std::uint64_t kPatternSeed = 0x5eed'b1a5'0000'0001ull;

/// One round: returns seconds from the first write until the follower reported its checksum.
double throughput_round(Channel& channel, ControlLink& control, const PatternPool& pool,
                        std::uint64_t count) {
  const std::uint64_t expected = expected_checksum(pool, count);
  control.send(Command{Op::kThroughput, static_cast<std::uint32_t>(pool.message_bytes()), count});
  const std::int64_t start = monotonic_ns();
  for (std::uint64_t i = 0; i < count; ++i) channel.send(pool.message(i));
  const Reply reply = control.receive_reply();
  const std::int64_t end = monotonic_ns();
  check_checksum(reply.checksum, expected, count);
  return seconds_between(start, end);
}

}  // namespace

std::int64_t monotonic_ns() noexcept {
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

double median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const std::size_t mid = values.size() / 2;
  return values.size() % 2 != 0 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
}

void check_checksum(std::uint64_t seen, std::uint64_t expected, std::uint64_t count) {
  if (seen == expected) return;
  char text[160];
  std::snprintf(text, sizeof text,
                "CHECKSUM MISMATCH after %llu messages: reader saw %016llx, writer sent %016llx",
                static_cast<unsigned long long>(count), static_cast<unsigned long long>(seen),
                static_cast<unsigned long long>(expected));
  throw BenchError(text);
}

double seconds_between(std::int64_t start_ns, std::int64_t end_ns) noexcept {
  return static_cast<double>(std::max<std::int64_t>(end_ns - start_ns, 1)) * 1e-9;
}

JobResult measure_throughput(const JobSpec& spec, const ThroughputRound& round) {
  const PatternPool pool(spec.size_bytes, kPatternSeed ^ spec.size_bytes);

  // Calibrate (doubles as warm-up): grow the count until a round is long enough to time, then
  // scale it to the target length.
  std::uint64_t count = std::max<std::uint64_t>(kMinMessages, (4u << 20) / spec.size_bytes);
  double seconds = round(pool, count);
  while (seconds < spec.round_seconds / 4 && count < kMaxMessages) {
    const double factor = std::clamp(spec.round_seconds / seconds, 2.0, 16.0);
    count = static_cast<std::uint64_t>(static_cast<double>(count) * factor);
    seconds = round(pool, count);
  }
  count = std::clamp(
      static_cast<std::uint64_t>(static_cast<double>(count) * spec.round_seconds / seconds),
      kMinMessages, kMaxMessages);

  std::vector<double> mb_per_s;
  std::vector<double> msgs_per_s;
  for (int i = 0; i < spec.rounds; ++i) {
    seconds = round(pool, count);
    msgs_per_s.push_back(static_cast<double>(count) / seconds);
    mb_per_s.push_back(static_cast<double>(count * spec.size_bytes) / seconds / 1e6);
  }
  JobResult result;
  result.status = JobStatus::kOk;
  result.mb_per_s = median(mb_per_s);
  result.msgs_per_s = median(msgs_per_s);
  result.messages_per_round = count;
  return result;
}

JobResult lead_throughput(Channel& channel, ControlLink& control, const JobSpec& spec) {
  return measure_throughput(spec, [&](const PatternPool& pool, std::uint64_t count) {
    return throughput_round(channel, control, pool, count);
  });
}

void follow_throughput(Channel& channel, ControlLink& control, const Command& command) {
  std::vector<std::byte> buffer(command.size_bytes);
  Checksum checksum;
  for (std::uint64_t i = 0; i < command.count; ++i) {
    channel.receive_checksummed(buffer, checksum);
  }
  control.send(Reply{checksum.value()});
}

}  // namespace sluice::bench
