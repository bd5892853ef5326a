#include "os/linux/process_barrier.hpp"

#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>

namespace sluice::os {
namespace {

// A property of the process, like its pid: registration cannot be undone.
std::atomic<bool> registered{false};

long membarrier(int cmd) { return ::syscall(SYS_membarrier, cmd, 0, 0); }

}  // namespace

bool register_for_process_barriers() noexcept {
  if (registered.load()) return true;
  long supported = membarrier(MEMBARRIER_CMD_QUERY);
  if (supported < 0 || !(supported & MEMBARRIER_CMD_GLOBAL_EXPEDITED)) return false;
  if (membarrier(MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED) != 0) return false;
  registered.store(true);
  return true;
}

bool process_barriers_available() noexcept { return registered.load(); }

void process_barrier() noexcept {
  if (!registered.load() || membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED) != 0)
    std::atomic_thread_fence(std::memory_order_seq_cst);
}

}  // namespace sluice::os
