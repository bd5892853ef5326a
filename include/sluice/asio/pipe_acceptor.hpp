// sluice — a named pipe server as an Asio acceptor: async_accept hands out connected streams.
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/async_result.hpp>

#include <algorithm>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include "sluice/asio/detail/operation.hpp"
#include "sluice/asio/pipe_stream.hpp"
#include "sluice/named_pipe.hpp"
#include "sluice/registry.hpp"

namespace sluice::asio {

namespace detail {

/// What an acceptor, its pending accepts and their cancellation slots share: the spare
/// instance (listening before anyone accepts) and the instances with a pending connect.
class AcceptorCore final : public Cancellable {
 public:
  AcceptorCore(Registry& registry, std::string name, const ServerOptions& options,
               std::shared_ptr<Gate> shared_gate)
      : gate_(std::move(shared_gate)),
        registry_(&registry),
        name_(std::move(name)),
        options_(options) {}

  /// Creates the spare instance if there is none. Errors: as ServerEnd::create.
  Result<void> refill() {
    std::lock_guard lock(mu_);
    return refill_locked();
  }

  /// Takes the spare instance (creating one if needed) and counts it as pending.
  Result<std::shared_ptr<ServerEnd>> take() {
    std::lock_guard lock(mu_);
    if (!open_) return errc::kInvalidHandle;
    if (auto made = refill_locked(); !made) return made.error();
    auto end = std::make_shared<ServerEnd>(std::move(spare_));
    pending_.push_back(end);
    return end;
  }

  /// Starts a connect on a pending instance, under the lock that cancel() and close() take.
  template <class F>
  Result<void> start(const std::shared_ptr<ServerEnd>& end, F&& f) {
    std::lock_guard lock(mu_);
    return std::forward<F>(f)(*end);
  }

  /// Forgets a pending instance; when it connected, makes the next spare so clients keep
  /// finding an instance while this one is served (errors wait for the next accept).
  void finish(const std::shared_ptr<ServerEnd>& end, bool connected) {
    std::lock_guard lock(mu_);
    std::erase(pending_, end);
    if (connected && open_) (void)refill_locked();
  }

  /// Cancels the connect pending on `end`, if it still is.
  void cancel(const std::shared_ptr<ServerEnd>& end) {
    std::lock_guard lock(mu_);
    if (std::find(pending_.begin(), pending_.end(), end) != pending_.end()) (void)end->cancel();
  }

  std::size_t cancel_all() {
    std::lock_guard lock(mu_);
    std::size_t n = 0;
    for (auto& end : pending_) n += end->cancel();
    return n;
  }

  void close() {
    std::lock_guard lock(mu_);
    open_ = false;
    for (auto& end : pending_) (void)end->cancel();
    spare_.close();
  }

  bool is_open() {
    std::lock_guard lock(mu_);
    return open_;
  }

  void cancel_for_shutdown() noexcept override { (void)cancel_all(); }

  const std::shared_ptr<Gate>& gate() const noexcept { return gate_; }

 private:
  const std::shared_ptr<Gate> gate_;
  Result<void> refill_locked() {
    if (spare_.is_open()) return {};
    auto made = ServerEnd::create(*registry_, name_, options_);
    if (!made) return made.error();
    spare_ = std::move(*made);
    // FILE_FLAG_FIRST_PIPE_INSTANCE asks that the acceptor's first instance be the pipe's first;
    // the instances it makes after it are later ones by design and would all fail with
    // kAccessDenied.
    options_.first_instance = false;
    return {};
  }

  std::mutex mu_;
  Registry* registry_;
  const std::string name_;
  ServerOptions options_;                            // guarded by mu_
  bool open_ = true;                                 // guarded by mu_
  ServerEnd spare_;                                  // guarded by mu_
  std::vector<std::shared_ptr<ServerEnd>> pending_;  // guarded by mu_
};

}  // namespace detail

/// A named pipe server that accepts like an Asio acceptor: each async_accept takes a listening
/// instance, waits for a client (ServerEnd::async_connect) and completes with a connected
/// BasicPipeStream; as soon as one connects the next instance is created, so a client always
/// finds one listening (the Windows server loop: create, connect, hand out, create again).
/// Several accepts may be pending; each owns its own instance.
///
/// Completion signature: void(std::error_code, BasicPipeStream<IoExecutor>); the stream uses
/// the acceptor's executor. Errors: as ServerEnd::create when no instance can be made (e.g.
/// kPipeBusy at the instance limit), sluice's kInvalidHandle after close(), operation_aborted
/// when cancelled (cancel(), close(), the destructor, or the handler's cancellation slot, which
/// ends only that accept). Completion rules, thread safety: as BasicPipeStream.
///
/// The Registry must outlive the acceptor.
template <class IoExecutor = ::asio::any_io_executor>
class BasicPipeAcceptor {
 public:
  using executor_type = IoExecutor;
  using stream_type = BasicPipeStream<IoExecutor>;

  /// Creates the first instance of `name` at once (clients may connect before the first
  /// async_accept). `options.first_instance` applies to that instance only: it makes sure the
  /// acceptor owns the name, and the instances it creates later are its own. Errors: as
  /// ServerEnd::create.
  static Result<BasicPipeAcceptor> create(const executor_type& executor, Registry& registry,
                                          std::string_view name,
                                          const ServerOptions& options = {}) {
    BasicPipeAcceptor acceptor(executor, registry, name, options);
    if (auto made = acceptor.core_->refill(); !made) return made.error();
    return acceptor;
  }
  template <class Context>
  requires std::is_convertible_v<Context&, ::asio::execution_context&>
  static Result<BasicPipeAcceptor> create(Context& context, Registry& registry,
                                          std::string_view name,
                                          const ServerOptions& options = {}) {
    return create(context.get_executor(), registry, name, options);
  }

  BasicPipeAcceptor(BasicPipeAcceptor&& other) noexcept
      : executor_(other.executor_), core_(std::move(other.core_)), service_(other.service_) {
    other.service_ = nullptr;
  }
  BasicPipeAcceptor& operator=(BasicPipeAcceptor&& other) noexcept {
    if (this != &other) {
      reset();
      executor_ = other.executor_;
      core_ = std::move(other.core_);
      service_ = other.service_;
      other.service_ = nullptr;
    }
    return *this;
  }
  BasicPipeAcceptor(const BasicPipeAcceptor&) = delete;
  BasicPipeAcceptor& operator=(const BasicPipeAcceptor&) = delete;
  /// Closes: pending accepts complete with operation_aborted.
  ~BasicPipeAcceptor() { reset(); }

  executor_type get_executor() const noexcept { return executor_; }

  bool is_open() const { return core_ && core_->is_open(); }

  /// Ends every pending accept with operation_aborted; returns how many.
  std::size_t cancel() { return core_ ? core_->cancel_all() : 0; }

  /// Ends pending accepts with operation_aborted and closes the listening instance; later
  /// accepts fail with kInvalidHandle. Streams already handed out are not affected.
  void close() {
    if (core_) core_->close();
  }

  /// Waits for the next client. Signature: void(std::error_code, BasicPipeStream<IoExecutor>).
  template <class AcceptToken = ::asio::default_completion_token_t<executor_type>>
  auto async_accept(AcceptToken&& token = ::asio::default_completion_token_t<executor_type>()) {
    return ::asio::async_initiate<AcceptToken, void(std::error_code, stream_type)>(
        InitiateAccept{this}, token);
  }

 private:
  BasicPipeAcceptor(const executor_type& executor, Registry& registry, std::string_view name,
                    const ServerOptions& options)
      : executor_(executor) {
    auto& service = detail::service_of(executor_);
    core_ = std::make_shared<detail::AcceptorCore>(registry, std::string(name), options,
                                                   service.gate());
    service.add(core_);
    service_ = &service;
    service.watch_engine(executor_, registry);
  }

  struct InitiateAccept {
    BasicPipeAcceptor* self;
    executor_type get_executor() const noexcept { return self->executor_; }
    template <class Handler>
    void operator()(Handler&& handler) const {
      self->start_accept(std::forward<Handler>(handler));
    }
  };

  template <class Handler>
  void start_accept(Handler&& handler) {
    using Op = detail::Operation<std::decay_t<Handler>, executor_type>;
    auto op = std::make_shared<Op>(std::forward<Handler>(handler), executor_, service_);
    if (!core_)
      return Op::post_now(std::move(op), make_error_code(errc::kInvalidHandle),
                          stream_type(executor_));
    auto taken = core_->take();
    if (!taken) return Op::post_now(std::move(op), taken.error(), stream_type(executor_));
    std::shared_ptr<ServerEnd> end = std::move(*taken);
    op->on_cancel([weak = std::weak_ptr<detail::AcceptorCore>(core_), end] {
      if (auto core = weak.lock()) core->cancel(end);
    });
    auto on_connect = [op, end, core = core_, executor = executor_](Result<ConnectStatus> r) {
      core->finish(end, r.has_value());
      if (!r) {
        end->close();
        op->complete(detail::to_asio_error(r.error()), stream_type(executor));
        return;
      }
      op->complete(std::error_code(), stream_type(executor, std::move(*end)));
    };
    auto start = [&](ServerEnd& server) {
      auto started = server.async_connect(Op::sluice_executor(op, core_->gate()), on_connect);
      // A client that came and went before the connect: drop it and listen again, as a Windows
      // server loop does on ERROR_NO_DATA.
      if (!started && started.error() == errc::kNoData && server.disconnect())
        started = server.async_connect(Op::sluice_executor(op, core_->gate()), on_connect);
      return started;
    };
    if (auto started = core_->start(end, start); !started) {
      core_->finish(end, false);
      end->close();
      Op::post_now(std::move(op), detail::to_asio_error(started.error()), stream_type(executor_));
    }
  }

  void reset() noexcept {
    if (!core_) return;
    core_->close();
    if (service_) service_->remove(core_.get());
    core_.reset();
    service_ = nullptr;
  }

  executor_type executor_;
  std::shared_ptr<detail::AcceptorCore> core_;
  detail::PipeService* service_ = nullptr;
};

/// A pipe acceptor on asio::any_io_executor.
using PipeAcceptor = BasicPipeAcceptor<>;

}  // namespace sluice::asio
