// Engine: one pipe namespace plus the agent thread that serves this process's ends in it.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include "os/linux/poller.hpp"
#include "os/linux/unix_socket.hpp"
#include "registry/pipe_namespace.hpp"
#include "sluice/result.hpp"

namespace sluice::core {

/// Something the agent thread watches: a listener (readable = a client is connecting) or a
/// connection socket (hung up = the peer's end is gone, SIGKILL included).
class Watched {
 public:
  virtual ~Watched() = default;
  /// Called on the thread serving the engine: the agent thread, or a thread in Engine::drive();
  /// never on two threads at once. `key` says which descriptor (an end may have several over
  /// its life); stale keys must be ignored.
  virtual void on_ready(std::uint64_t key, bool readable, bool hung_up) = 0;
};

/// Thread safety: all members may be called from any thread.
class Engine {
 public:
  static Result<std::shared_ptr<Engine>> create(std::string directory, unsigned create_mode);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  registry::PipeNamespace& names() noexcept { return names_; }

  /// Starts watching `fd` for `target`; returns the key reported to on_ready.
  Result<std::uint64_t> watch(int fd, std::weak_ptr<Watched> target);
  /// Stops watching. After it returns, no new on_ready call for `key` starts (one already
  /// running may finish).
  void unwatch(int fd, std::uint64_t key) noexcept;

  /// Refuses one pending connection on `listen_fd` when the process is out of descriptors
  /// (called from on_ready only).
  void refuse_connection(int listen_fd) noexcept;

  /// Lets the calling thread serve the engine in place of the agent thread (leader/follower):
  /// it waits on the engine's descriptors for up to `timeout_ms` (negative: no limit) and runs
  /// the handlers of one batch of events itself, so a completion they cause is delivered on
  /// this thread, without a wake-up of the agent and a hand-off to this thread. Returns after
  /// that batch, a wake() or the time-out; false at once, having waited for nothing, when
  /// another thread drives already (or on the agent thread, or nested in a handler).
  ///
  /// Meanwhile the agent thread stands by without watching the descriptors (so a doorbell
  /// wakes only the driver). It serves again once no thread has driven for kStandbyGrace: a
  /// driver that leaves to do other work delays the engine's events by about that much at most.
  /// A thread that waits for something else while driving must have that something call wake().
  bool drive(int timeout_ms) { return drive(timeout_ms, nullptr); }
  /// drive(timeout_ms), also telling how many events it handled (wake-ups not counted), and
  /// not waiting at all when wake() was called since `unless_woken_since` (a wake_ticket()).
  bool drive(int timeout_ms, std::size_t* handled,
             std::optional<std::uint64_t> unless_woken_since = std::nullopt);

  /// Counts wake(). A caller that decides under its own lock that it will drive reads it there
  /// and hands it to drive(): a wake() meant for it then ends that drive at once, even when
  /// another driver took the eventfd's count while this one waited for its turn.
  std::uint64_t wake_ticket() const noexcept { return wakes_.load(std::memory_order_seq_cst); }

  /// The poller's descriptor: readable while events wait, for an event loop of the caller's that
  /// calls drive(0) when it is (Registry::events()).
  int ready_descriptor() const noexcept { return poller_.descriptor(); }
  /// Makes the wait of a thread in drive() return, or the next drive() not wait, if it comes
  /// before (the agent may have taken the eventfd's count). Takes no lock: callable anywhere.
  void wake() noexcept {
    wakes_.fetch_add(1, std::memory_order_seq_cst);
    wake_pending_.store(true);
    poller_.wake();
  }

  /// How long the agent leaves the descriptors to drivers after the last drive() began.
  static constexpr std::chrono::milliseconds kStandbyGrace{1};

 private:
  // Who waits on the poller and runs the handlers (exactly one of them, or none for a moment).
  // The agent first waits for events without taking any (kAgentWaiting), then takes and
  // handles them (kAgentServing).
  enum class Reactor { kNone, kAgentWaiting, kAgentServing, kDriver };

  Engine(registry::PipeNamespace names, os::Poller poller);
  void run();
  // Runs the handlers of `events`; true when the caller must stop (engine destroyed/stopping).
  bool dispatch(const std::vector<os::PollEvent>& events, const bool& destroyed);

  registry::PipeNamespace names_;
  os::Poller poller_;
  std::mutex mu_;
  std::unordered_map<std::uint64_t, std::weak_ptr<Watched>> watched_;  // guarded by mu_
  std::uint64_t next_key_ = 1;                                         // guarded by mu_
  std::atomic<bool> stopping_{false};
  std::atomic<bool> wake_pending_{false};  // a wake() no drive() has answered yet
  std::atomic<std::uint64_t> wakes_{0};    // wake() calls so far
  bool* destroyed_on_agent_ = nullptr;     // set by the agent thread before it handles events
  os::UniqueFd reserve_fd_;                // the serving thread only (on_ready)
  std::mutex lease_mu_;
  std::condition_variable lease_cv_;
  Reactor reactor_ = Reactor::kNone;          // guarded by lease_mu_
  std::uint64_t drives_ = 0;                  // guarded by lease_mu_: drive() calls that served
  unsigned wanting_ = 0;                      // guarded by lease_mu_: drivers waiting for the agent
  bool agent_sleeping_ = false;               // guarded by lease_mu_: standing by with no time-out
  std::vector<os::PollEvent> driver_events_;  // guarded by holding Reactor::kDriver
  std::thread agent_;
};

}  // namespace sluice::core
