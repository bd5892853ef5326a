#include "core/blocked_threads.hpp"

#include <atomic>
#include <mutex>
#include <unordered_map>

#include "core/pipe_end_core.hpp"
#include "os/linux/directory.hpp"
#include "os/linux/held_wakes.hpp"

namespace sluice::core {
namespace {

// One per thread, registered in the table by the thread's first wait and removed when the
// thread ends: a blocking read used to insert and erase a hash-map node (an allocation and a
// process-wide lock per read, a few per cent of an echo client's CPU).
struct Blocked {
  std::mutex mu;               // held by the owner to enter/leave, by a canceller to cancel
  PipeEndCore* end = nullptr;  // guarded by mu: the end the thread waits in, if any
  std::atomic<bool> cancelled{false};
  std::uint32_t tid = 0;  // under which the table knows it (0: not registered)
  ~Blocked();
};

struct Table {
  std::mutex mu;  // taken before a Blocked's mu, never after
  std::unordered_map<std::uint32_t, Blocked*> by_thread;  // guarded by mu
};

Table& table() {
  static Table* t = new Table;  // never destroyed: threads may block while the process exits
  return *t;
}

thread_local Blocked t_blocked;

Blocked::~Blocked() {
  if (tid == 0) return;
  Table& t = table();
  std::lock_guard lock(t.mu);  // after this no canceller can reach us
  auto it = t.by_thread.find(tid);
  if (it != t.by_thread.end() && it->second == this) t.by_thread.erase(it);
}

// Once per thread, and again in a fork's child (its copy of the forking thread has a new id;
// the parent's entries it inherited name threads that do not exist here and stay unused).
void register_thread(Blocked& b, std::uint32_t tid) {
  Table& t = table();
  std::lock_guard lock(t.mu);
  t.by_thread[tid] = &b;
  b.tid = tid;
}

}  // namespace

namespace detail {
thread_local bool t_blocking_registered __attribute__((tls_model("initial-exec"))) = false;
}  // namespace detail

using detail::t_blocking_registered;

void enter_blocking(PipeEndCore& end) {
  if (t_blocking_registered) return;
  Blocked& b = t_blocked;
  if (std::uint32_t tid = os::current_thread_id(); b.tid != tid) register_thread(b, tid);
  std::lock_guard lock(b.mu);
  b.end = &end;
  b.cancelled.store(false);
  t_blocking_registered = true;
}

void detail::leave_blocking_registered() noexcept {
  Blocked& b = t_blocked;
  std::lock_guard lock(b.mu);  // waits for a canceller inside interrupt(): the end stays alive
  b.end = nullptr;
  b.cancelled.store(false);
  t_blocking_registered = false;
}

bool blocking_cancelled() noexcept { return t_blocking_registered && t_blocked.cancelled.load(); }

namespace {
std::atomic<void (*)()> g_asleep{nullptr};
std::atomic<void (*)()> g_awake{nullptr};
}  // namespace

void set_sleep_observer(SleepObserver observer) noexcept {
  g_awake.store(observer.awake);
  g_asleep.store(observer.asleep);
}

SleepNotice::SleepNotice() noexcept {
  // Readers whose wakes this thread holds must not wait for it to wake up itself.
  os::release_held_wakes();
  if (auto* asleep = g_asleep.load(std::memory_order_relaxed)) {
    awake_ = g_awake.load(std::memory_order_relaxed);
    asleep();
  }
}

SleepNotice::~SleepNotice() {
  if (awake_) awake_();
}

bool cancel_blocked_thread(std::uint32_t tid) {
  Table& t = table();
  std::lock_guard lock(t.mu);  // the thread cannot end (and free its Blocked) meanwhile
  auto it = t.by_thread.find(tid);
  if (it == t.by_thread.end()) return false;
  Blocked& b = *it->second;
  std::lock_guard blocked_lock(b.mu);  // its operation cannot return meanwhile
  if (b.end == nullptr) return false;
  b.cancelled.store(true);
  b.end->interrupt();
  return true;
}

}  // namespace sluice::core
