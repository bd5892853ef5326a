// sluice-bench — message contents and the checksum the reader verifies.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace sluice::bench {

/// A block of pseudo-random bytes; message i is a window of it at a position that depends on i,
/// so the writer pays nothing per message to make its data and a lost, repeated or reordered
/// message changes the reader's checksum.
class PatternPool {
 public:
  /// Windows of `message_bytes`; `seed` varies the contents between rounds.
  PatternPool(std::size_t message_bytes, std::uint64_t seed);

  std::span<const std::byte> message(std::uint64_t index) const noexcept;
  std::size_t message_bytes() const noexcept { return message_bytes_; }

 private:
  std::size_t message_bytes_;
  std::size_t slots_;  // number of distinct 8-byte-aligned window positions
  std::vector<std::byte> bytes_;
};

/// Fletcher-style running sum over 64-bit words, order-sensitive across the whole stream. Cheap
/// (two dependent adds per 8 bytes) so the reader's verification does not dominate throughput.
/// Both sides must feed it the same message boundaries, which they do: one update per message.
class Checksum {
 public:
  void update(std::span<const std::byte> bytes) noexcept;
  std::uint64_t value() const noexcept { return sum_ ^ (sum_of_sums_ * 0x9E3779B97F4A7C15ull); }

 private:
  std::uint64_t sum_ = 1;
  std::uint64_t sum_of_sums_ = 0;
};

/// The checksum the reader must report after receiving messages [0, count) of `pool`.
std::uint64_t expected_checksum(const PatternPool& pool, std::uint64_t count);

}  // namespace sluice::bench
