#include "core/blocked_threads.hpp"

#include <atomic>
#include <mutex>
#include <unordered_map>

#include "core/pipe_end_core.hpp"
#include "os/linux/directory.hpp"

namespace sluice::core {
namespace {

struct Blocked {
  PipeEndCore* end = nullptr;
  std::atomic<bool> cancelled{false};
};

struct Table {
  std::mutex mu;
  std::unordered_map<std::uint32_t, Blocked*> by_thread;  // guarded by mu
};

Table& table() {
  static Table* t = new Table;  // never destroyed: threads may block while the process exits
  return *t;
}

thread_local Blocked t_blocked;

}  // namespace

namespace detail {
thread_local bool t_blocking_registered __attribute__((tls_model("initial-exec"))) = false;
}  // namespace detail

using detail::t_blocking_registered;

void enter_blocking(PipeEndCore& end) {
  if (t_blocking_registered) return;
  Table& t = table();
  std::lock_guard lock(t.mu);
  t_blocked.end = &end;
  t_blocked.cancelled.store(false);
  t.by_thread[os::current_thread_id()] = &t_blocked;
  t_blocking_registered = true;
}

void detail::leave_blocking_registered() noexcept {
  Table& t = table();
  std::lock_guard lock(t.mu);
  t.by_thread.erase(os::current_thread_id());
  t_blocked.end = nullptr;
  t_blocked.cancelled.store(false);
  t_blocking_registered = false;
}

bool blocking_cancelled() noexcept { return t_blocking_registered && t_blocked.cancelled.load(); }

bool cancel_blocked_thread(std::uint32_t tid) {
  Table& t = table();
  std::lock_guard lock(t.mu);  // keeps the end alive: its operation cannot return meanwhile
  auto it = t.by_thread.find(tid);
  if (it == t.by_thread.end()) return false;
  it->second->cancelled.store(true);
  it->second->end->interrupt();
  return true;
}

}  // namespace sluice::core
