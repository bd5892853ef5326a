#include "core/engine.hpp"

#include <algorithm>
#include <vector>

#include "os/linux/thread_credentials.hpp"
#include "sluice/security.hpp"

namespace sluice::core {

namespace {

// Another user's instances count as the name's only when its descriptor lets them in (a
// squatter's claim to have joined is checked, not believed). Clients check again at connect,
// with the instance's supplementary groups.
bool may_join(const registry::PipeAttributes& owner_pipe, std::uint32_t uid, std::uint32_t gid) {
  auto security = SecurityDescriptor::from_text(owner_pipe.security);
  return security && security->permits(Identity{uid, gid, {}}, rights::kCreatePipeInstance);
}

}  // namespace

Result<std::shared_ptr<Engine>> Engine::create(std::string directory, unsigned create_mode) {
  // The agent serves the process, never a client some thread impersonates: what it creates
  // (listeners, segments) and the thread itself inherit the creating thread's credentials.
  os::OwnCredentialsScope as_process;
  auto names = registry::PipeNamespace::open(std::move(directory), create_mode, may_join);
  if (!names) return names.error();
  auto poller = os::Poller::create();
  if (!poller) return poller.error();
  std::shared_ptr<Engine> engine(new Engine(std::move(*names), std::move(*poller)));
  // Started here, never lazily (a thread created while another thread impersonates a client
  // would inherit the client's identity; the scope above covers this thread, not the others).
  engine->agent_ = std::thread([raw = engine.get()] { raw->run(); });
  return engine;
}

Engine::Engine(registry::PipeNamespace names, os::Poller poller)
    : names_(std::move(names)),
      poller_(std::move(poller)),
      reserve_fd_(os::open_reserve_descriptor()) {}

void Engine::refuse_connection(int listen_fd) noexcept {
  os::refuse_one_connection(listen_fd, reserve_fd_);
}

Engine::~Engine() {
  stopping_.store(true);
  poller_.wake();
  {
    // Under the lock: the agent may be standing by, between its look at stopping_ and its wait.
    std::lock_guard lease(lease_mu_);
  }
  lease_cv_.notify_all();
  // The last end can die on the agent thread itself (it held the last reference while
  // handling an event); that thread then simply returns from run().
  if (agent_.get_id() == std::this_thread::get_id()) {
    *destroyed_on_agent_ = true;
    agent_.detach();
  } else if (agent_.joinable()) {
    agent_.join();
  }
}

Result<std::uint64_t> Engine::watch(int fd, std::weak_ptr<Watched> target) {
  std::uint64_t key;
  {
    std::lock_guard lock(mu_);
    key = next_key_++;
    watched_.emplace(key, std::move(target));
  }
  auto added = poller_.add(fd, key);
  if (!added) {
    std::lock_guard lock(mu_);
    watched_.erase(key);
    return added.error();
  }
  return key;
}

void Engine::unwatch(int fd, std::uint64_t key) noexcept {
  poller_.remove(fd);
  std::lock_guard lock(mu_);
  watched_.erase(key);
}

namespace {
// The engine this thread is serving in drive(), against nesting.
thread_local const Engine* t_driving = nullptr;
}  // namespace

bool Engine::dispatch(const std::vector<os::PollEvent>& events, const bool& destroyed) {
  for (const auto& ev : events) {
    if (ev.key == os::Poller::kWakeKey) continue;
    std::shared_ptr<Watched> target;
    {
      std::lock_guard lock(mu_);
      auto it = watched_.find(ev.key);
      if (it != watched_.end()) target = it->second.lock();
    }
    if (target) target->on_ready(ev.key, ev.readable, ev.hung_up);
    target.reset();
    if (destroyed || stopping_.load()) return true;
  }
  return false;
}

// The agent serves whenever no driver does. Handing the descriptors to a driver costs the agent
// one wake-up (the driver's interrupt); after that it stands by, and waits without a time-out
// only while a driver sits in the poller, so a steady driver costs it at most about two
// wake-ups per kStandbyGrace and an idle one none.
//
// The agent waits for events without taking them (await_events) and takes them only once it
// holds kAgentServing, so a driver can take over from a waiting agent at once: a driver never
// waits for the agent to be scheduled, which on a busy machine took milliseconds.
void Engine::run() {
  std::vector<os::PollEvent> events;
  bool destroyed = false;  // lives on this thread's stack, so it outlives `this`
  destroyed_on_agent_ = &destroyed;
  std::unique_lock lease(lease_mu_);
  std::uint64_t seen = drives_;
  bool recent = false;  // a driver let go since the last grace period began
  while (!stopping_.load()) {
    if (reactor_ == Reactor::kDriver) {
      // It tells us when it lets go (one wake-up per such moment, not per batch it serves).
      agent_sleeping_ = true;
      lease_cv_.wait(lease);
      agent_sleeping_ = false;
      recent = true;
      continue;
    }
    if (wanting_ > 0 || drives_ != seen || recent) {
      // A driver is about to take over, or served within the last grace period: it will
      // probably be back. Every event still waits in the (level-triggered) poller meanwhile.
      seen = drives_;
      recent = false;
      lease_cv_.wait_for(lease, kStandbyGrace);
      continue;
    }
    reactor_ = Reactor::kAgentWaiting;
    lease.unlock();
    bool ready = poller_.await_events();
    lease.lock();
    if (reactor_ != Reactor::kAgentWaiting) continue;  // a driver took over
    if (!ready) {
      reactor_ = Reactor::kNone;  // an interrupt meant for an earlier wait
      continue;
    }
    reactor_ = Reactor::kAgentServing;
    lease.unlock();
    events.clear();
    poller_.wait(events, 0);
    if (dispatch(events, destroyed)) return;
    lease.lock();
    reactor_ = Reactor::kNone;
    if (wanting_ > 0) lease_cv_.notify_all();
  }
}

bool Engine::drive(int timeout_ms, std::size_t* handled,
                   std::optional<std::uint64_t> unless_woken_since) {
  if (handled) *handled = 0;
  if (t_driving != nullptr || std::this_thread::get_id() == agent_.get_id()) return false;
  {
    std::unique_lock lease(lease_mu_);
    if (reactor_ == Reactor::kAgentWaiting) {
      reactor_ = Reactor::kNone;  // it holds no event yet: take over, and let it stand by
      poller_.interrupt_await();
    } else if (reactor_ == Reactor::kAgentServing) {
      ++wanting_;  // it lets go after the batch it is in
      lease_cv_.wait(lease, [&] { return reactor_ != Reactor::kAgentServing || stopping_.load(); });
      --wanting_;
    }
    if (reactor_ != Reactor::kNone || stopping_.load()) return false;
    reactor_ = Reactor::kDriver;
    ++drives_;
  }
  t_driving = this;
  driver_events_.clear();
  // A wake() meant for this driver may have ended the agent's wait instead of ours.
  if (wake_pending_.exchange(false)) timeout_ms = 0;
  if (unless_woken_since && wakes_.load(std::memory_order_seq_cst) != *unless_woken_since)
    timeout_ms = 0;
  poller_.wait(driver_events_, timeout_ms);
  if (handled) {
    *handled = static_cast<std::size_t>(
        std::count_if(driver_events_.begin(), driver_events_.end(),
                      [](const os::PollEvent& ev) { return ev.key != os::Poller::kWakeKey; }));
  }
  // The caller holds a reference to the engine, so it can be neither destroyed nor stopping.
  const bool destroyed = false;
  (void)dispatch(driver_events_, destroyed);
  t_driving = nullptr;
  std::lock_guard lease(lease_mu_);
  reactor_ = Reactor::kNone;
  if (agent_sleeping_ || wanting_ > 0) lease_cv_.notify_all();
  return true;
}

}  // namespace sluice::core
