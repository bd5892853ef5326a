// Counts that Windows reports in 32 bits (DWORD) while sluice keeps them in 64.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>

namespace sluice::core {

/// `v` saturated at 0xFFFFFFFF: a count too large for its 32-bit field reads as the largest one
/// it can hold, never as the small number that truncation would leave.
constexpr std::uint32_t clamp32(std::uint64_t v) noexcept {
  return static_cast<std::uint32_t>(
      std::min<std::uint64_t>(v, std::numeric_limits<std::uint32_t>::max()));
}

}  // namespace sluice::core
