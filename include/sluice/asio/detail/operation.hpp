// sluice — Asio adapter internals: the per-context service and one pending operation.
//
// How a completion travels: sluice's engine finishes an operation on its agent thread (or in
// the thread that called cancel()/close()) and calls the sluice Executor this file builds. That
// executor marks the operation finished and posts the completion to the handler's associated
// executor, but only while the execution context is alive (the Gate). The posted function
// clears the cancellation slot, lets go of the outstanding work and runs the user's handler.
//
// Why a service: a coroutine suspended on a pending pipe operation is owned by that operation
// (its handler), and the operation by sluice's engine, not by the io_context. When the context
// is destroyed, its service shutdown cancels every pending operation of every pipe object made
// on it; the completions land in the scheduler's queue, which destroys them without running
// them, so suspended coroutine frames are freed as they are for Asio's own sockets.
#pragma once

#include <asio/associated_cancellation_slot.hpp>
#include <asio/associated_executor.hpp>
#include <asio/buffer.hpp>
#include <asio/cancellation_type.hpp>
#include <asio/detail/scheduler.hpp>
#include <asio/error.hpp>
#include <asio/execution_context.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/post.hpp>
#include <asio/query.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <system_error>
#include <unordered_map>
#include <utility>
#include <vector>

#include "sluice/asio/detail/engine_watch.hpp"
#include "sluice/error.hpp"
#include "sluice/io_context.hpp"
#include "sluice/registry.hpp"

namespace sluice::asio::detail {

/// Lets completions into an execution context only while its services are alive.
struct Gate {
  std::mutex mu;
  bool open = true;  // guarded by mu
};

/// A pipe object's shared state, as the service sees it: something whose pending operations
/// must end when the context shuts down.
class Cancellable {
 public:
  /// Ends every pending operation (their completions are posted, then destroyed unrun).
  virtual void cancel_for_shutdown() noexcept = 0;

 protected:
  ~Cancellable() = default;
};

/// One per execution context: knows the live pipe objects made on it (see the file comment).
/// Thread safety: every member may be called from any thread.
class PipeService final : public ::asio::execution_context::service {
 public:
  inline static ::asio::execution_context::id id;

  explicit PipeService(::asio::execution_context& context)
      : ::asio::execution_context::service(context),
        gate_(std::make_shared<Gate>()),
        watch_switch_(std::make_shared<WatchSwitch>()),
        one_thread_scheduler_(one_thread_scheduler(context)) {}

  const std::shared_ptr<Gate>& gate() const noexcept { return gate_; }
  const std::shared_ptr<WatchSwitch>& watch_switch() const noexcept { return watch_switch_; }

  void add(const std::shared_ptr<Cancellable>& object) {
    std::lock_guard lock(mu_);
    live_[object.get()] = object;
  }
  void remove(Cancellable* object) noexcept {
    std::lock_guard lock(mu_);
    live_.erase(object);
  }

  /// Called before a write. On the thread of a context that runs on one thread (concurrency
  /// hint 1), holds that thread's wakes of the readers it writes to until the handlers queued
  /// now have run: a handler posted behind them lets them go together
  /// (RegistryEvents::hold_wakes). A server answering many clients is then not preempted by
  /// each client it wakes.
  template <class IoExecutor>
  void hold_wakes_for_queued_handlers(const IoExecutor& executor) {
    if (!one_thread_scheduler_ || !one_thread_scheduler_->can_dispatch()) return;
    if (release_posted() || !RegistryEvents::hold_wakes()) return;
    release_posted() = true;
    ::asio::post(executor, WakeRelease{});
  }

  /// Has this context's threads do `registry`'s engine work from now on (engine_watch.hpp);
  /// once per engine and context.
  template <class IoExecutor>
  void watch_engine(const IoExecutor& executor, const Registry& registry) {
    std::shared_ptr<EngineWatch> watch;
    {
      std::lock_guard lock(mu_);
      // Each watch keeps its engine, and so the engine's descriptor, open: the number names one
      // engine for as long as the entry exists.
      RegistryEvents events = registry.events();
      auto& entry = watched_[events.descriptor()];
      if (entry) return;
      entry = watch = std::make_shared<EngineWatch>(executor, std::move(events));
    }
    if (watch->open()) watch_switch_->add(watch);  // if not, the agent thread keeps the work
  }

 private:
  void shutdown() override {
    watch_switch_->close();
    // Released now, while the reactor service still exists (services are destroyed after every
    // service has shut down, the reactor before this one).
    std::unordered_map<int, std::shared_ptr<EngineWatch>> watches;
    {
      std::lock_guard lock(mu_);
      watches.swap(watched_);
    }
    watches.clear();
    std::vector<std::shared_ptr<Cancellable>> objects;
    {
      std::lock_guard lock(mu_);
      for (auto& [raw, weak] : live_)
        if (auto strong = weak.lock()) objects.push_back(std::move(strong));
    }
    // Not under mu_: a destroyed handler may destroy a pipe object, which calls remove().
    for (auto& object : objects) object->cancel_for_shutdown();
    std::lock_guard lock(gate_->mu);
    // TODO(cleanup): an operation the agent thread finished just before the cancellations above
    // and posts only now is destroyed on the agent thread instead of by the scheduler.
    gate_->open = false;
  }

  // Lets the held wakes go when it runs, or when it is destroyed unrun (the context went away).
  struct WakeRelease {
    WakeRelease() = default;
    WakeRelease(WakeRelease&& other) noexcept : owner_(std::exchange(other.owner_, false)) {}
    WakeRelease& operator=(WakeRelease&&) = delete;
    ~WakeRelease() {
      if (owner_) release();
    }
    void operator()() {
      owner_ = false;
      release();
    }

   private:
    static void release() noexcept {
      release_posted() = false;
      RegistryEvents::release_wakes();
    }
    bool owner_ = true;
  };

  // A release is queued for the calling thread's held wakes.
  static bool& release_posted() noexcept {
    thread_local bool posted = false;
    return posted;
  }

  // The context's scheduler when Asio runs it in its one-thread mode, else null.
  static ::asio::detail::scheduler* one_thread_scheduler(::asio::execution_context& context) {
    if (!::asio::has_service<::asio::detail::scheduler>(context)) return nullptr;
    auto& scheduler = ::asio::use_service<::asio::detail::scheduler>(context);
    int hint = scheduler.concurrency_hint();
    bool one_thread = hint == 1 || !ASIO_CONCURRENCY_HINT_IS_LOCKING(SCHEDULER, hint) ||
                      !ASIO_CONCURRENCY_HINT_IS_LOCKING(REACTOR_IO, hint);
    return one_thread ? &scheduler : nullptr;
  }

  std::shared_ptr<Gate> gate_;
  std::mutex mu_;
  std::unordered_map<Cancellable*, std::weak_ptr<Cancellable>> live_;  // guarded by mu_
  std::shared_ptr<WatchSwitch> watch_switch_;
  ::asio::detail::scheduler* const one_thread_scheduler_;
  // By engine; they live as long as the context (and keep their engines alive).
  std::unordered_map<int, std::shared_ptr<EngineWatch>> watched_;  // guarded by mu_: by descriptor
};

/// The service of the context behind `executor` (a standard Asio executor).
template <class IoExecutor>
PipeService& service_of(const IoExecutor& executor) {
  return ::asio::use_service<PipeService>(::asio::query(executor, ::asio::execution::context));
}

/// Error codes as the adapter reports them: sluice's own (category "sluice", Win32 numbers),
/// except that a cancelled operation reports asio::error::operation_aborted as Asio's do.
inline std::error_code to_asio_error(std::error_code e) noexcept {
  if (e == errc::kOperationAborted) return ::asio::error::operation_aborted;
  return e;
}

/// For reads: kBrokenPipe (the peer closed and everything was read) is the end of the stream.
inline std::error_code to_asio_read_error(std::error_code e) noexcept {
  if (e == errc::kBrokenPipe) return ::asio::error::eof;
  return to_asio_error(e);
}

/// The first non-empty buffer of a sequence (an empty one when all are empty).
template <class Buffer, class Sequence>
Buffer first_buffer(const Sequence& buffers) {
  for (auto it = ::asio::buffer_sequence_begin(buffers); it != ::asio::buffer_sequence_end(buffers);
       ++it) {
    Buffer b(*it);
    if (b.size() != 0) return b;
  }
  return Buffer();
}

/// What an operation's cancellation slot holds: forwards a cancellation to `cancel` unless the
/// operation has finished already.
struct CancelForwarder {
  std::shared_ptr<std::atomic<bool>> finished;
  std::function<void()> cancel;
  void operator()(::asio::cancellation_type type) const {
    using ::asio::cancellation_type;
    if ((type & (cancellation_type::terminal | cancellation_type::partial |
                 cancellation_type::total)) == cancellation_type::none)
      return;
    if (!finished->load(std::memory_order_acquire)) cancel();
  }
};

/// One pending operation: the user's handler, the outstanding work that keeps both executors
/// busy while it is pending, and its cancellation slot. Shared by the sluice callback and the
/// sluice Executor; the handler runs at most once, on its associated executor.
template <class Handler, class IoExecutor>
class Operation {
 public:
  using HandlerExecutor = ::asio::associated_executor_t<Handler, IoExecutor>;

  /// `service`: the I/O object's (null when it has none: the operation fails at once).
  Operation(Handler handler, const IoExecutor& io_executor, PipeService* service)
      : pending_(service ? service->watch_switch() : nullptr),
        handler_(std::move(handler)),
        io_work_(io_executor),
        handler_work_(::asio::get_associated_executor(handler_, io_executor)),
        slot_(::asio::get_associated_cancellation_slot(handler_)),
        finished_(std::make_shared<std::atomic<bool>>(false)) {}

  /// Installs `cancel` in the handler's cancellation slot, if it has one. Call before the
  /// operation starts, on the initiating thread (slots are not thread-safe).
  void on_cancel(std::function<void()> cancel) {
    if (slot_.is_connected()) slot_.template emplace<CancelForwarder>(finished_, std::move(cancel));
  }

  /// The sluice Executor for this operation (see the file comment).
  static Executor sluice_executor(std::shared_ptr<Operation> self, std::shared_ptr<Gate> gate) {
    return [self = std::move(self), gate = std::move(gate)](std::function<void()> f) {
      self->finished_->store(true, std::memory_order_release);
      std::unique_lock lock(gate->mu);
      if (!gate->open) {
        lock.unlock();
        return;  // the context is gone: f (and the handler it holds) dies here, unrun
      }
      ::asio::post(self->handler_work_.get_executor(), std::move(f));
    };
  }

  /// Completes without sluice (initiation errors, empty buffers): posts from the initiating
  /// thread, never runs the handler inside the call.
  template <class... Args>
  static void post_now(std::shared_ptr<Operation> self, Args... args) {
    self->finished_->store(true, std::memory_order_release);
    if (self->slot_.is_connected()) self->slot_.clear();
    auto executor = self->handler_work_.get_executor();
    ::asio::post(executor, [self = std::move(self), ... args = std::move(args)]() mutable {
      self->complete(std::move(args)...);
    });
  }

  /// Runs the handler; call on the handler's executor.
  template <class... Args>
  void complete(Args&&... args) {
    if (slot_.is_connected()) slot_.clear();
    Handler handler(std::move(handler_));
    pending_.release();
    io_work_.reset();
    handler_work_.reset();
    std::move(handler)(std::forward<Args>(args)...);
  }

 private:
  PendingMark pending_;  // first: the engine watch waits from before the operation starts
  Handler handler_;
  ::asio::executor_work_guard<IoExecutor> io_work_;
  ::asio::executor_work_guard<HandlerExecutor> handler_work_;
  ::asio::associated_cancellation_slot_t<Handler> slot_;
  std::shared_ptr<std::atomic<bool>> finished_;
};

}  // namespace sluice::asio::detail
