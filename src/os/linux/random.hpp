// Random bytes from the kernel.
#pragma once

#include <cstddef>

namespace sluice::os {

/// Fills `size` bytes at `out` from getrandom(2) (never blocks after boot; aborts if the kernel
/// has no entropy source at all, which would make every secret guessable).
void fill_random(void* out, std::size_t size) noexcept;

}  // namespace sluice::os
