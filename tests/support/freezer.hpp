// Freezer: holds a thread inside a signal handler until released, a thread that exists but
// does not run, for tests of what the others do meanwhile.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <thread>

namespace sluice::testing {

// Holds a thread inside a signal handler until released: a thread the scheduler does not run.
class Freezer {
 public:
  Freezer() {
    EXPECT_EQ(::pipe2(gate_, O_CLOEXEC), 0);
    struct sigaction action {};
    action.sa_handler = [](int) {
      char b;
      while (::read(gate_[0], &b, 1) < 0 && errno == EINTR) {
      }
      thawed_.store(true);
    };
    sigemptyset(&action.sa_mask);
    EXPECT_EQ(::sigaction(kSignal, &action, &previous_), 0);
  }
  ~Freezer() {
    release();
    // The gate stays open until the frozen thread is out of the handler.
    auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (frozen_ && !thawed_.load() && std::chrono::steady_clock::now() < end)
      std::this_thread::yield();
    ::sigaction(kSignal, &previous_, nullptr);
    ::close(gate_[0]);
    ::close(gate_[1]);
  }
  void freeze(pthread_t thread) {
    thawed_.store(false);
    frozen_ = ::pthread_kill(thread, kSignal) == 0;
    EXPECT_TRUE(frozen_);
  }
  void release() {
    if (released_.exchange(true)) return;
    char b = 1;
    EXPECT_EQ(::write(gate_[1], &b, 1), 1);
  }

 private:
  static inline int gate_[2] = {-1, -1};
  static inline std::atomic<bool> thawed_{false};
  static inline const int kSignal = SIGRTMIN + 5;
  struct sigaction previous_ {};
  std::atomic<bool> released_{false};
  bool frozen_ = false;
};

}  // namespace sluice::testing
