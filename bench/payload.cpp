// sluice-bench — message contents and the checksum the reader verifies.
#include "payload.hpp"

#include <cstring>

namespace sluice::bench {
namespace {

std::uint64_t splitmix64(std::uint64_t& state) noexcept {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Room for distinct windows even for the largest message; 64 KiB of slack keeps small-message
// pools inside L2 so the writer measures the transport rather than cache misses.
constexpr std::size_t kPoolSlack = 64 * 1024;
// Odd and coprime with any power of two, so consecutive messages land far apart.
constexpr std::uint64_t kSlotStride = 40503;

}  // namespace

PatternPool::PatternPool(std::size_t message_bytes, std::uint64_t seed)
    : message_bytes_(message_bytes),
      slots_(kPoolSlack / 8),
      bytes_(message_bytes + kPoolSlack + 8) {
  std::uint64_t state = seed;
  for (std::size_t i = 0; i + 8 <= bytes_.size(); i += 8) {
    const std::uint64_t word = splitmix64(state);
    std::memcpy(bytes_.data() + i, &word, 8);
  }
}

std::span<const std::byte> PatternPool::message(std::uint64_t index) const noexcept {
  const std::size_t slot = static_cast<std::size_t>((index * kSlotStride) % slots_);
  return {bytes_.data() + slot * 8, message_bytes_};
}

void Checksum::update(std::span<const std::byte> bytes) noexcept {
  std::uint64_t a = sum_;
  std::uint64_t b = sum_of_sums_;
  std::size_t i = 0;
  for (; i + 8 <= bytes.size(); i += 8) {
    std::uint64_t word;
    std::memcpy(&word, bytes.data() + i, 8);
    a += word;
    b += a;
  }
  for (; i < bytes.size(); ++i) {
    a += static_cast<std::uint64_t>(bytes[i]) + 1;
    b += a;
  }
  sum_ = a;
  sum_of_sums_ = b;
}

std::uint64_t expected_checksum(const PatternPool& pool, std::uint64_t count) {
  Checksum checksum;
  for (std::uint64_t i = 0; i < count; ++i) checksum.update(pool.message(i));
  return checksum.value();
}

}  // namespace sluice::bench
