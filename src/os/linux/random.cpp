#include "os/linux/random.hpp"

#include <sys/random.h>

#include <cerrno>
#include <cstdlib>

namespace sluice::os {

void fill_random(void* out, std::size_t size) noexcept {
  auto* p = static_cast<unsigned char*>(out);
  while (size > 0) {
    ssize_t n = ::getrandom(p, size, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      std::abort();
    }
    p += n;
    size -= static_cast<std::size_t>(n);
  }
}

}  // namespace sluice::os
