// sluice — where completion handlers of asynchronous operations run.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>

namespace sluice {

/// Something that runs a handler later, on some thread of its choosing: IoContext::executor(),
/// or a wrapper around another library's executor, e.g.
/// `[ex](std::function<void()> f) { asio::post(ex, std::move(f)); }`. It must not run the
/// handler inside the call (sluice never completes an operation inside its initiating call).
using Executor = std::function<void(std::function<void()>)>;

/// A queue of completion handlers run by the threads that call run_one_for() or poll().
/// Thread safety: every member may be called from any thread; handlers run one at a time per
/// calling thread, in the order they were posted.
class IoContext {
 public:
  IoContext();
  IoContext(IoContext&&) noexcept;
  IoContext& operator=(IoContext&&) noexcept;
  IoContext(const IoContext&) = delete;
  IoContext& operator=(const IoContext&) = delete;
  ~IoContext();

  /// An executor that posts to this context. It keeps the queue alive, so handlers posted after
  /// the context is gone are dropped, never run on freed memory.
  Executor executor() const;

  /// Runs one handler, waiting up to `timeout` for one to be posted. Returns 1 if it ran one.
  std::size_t run_one_for(std::chrono::milliseconds timeout);

  /// Runs every handler that is ready now, without waiting. Returns how many ran.
  std::size_t poll();

 private:
  struct Queue;
  std::shared_ptr<Queue> queue_;
};

}  // namespace sluice
