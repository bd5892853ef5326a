#include "win32/thread_io.hpp"

#include "core/pipe_end_core.hpp"
#include "sluice/process.hpp"

namespace sluice::win32 {

thread_local ThreadIo t_io;

std::uint32_t current_tid() { return current_thread_id(); }

void remember(const std::shared_ptr<PendingIo>& op) {
  auto& v = t_io.issued;
  if (v.size() >= 64) {
    std::erase_if(v, [](const std::weak_ptr<PendingIo>& w) { return w.expired(); });
  }
  v.push_back(op);
}

ThreadIo::~ThreadIo() {
  // The thread is leaving: its APCs die with it, it no longer runs for a completion port, and its
  // pending operations on ends without a completion port are cancelled, as on Windows
  // (docs/architecture.md, "Where Windows is unclear"). The process's main thread leaves when the
  // process exits, which ends everything anyway.
  if (apc) close_apc_queue(*apc);
  {
    std::lock_guard lock(io_mutex());
    if (auto freed = stop_running_locked(*this)) wake_port_locked(*freed);
  }
  if (current_tid() == current_process_id()) return;
  for (auto& w : issued) {
    auto op = w.lock();
    if (!op) continue;
    std::uint64_t id = 0;
    {
      std::lock_guard lock(io_mutex());
      if (!op->done) id = op->id;
    }
    auto core = op->core.lock();
    if (id != 0 && core) (void)core->cancel(id);
  }
}

}  // namespace sluice::win32
