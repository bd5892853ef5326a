// Engine: one pipe namespace plus the agent thread that serves this process's ends in it.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>

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
  /// Called on the agent thread. `key` says which descriptor (an end may have several over its
  /// life); stale keys must be ignored.
  virtual void on_ready(std::uint64_t key, bool readable, bool hung_up) = 0;
};

/// Thread safety: all members may be called from any thread.
class Engine {
 public:
  static Result<std::shared_ptr<Engine>> create(std::string directory);
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
  /// (called on the agent thread only).
  void refuse_connection(int listen_fd) noexcept;

 private:
  Engine(registry::PipeNamespace names, os::Poller poller);
  void run();

  registry::PipeNamespace names_;
  os::Poller poller_;
  std::mutex mu_;
  std::unordered_map<std::uint64_t, std::weak_ptr<Watched>> watched_;  // guarded by mu_
  std::uint64_t next_key_ = 1;                                         // guarded by mu_
  std::atomic<bool> stopping_{false};
  bool* destroyed_on_agent_ = nullptr;  // set by the agent thread before it handles events
  os::UniqueFd reserve_fd_;             // agent thread only
  std::thread agent_;
};

}  // namespace sluice::core
