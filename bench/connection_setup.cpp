// sluice-bench — connect: what a connection costs from open to close, as a client sees it.
//
//   follower (client), per connection      leader (server)
//   t0 = now                               accept()   (sluice: connect(), then create the
//   open / connect ──────────────────────►             next client's instance)
//   send 64 B ───────────────────────────► receive, send it back
//   receive, close  ◄──────────────────────
//   t1 = now                               wait for the close, close
//
// The follower times each connection (t1 − t0) and reports the round's percentiles; the
// leader's share that overlaps the next connection (its close) counts only where it delays it.
#include <algorithm>
#include <cstring>
#include <string>

#include "measure.hpp"
#include "payload.hpp"

namespace sluice::bench {
namespace {

constexpr std::uint64_t kFirstCount = 32;
constexpr std::uint64_t kMinConnections = 20;
constexpr std::uint64_t kMaxConnections = 200'000;

/// Serves `count` connections: accept, echo one message, wait for the client's close, close.
void serve(Listener& listener, std::size_t size, std::uint64_t count) {
  std::vector<std::byte> buffer(size);
  for (std::uint64_t i = 0; i < count; ++i) {
    const std::unique_ptr<Channel> connection = listener.accept();
    connection->receive(buffer);
    connection->send(buffer);
    connection->wait_for_close();
  }
}

}  // namespace

JobResult lead_connect(Listener& listener, ControlLink& control, const JobSpec& spec) {
  auto round = [&](std::uint64_t count) {
    control.send(Command{Op::kConnectRound, static_cast<std::uint32_t>(spec.size_bytes), count});
    serve(listener, spec.size_bytes, count);
    return control.receive_reply();
  };

  // Calibrate (doubles as warm-up) as throughput does: grow the count until a round is long
  // enough to time, then scale it to the target length.
  std::uint64_t count = kFirstCount;
  auto timed = [&] {
    const std::int64_t start = monotonic_ns();
    (void)round(count);
    return seconds_between(start, monotonic_ns());
  };
  double seconds = timed();
  while (seconds < spec.round_seconds / 4 && count < kMaxConnections) {
    count = static_cast<std::uint64_t>(static_cast<double>(count) *
                                       std::clamp(spec.round_seconds / seconds, 2.0, 16.0));
    seconds = timed();
  }
  count = std::clamp(
      static_cast<std::uint64_t>(static_cast<double>(count) * spec.round_seconds / seconds),
      kMinConnections, kMaxConnections);

  LatencyRounds rounds;
  for (int i = 0; i < spec.rounds; ++i) {
    const Reply reply = round(count);
    rounds.p50.push_back(reply.p50_us);
    rounds.p99.push_back(reply.p99_us);
    rounds.p999.push_back(reply.p999_us);
    rounds.max.push_back(reply.max_us);
  }
  return latency_result(rounds, count);
}

void follow_connect(Transport& transport, ControlLink& control, const Command& command) {
  const PatternPool pool(command.size_bytes, 0xc0'22ec'7ull);
  std::vector<std::byte> request(pool.message(0).begin(), pool.message(0).end());
  std::vector<std::byte> reply(command.size_bytes);
  const bool stamp = request.size() >= sizeof(std::uint64_t);
  std::vector<double> samples;
  samples.reserve(command.count);
  for (std::uint64_t i = 0; i < command.count; ++i) {
    if (stamp) std::memcpy(request.data(), &i, sizeof i);
    const std::int64_t start = monotonic_ns();
    {
      const std::unique_ptr<Channel> connection = transport.dial();
      connection->send(request);
      connection->receive(reply);
    }  // closed here
    samples.push_back(static_cast<double>(monotonic_ns() - start) / 1e3);
    if (std::memcmp(request.data(), reply.data(), request.size()) != 0) {
      throw BenchError("ECHO MISMATCH on connection " + std::to_string(i));
    }
  }
  std::sort(samples.begin(), samples.end());
  Reply result;
  result.p50_us = percentile_of_sorted(samples, 0.50);
  result.p99_us = percentile_of_sorted(samples, 0.99);
  result.p999_us = percentile_of_sorted(samples, 0.999);
  result.max_us = samples.empty() ? 0 : samples.back();
  control.send(result);
}

}  // namespace sluice::bench
