#include "sluice/io_context.hpp"

#include <condition_variable>
#include <deque>
#include <mutex>

namespace sluice {

struct IoContext::Queue {
  std::mutex mu;
  std::condition_variable ready;
  std::deque<std::function<void()>> handlers;  // guarded by mu

  void post(std::function<void()> handler) {
    {
      std::lock_guard lock(mu);
      handlers.push_back(std::move(handler));
    }
    ready.notify_one();
  }

  bool take(std::function<void()>* out, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu);
    if (!ready.wait_for(lock, timeout, [&] { return !handlers.empty(); })) return false;
    *out = std::move(handlers.front());
    handlers.pop_front();
    return true;
  }
};

IoContext::IoContext() : queue_(std::make_shared<Queue>()) {}
IoContext::IoContext(IoContext&&) noexcept = default;
IoContext& IoContext::operator=(IoContext&&) noexcept = default;
IoContext::~IoContext() = default;

Executor IoContext::executor() const {
  return [queue = queue_](std::function<void()> handler) { queue->post(std::move(handler)); };
}

std::size_t IoContext::run_one_for(std::chrono::milliseconds timeout) {
  std::function<void()> handler;
  if (!queue_->take(&handler, timeout)) return 0;
  handler();
  return 1;
}

std::size_t IoContext::poll() {
  std::size_t ran = 0;
  std::function<void()> handler;
  while (queue_->take(&handler, std::chrono::milliseconds(0))) {
    handler();
    ++ran;
  }
  return ran;
}

}  // namespace sluice
