// sluice-bench — reader-alone: the throughput follower's work with no IPC, the bound of every row.
//
// One process, pinned to the follower's CPU. Per message it does what follow_throughput does
// after each receive — one copy of the whole message into the reader's buffer, then the same
// checksum — with the same message pattern and sizes, but the source is the pattern pool itself
// (warm in this CPU's caches) instead of a ring another CPU has just written. A transport's row
// can come near this row, never above it: the gap is what moving the bytes between the two
// processes costs (the writer's copy is on the other CPU, so it overlaps; the cache-line
// transfers between the CPUs and the synchronisation do not).
//
// Timed like the IPC rows (same calibration, rounds and medians, measure_throughput); the
// checksum is checked after each round, so a broken copy is an error row here too.
#include <cstring>
#include <vector>

#include "measure.hpp"
#include "payload.hpp"

namespace sluice::bench {

JobResult measure_reader_alone(const JobSpec& spec) {
  if (spec.test != TestKind::kThroughput) throw BenchError("reader-alone has throughput rows only");
  std::vector<std::byte> buffer(spec.size_bytes);
  return measure_throughput(spec, [&](const PatternPool& pool, std::uint64_t count) {
    const std::uint64_t expected = expected_checksum(pool, count);
    Checksum checksum;
    const std::int64_t start = monotonic_ns();
    for (std::uint64_t i = 0; i < count; ++i) {
      const std::span<const std::byte> message = pool.message(i);
      std::memcpy(buffer.data(), message.data(), message.size());
      // The copy is half the work measured: the buffer escapes here, so the compiler can neither
      // drop the copy nor have the checksum read the pool in its place.
      asm volatile("" : : "r"(buffer.data()) : "memory");
      checksum.update(buffer);
    }
    const std::int64_t end = monotonic_ns();
    check_checksum(checksum.value(), expected, count);
    return seconds_between(start, end);
  });
}

}  // namespace sluice::bench
