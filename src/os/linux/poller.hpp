// Poller: an epoll set plus an eventfd, for the agent thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <vector>

#include "os/linux/unique_fd.hpp"
#include "sluice/result.hpp"

namespace sluice::os {

/// A readiness event: the key given at add() and whether the descriptor hung up.
struct PollEvent {
  std::uint64_t key;
  bool readable;
  bool hung_up;
};

/// Level-triggered epoll set. add/remove may be called from any thread while another waits.
class Poller {
 public:
  static Result<Poller> create();

  /// Watches `fd` for input and hang-up, reporting `key`.
  Result<void> add(int fd, std::uint64_t key);
  void remove(int fd) noexcept;
  /// Makes a concurrent wait() return with a key of kWakeKey.
  void wake() noexcept;
  /// Waits for events (appended to `out`); a negative timeout waits forever.
  void wait(std::vector<PollEvent>& out, int timeout_ms);
  /// Waits, taking no event, until events wait in the set (true) or interrupt_await() is
  /// called (false). Another thread may wait() meanwhile and take them first.
  bool await_events();
  /// Makes a concurrent await_events() return false, or the next one if none waits now.
  void interrupt_await() noexcept;
  /// The epoll descriptor itself: readable while events are waiting (for another event loop).
  int descriptor() const noexcept { return epoll_.get(); }

  static constexpr std::uint64_t kWakeKey = ~std::uint64_t{0};

 private:
  UniqueFd epoll_;
  UniqueFd wake_;
  UniqueFd interrupt_;  // for await_events(); outside the set, so wait() never sees it
};

}  // namespace sluice::os
