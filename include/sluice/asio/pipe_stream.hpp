// sluice — a pipe end as an Asio AsyncReadStream / AsyncWriteStream.
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/buffer.hpp>
#include <asio/compose.hpp>
#include <asio/error.hpp>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <memory>
#include <mutex>
#include <span>
#include <system_error>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "sluice/asio/detail/operation.hpp"
#include "sluice/named_pipe.hpp"

namespace sluice::asio {

namespace detail {

/// What a stream's pending operations and cancellation slots share with it: the end, behind a
/// mutex because a cancellation may arrive from another thread than close(). The end keeps its
/// type (a ServerEnd can still disconnect).
class StreamCore final : public Cancellable {
 public:
  using AnyEnd = std::variant<PipeEnd, ServerEnd, ClientEnd>;

  StreamCore(AnyEnd end, std::shared_ptr<Gate> shared_gate)
      : gate_(std::move(shared_gate)), end_(std::move(end)) {}

  /// Runs f(PipeEnd&) under the lock.
  template <class F>
  auto with_end(F&& f) {
    std::lock_guard lock(mu_);
    return std::visit([&](PipeEnd& end) { return std::forward<F>(f)(end); }, end_);
  }
  /// Cancels pending operations, then disconnects a server end (kInvalidFunction otherwise).
  Result<void> disconnect() {
    std::lock_guard lock(mu_);
    auto* server = std::get_if<ServerEnd>(&end_);
    if (!server) return errc::kInvalidFunction;
    (void)server->cancel();
    return server->disconnect();
  }
  void cancel_for_shutdown() noexcept override {
    with_end([](PipeEnd& end) { (void)end.cancel(); });
  }

  const std::shared_ptr<Gate>& gate() const noexcept { return gate_; }

  /// Whether the last read that completed ended its message (see is_message_complete()).
  bool message_complete() const noexcept { return message_complete_.load(); }
  void set_message_complete(bool complete) noexcept { message_complete_.store(complete); }

 private:
  const std::shared_ptr<Gate> gate_;
  std::mutex mu_;
  AnyEnd end_;  // guarded by mu_
  std::atomic<bool> message_complete_{true};
};

}  // namespace detail

/// A connected sluice pipe end (ServerEnd or ClientEnd) driven by Asio: an AsyncReadStream and
/// AsyncWriteStream, so asio::async_read, asio::async_write, asio::async_read_until and
/// coroutines (asio::use_awaitable, asio::experimental::deferred, callbacks, any completion
/// token) work on it.
///
/// Completions: handlers run on their associated executor (default: this stream's), never
/// inside the initiating call, exactly once. Pending reads complete in the order they were
/// started, and so do writes (sluice's order). Outstanding work is counted while an operation
/// is pending, so io_context::run() does not return under it.
///
/// Errors are sluice's std::error_code (category "sluice", the Win32 numbers of sluice::errc:
/// e.g. kPipeNotConnected after the server disconnected the instance, kNoData when writing to a
/// closed peer), with two exceptions Asio code relies on:
///  - a read that finds the peer closed and nothing left (sluice's kBrokenPipe) reports
///    asio::error::eof, so asio::read/async_read loops end the usual way;
///  - an operation ended by cancel(), close(), the destructor or a cancellation slot reports
///    asio::error::operation_aborted.
///
/// Cancellation: per-operation cancellation slots (asio::bind_cancellation_slot, the awaitable
/// operators, parallel groups) are honoured for every cancellation type, but sluice cancels per
/// end: cancelling one operation ends every pending operation of this stream, reads and writes
/// (difference from Asio sockets; the others report operation_aborted too). The peer may have
/// taken part of a cancelled write's data already; the rest leaves the pipe.
///
/// Buffers: a read fills the first non-empty buffer of the sequence only (as Asio's Windows
/// stream handles do). A write sends its whole buffer sequence as one sluice write, so on a
/// message pipe one async_write_some is one message (several buffers are gathered by a copy).
/// asio::async_write splits at 64 KiB (asio's default_max_transfer_size): send larger messages
/// with one async_write_some. A read with an empty buffer completes at once with 0 bytes (as on
/// Asio sockets; sluice's zero-byte "wait for data" read is PipeEnd::async_read).
///
/// Thread safety: as Asio's I/O objects: distinct objects safe, one object not (use a strand),
/// except that cancellation slots may be emitted from any thread. The execution context must
/// outlive the stream.
template <class IoExecutor = ::asio::any_io_executor>
class BasicPipeStream {
 public:
  using executor_type = IoExecutor;
  template <class OtherExecutor>
  struct rebind_executor {
    using other = BasicPipeStream<OtherExecutor>;
  };

  /// A stream without an end (operations fail with sluice's kInvalidHandle).
  explicit BasicPipeStream(const executor_type& executor) : executor_(executor) {}
  /// Takes over `end`: a connected ServerEnd or ClientEnd (or a PipeEnd), in the read mode it
  /// has.
  template <class End>
  requires std::is_base_of_v<PipeEnd, End> BasicPipeStream(const executor_type& executor, End end)
      : executor_(executor) {
    assign(std::move(end));
  }
  template <class Context>
  requires std::is_convertible_v<Context&, ::asio::execution_context&>
  explicit BasicPipeStream(Context& context) : BasicPipeStream(context.get_executor()) {}
  template <class Context, class End>
  requires std::is_convertible_v<Context&, ::asio::execution_context&> &&
      std::is_base_of_v<PipeEnd, End>
      BasicPipeStream(Context& context, End end)
      : BasicPipeStream(context.get_executor(), std::move(end)) {}

  BasicPipeStream(BasicPipeStream&& other) noexcept
      : executor_(other.executor_), core_(std::move(other.core_)), service_(other.service_) {
    other.service_ = nullptr;
  }
  BasicPipeStream& operator=(BasicPipeStream&& other) noexcept {
    if (this != &other) {
      reset();
      executor_ = other.executor_;
      core_ = std::move(other.core_);
      service_ = other.service_;
      other.service_ = nullptr;
    }
    return *this;
  }
  BasicPipeStream(const BasicPipeStream&) = delete;
  BasicPipeStream& operator=(const BasicPipeStream&) = delete;
  /// Closes the end: pending operations complete with operation_aborted.
  ~BasicPipeStream() { reset(); }

  executor_type get_executor() const noexcept { return executor_; }

  /// Closes the current end (if any) and takes over `end` (ServerEnd, ClientEnd or PipeEnd).
  template <class End>
  requires std::is_base_of_v<PipeEnd, End>
  void assign(End end) {
    reset();
    if (!end.is_open()) return;
    auto& service = detail::service_of(executor_);
    core_ = std::make_shared<detail::StreamCore>(
        detail::StreamCore::AnyEnd(std::in_place_type<End>, std::move(end)), service.gate());
    service.add(core_);
    service_ = &service;
  }

  /// Whether the stream holds an open end.
  bool is_open() const {
    return core_ && core_->with_end([](PipeEnd& end) { return end.is_open(); });
  }

  /// Ends every pending operation with operation_aborted; returns how many.
  std::size_t cancel() {
    return core_ ? core_->with_end([](PipeEnd& end) { return end.cancel(); }) : 0;
  }

  /// Ends pending operations with operation_aborted, then closes the end (the peer sees a
  /// close: its reads drain then end with eof, its writes fail with kNoData).
  void close() {
    if (!core_) return;
    core_->with_end([](PipeEnd& end) {
      (void)end.cancel();
      end.close();
    });
  }

  /// Server streams: ends pending operations with operation_aborted, then ends the connection
  /// (ServerEnd::disconnect: unread data is discarded, the client sees kPipeNotConnected).
  /// Errors: kInvalidFunction (not a server end), kInvalidHandle (no end), as disconnect().
  Result<void> disconnect() {
    if (!core_) return errc::kInvalidHandle;
    return core_->disconnect();
  }

  /// Runs `f(PipeEnd&)` on the end (info(), state(), set_state(), peek(), the client's
  /// process id...) and returns what it returns. `f` must not close or move the end.
  template <class F>
  auto with_end(F&& f) {
    if (!core_) {
      PipeEnd none;
      return std::forward<F>(f)(none);
    }
    return core_->with_end(std::forward<F>(f));
  }

  /// Reads some bytes into the first non-empty buffer: as much as is there, at least one byte,
  /// at most one message in message-read mode (the rest of the message stays for the next
  /// read). Signature: void(std::error_code, std::size_t).
  template <class MutableBufferSequence,
            class ReadToken = ::asio::default_completion_token_t<executor_type>>
  auto async_read_some(const MutableBufferSequence& buffers,
                       ReadToken&& token = ::asio::default_completion_token_t<executor_type>()) {
    return ::asio::async_initiate<ReadToken, void(std::error_code, std::size_t)>(InitiateRead{this},
                                                                                 token, buffers);
  }

  /// Whether the last read that completed ended its message, as .NET's
  /// PipeStream.IsMessageComplete: false after a message-mode read that filled its buffer before
  /// the end of the message (Windows' ERROR_MORE_DATA; the rest comes with the next reads), true
  /// otherwise (a byte-mode read, a failed one, and before any read).
  bool is_message_complete() const { return !core_ || core_->message_complete(); }

  /// Reads one whole message (message-read mode) and appends it to `buffers`, an Asio
  /// DynamicBuffer (asio::dynamic_buffer(vector_or_string)), growing it as the message needs up
  /// to its max_size(). In byte-read mode it appends what one read returns. Signature:
  /// void(std::error_code, std::size_t bytes_appended). Errors: as async_read_some, and
  /// asio::error::message_size (no room left below max_size(); what was read stays appended and
  /// the rest of the message waits for the next read).
  template <class DynamicBuffer,
            class ReadToken = ::asio::default_completion_token_t<executor_type>>
  auto async_read_message(DynamicBuffer buffers,
                          ReadToken&& token = ::asio::default_completion_token_t<executor_type>()) {
    return ::asio::async_compose<ReadToken, void(std::error_code, std::size_t)>(
        ReadMessage<DynamicBuffer>{this, std::move(buffers)}, token, executor_);
  }

  /// Writes the whole buffer sequence as one write (one message on a message pipe); completes
  /// once it fits the pipe's quota. Signature: void(std::error_code, std::size_t).
  template <class ConstBufferSequence,
            class WriteToken = ::asio::default_completion_token_t<executor_type>>
  auto async_write_some(const ConstBufferSequence& buffers,
                        WriteToken&& token = ::asio::default_completion_token_t<executor_type>()) {
    return ::asio::async_initiate<WriteToken, void(std::error_code, std::size_t)>(
        InitiateWrite{this}, token, buffers);
  }

 private:
  struct InitiateRead {
    BasicPipeStream* self;
    executor_type get_executor() const noexcept { return self->executor_; }
    template <class Handler, class Buffers>
    void operator()(Handler&& handler, const Buffers& buffers) const {
      self->start_read(std::forward<Handler>(handler), buffers);
    }
  };
  struct InitiateWrite {
    BasicPipeStream* self;
    executor_type get_executor() const noexcept { return self->executor_; }
    template <class Handler, class Buffers>
    void operator()(Handler&& handler, const Buffers& buffers) const {
      self->start_write(std::forward<Handler>(handler), buffers);
    }
  };

  // async_read_message: reads into the buffer's free end, grown each time (4 KiB, then
  // doubling), until a read ends the message.
  template <class DynamicBuffer>
  struct ReadMessage {
    BasicPipeStream* stream;
    DynamicBuffer buffers;
    std::size_t appended = 0;
    std::size_t chunk = 0;  // what the read in flight was given; 0 before the first

    template <class Self>
    void operator()(Self& self, std::error_code error = {}, std::size_t bytes = 0) {
      if (chunk > 0) {
        buffers.shrink(chunk - bytes);
        appended += bytes;
        if (error || stream->is_message_complete()) return self.complete(error, appended);
      }
      std::size_t room = buffers.max_size() - buffers.size();
      if (room == 0) return self.complete(::asio::error::message_size, appended);
      chunk = std::min(room, chunk == 0 ? std::size_t{4096} : chunk * 2);
      std::size_t at = buffers.size();
      buffers.grow(chunk);
      stream->async_read_some(buffers.data(at, chunk), std::move(self));
    }
  };

  template <class Handler>
  using OperationFor = detail::Operation<std::decay_t<Handler>, executor_type>;

  // Installs the cancellation forwarder; it holds the core weakly (the stream may be gone).
  template <class Op>
  void forward_cancellation(Op& op) {
    op.on_cancel([weak = std::weak_ptr<detail::StreamCore>(core_)] {
      if (auto core = weak.lock()) core->with_end([](PipeEnd& end) { (void)end.cancel(); });
    });
  }

  template <class Handler, class Buffers>
  void start_read(Handler&& handler, const Buffers& buffers) {
    using Op = OperationFor<Handler>;
    auto op = std::make_shared<Op>(std::forward<Handler>(handler), executor_, service_);
    auto buffer = detail::first_buffer<::asio::mutable_buffer>(buffers);
    if (buffer.size() == 0) return Op::post_now(std::move(op), std::error_code(), std::size_t{0});
    if (!core_)
      return Op::post_now(std::move(op), make_error_code(errc::kInvalidHandle), std::size_t{0});
    forward_cancellation(*op);
    std::span<std::byte> span(static_cast<std::byte*>(buffer.data()), buffer.size());
    auto started = core_->with_end([&](PipeEnd& end) {
      return end.async_read(
          span, Op::sluice_executor(op, core_->gate()),
          [op, weak = std::weak_ptr<detail::StreamCore>(core_)](Result<ReadResult> r) {
            if (auto core = weak.lock()) core->set_message_complete(!r || !r->more_data);
            if (r) {
              op->complete(std::error_code(), r->bytes);
            } else {
              op->complete(detail::to_asio_read_error(r.error()), std::size_t{0});
            }
          });
    });
    if (!started)
      Op::post_now(std::move(op), detail::to_asio_read_error(started.error()), std::size_t{0});
  }

  template <class Handler, class Buffers>
  void start_write(Handler&& handler, const Buffers& buffers) {
    using Op = OperationFor<Handler>;
    auto op = std::make_shared<Op>(std::forward<Handler>(handler), executor_, service_);
    if (!core_)
      return Op::post_now(std::move(op), make_error_code(errc::kInvalidHandle), std::size_t{0});
    // One sluice write per call: a scattered sequence is gathered so that it stays one message.
    std::shared_ptr<std::vector<std::byte>> gathered;
    ::asio::const_buffer buffer = detail::first_buffer<::asio::const_buffer>(buffers);
    if (::asio::buffer_size(buffers) != buffer.size()) {
      gathered = std::make_shared<std::vector<std::byte>>(::asio::buffer_size(buffers));
      ::asio::buffer_copy(::asio::buffer(*gathered), buffers);
      buffer = ::asio::buffer(*gathered);
    }
    forward_cancellation(*op);
    if (service_) service_->hold_wakes_for_queued_handlers(executor_);
    std::span<const std::byte> span(static_cast<const std::byte*>(buffer.data()), buffer.size());
    auto started = core_->with_end([&](PipeEnd& end) {
      return end.async_write(span, Op::sluice_executor(op, core_->gate()),
                             [op, gathered](Result<std::size_t> r) {
                               if (r) {
                                 op->complete(std::error_code(), *r);
                               } else {
                                 op->complete(detail::to_asio_error(r.error()), std::size_t{0});
                               }
                             });
    });
    if (!started)
      Op::post_now(std::move(op), detail::to_asio_error(started.error()), std::size_t{0});
  }

  // Closes the end and forgets it (destructor, move-assignment, assign).
  void reset() noexcept {
    if (!core_) return;
    close();
    if (service_) service_->remove(core_.get());
    core_.reset();
    service_ = nullptr;
  }

  executor_type executor_;
  std::shared_ptr<detail::StreamCore> core_;
  detail::PipeService* service_ = nullptr;
};

/// A pipe stream on asio::any_io_executor.
using PipeStream = BasicPipeStream<>;

}  // namespace sluice::asio
