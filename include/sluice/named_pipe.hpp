// sluice — named pipes: `\\.\pipe\NAME` servers and clients with Windows semantics.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "sluice/io_context.hpp"
#include "sluice/pipe_types.hpp"
#include "sluice/registry.hpp"
#include "sluice/result.hpp"
#include "sluice/security.hpp"

namespace sluice {

namespace core {
class PipeEndCore;
}

/// A pipe end on its way to another process (PipeEnd::share()): descriptors and a text that
/// describes the end. Hand both over (the descriptors inherited across exec or sent with
/// SCM_RIGHTS, the text by any means) and adopt() the end there. Move-only; closes the
/// descriptors it still owns.
class PortableEnd {
 public:
  PortableEnd() noexcept = default;
  PortableEnd(PortableEnd&& other) noexcept;
  PortableEnd& operator=(PortableEnd&& other) noexcept;
  PortableEnd(const PortableEnd&) = delete;
  PortableEnd& operator=(const PortableEnd&) = delete;
  ~PortableEnd();

  /// What another process received: takes ownership of `descriptors` (in the order they were
  /// handed over).
  static PortableEnd from(std::string description, std::vector<int> descriptors) noexcept;

  /// The descriptors to hand over, in order. They are close-on-exec: a parent that wants a
  /// child to inherit them clears that for the spawn.
  const std::vector<int>& descriptors() const noexcept { return fds_; }
  const std::string& description() const noexcept { return description_; }
  /// Whether it describes a server end.
  bool server_end() const noexcept { return !description_.empty() && description_[0] == 'S'; }
  /// Gives up the descriptors without closing them.
  std::vector<int> release() noexcept;

  /// The description and the descriptor numbers as one string without spaces, for an argument
  /// or an environment variable of a child that gets the descriptors at the same numbers
  /// (SpawnOptions::pass_descriptors).
  std::string to_text() const;
  /// In that child: the PortableEnd to_text() wrote, taking over its descriptors.
  /// Errors: kInvalidParameter when `text` is not what to_text() writes.
  static Result<PortableEnd> from_text(std::string_view text);

 private:
  std::string description_;
  std::vector<int> fds_;
};

/// One end of a named pipe instance: what servers and clients share. Move-only; closing (or
/// destroying) the object closes the end, and the peer sees it as Windows peers do (reads drain
/// then kBrokenPipe, writes kNoData).
///
/// Thread safety: any thread may call any member; I/O on one end is serialised (a blocked read
/// holds back a write on the same end, as on a synchronous Windows handle). Do not destroy or
/// move an end while another thread uses it.
///
/// Errors common to every operation: kInvalidHandle on a closed or moved-from end;
/// kAccessDenied when the end lacks the right; kPipeNotConnected after the server disconnected
/// the instance; kPipeListening on a server end without a client (read, write).
class PipeEnd {
 public:
  PipeEnd() noexcept;
  PipeEnd(PipeEnd&&) noexcept;
  PipeEnd& operator=(PipeEnd&&) noexcept;
  ~PipeEnd();

  /// Reads what is there, up to buffer.size(); waits (blocking wait mode) until some data is
  /// there. Message-read mode returns at most one message; more_data when it did not fit.
  /// A zero-byte read waits for data and leaves it there. Errors: kBrokenPipe (peer closed and
  /// nothing left), kNoData (no-wait mode, nothing there).
  Result<ReadResult> read(std::span<std::byte> buffer);

  /// Reads as read() does, without copying: `visit` sees the bytes where they lie in the pipe's
  /// shared memory, once per contiguous piece (one, or two where the data wraps round the ring),
  /// in order; then they are consumed. A piece is valid only during the call: copy what you
  /// keep. Message-read mode takes the whole head message (never more_data), byte-read mode all
  /// the bytes there. For large messages this saves the one copy read() makes (docs/data-path.md).
  /// Errors: as read(); after an error `visit` may have seen part of a message. An exception
  /// from `visit` propagates, and what it was shown stays unread.
  Result<ReadResult> read_in_place(const std::function<void(std::span<const std::byte>)>& visit);

  /// read_in_place() into a string: one whole message in message-read mode (whatever its size),
  /// what is there in byte-read mode. Errors: as read().
  Result<std::string> read_string();

  /// Writes all of `data` as one write (one message on a message pipe; a zero-length write is an
  /// empty message there and does nothing on a byte pipe). Returns once the data fits the
  /// direction's quota (docs/data-path.md, "The quota rule"). In no-wait mode never waits and
  /// may return fewer bytes (0 when the data does not fit). Errors: kNoData (peer closed).
  Result<std::size_t> write(std::span<const std::byte> data);
  /// write() of a string's bytes (UTF-8 text, or any bytes), without a terminating NUL: a
  /// std::string, std::string_view or literal. (A template, so that write({}) stays the empty
  /// write of bytes.)
  template <class Text>
  requires std::is_convertible_v<const Text&, std::string_view> Result<std::size_t> write(
      const Text& text) {
    return write(std::as_bytes(std::span(std::string_view(text))));
  }

  /// Copies without removing. An empty buffer peeks nothing but still reports the counts. Never
  /// waits for data. Errors: kBadPipe (server end without a client), kBrokenPipe (peer closed,
  /// nothing left).
  Result<PeekResult> peek(std::span<std::byte> buffer = {});

  /// Writes `request` as one message and reads one reply message. Needs a duplex pipe and this
  /// end in message-read mode (else kBadPipe) with nothing unread (else kPipeBusy).
  Result<ReadResult> transact(std::span<const std::byte> request, std::span<std::byte> reply);

  /// Waits until the peer has read everything this end wrote. Errors: kBrokenPipe (peer closed
  /// while waiting).
  Result<void> flush();

  /// Pipe type, buffer sizes, maximum instances, which end this is.
  Result<PipeInfo> info() const;
  /// Read mode, wait mode and the current number of instances.
  Result<HandleState> state() const;
  /// Sets the read and wait mode of this end (every handle to it sees the change). Errors:
  /// kInvalidParameter (message-read mode on a byte pipe).
  Result<void> set_state(ReadMode read_mode, WaitMode wait_mode);

  /// Process id of the client / server of this instance (kNotFound on a server end without a
  /// client; kPipeNotConnected on a client end after disconnect).
  Result<std::uint32_t> client_process_id() const;
  Result<std::uint32_t> server_process_id() const;
  /// Who the client is, as the kernel vouched for it when it connected (SO_PEERCRED: its pid and
  /// effective uid and gid then), so a reused pid cannot pass for it. Errors as
  /// client_process_id().
  Result<ProcessCredentials> client_credentials() const;
  /// Whether the client named the pipe through this computer's name (`\\myhost\pipe\x`,
  /// `\\localhost\pipe\x`, a loopback address) instead of `.`: Windows routes such a client
  /// through the network redirector and treats it as remote (reject_remote_clients refuses it;
  /// Win32 GetNamedPipeClientComputerName names it, and fails with ERROR_PIPE_LOCAL for the
  /// others). Errors as client_process_id().
  Result<bool> client_via_network() const;
  /// Session ids: the audit session of the process (0 where the kernel has none).
  Result<std::uint32_t> client_session_id() const;
  Result<std::uint32_t> server_session_id() const;
  /// The pipe's security descriptor, owner and group filled in. Errors: kNotSupported on a
  /// client end (TODO(compat): the client learns the descriptor when it connects).
  Result<SecurityDescriptor> security() const;
  /// Replaces the descriptor this server end checks its next clients against (Windows'
  /// SetSecurityInfo); unset owner or group keep theirs. Errors: kNotSupported on a client end.
  /// TODO(compat): the pipe's other instances, here and in other processes, keep the
  /// descriptor the name was created with.
  Result<void> set_security(const SecurityDescriptor& security);

  // ---- asynchronous operations ----
  //
  // Each starts an operation that completes later without a waiting thread. The contract (as
  // in Asio and libuv): if the call returns an error the operation failed at once and the
  // handler never runs; otherwise the handler runs exactly once, on `executor`, never inside the
  // call, also when the operation could finish at once. Buffers must stay valid until then.
  // Pending reads complete in the order they were started, and so do writes. Closing the end
  // completes them (kBrokenPipe); a disconnect, with kPipeNotConnected; cancel() with
  // kOperationAborted. The wait mode still applies: on a no-wait end a read of an empty pipe
  // fails at once with kNoData. Do not mix synchronous and asynchronous reads (or writes) on one
  // end: their order is not defined.

  /// Reads as read() does, asynchronously.
  Result<void> async_read(std::span<std::byte> buffer, Executor executor,
                          std::function<void(Result<ReadResult>)> handler);
  /// Writes as write() does, asynchronously: completes once the data fits the quota.
  Result<void> async_write(std::span<const std::byte> data, Executor executor,
                           std::function<void(Result<std::size_t>)> handler);
  /// Transacts as transact() does, asynchronously: the request goes out at once, the handler
  /// gets the reply. Errors at once: kBadPipe, kPipeBusy (as transact()).
  Result<void> async_transact(std::span<const std::byte> request, std::span<std::byte> reply,
                              Executor executor, std::function<void(Result<ReadResult>)> handler);
  /// Ends every pending asynchronous operation on this end with kOperationAborted. Returns how
  /// many it ended. What the peer has not yet taken of a cancelled write leaves the pipe (a
  /// message it began reading ends short); a transaction's request stays (as on Windows).
  std::size_t cancel();

  /// Lets one more process hold this end (Windows' inherited and duplicated handles): the
  /// returned PortableEnd becomes, in the other process, ServerEnd::adopt() or
  /// ClientEnd::adopt() of the same end — one read position, one partial message, one pair of
  /// modes, whoever reads. The end closes for the peer when its last holder closes it (or dies).
  /// From the first share() on, each operation takes an end lock that the holders share, and a
  /// synchronous operation holds it while it waits, as a synchronous handle does on Windows.
  /// Errors: kPipeListening / kPipeNotConnected (only a connected end can be shared);
  /// kNotSupported while asynchronous operations are pending; kBusy when a synchronous operation
  /// of this process has held the end for 200 ms (a read waiting for data). Asynchronous
  /// operations on a shared end are served by a thread of the holder that started them, which
  /// sleeps on the peer's futex words. Differences from Windows (TODO(compat)): the other
  /// holders of a server end do not follow it to the next client after a disconnect, a holder
  /// cannot start a ConnectNamedPipe, and kBusy (Windows shares an end whatever its operations
  /// do).
  Result<PortableEnd> share();

  /// Whether this object holds an end.
  bool is_open() const noexcept;
  /// Closes the end now (the destructor does the same).
  void close() noexcept;

 protected:
  friend struct EngineAccess;  // the Win32 layer reaches the engine's end (src/api)
  explicit PipeEnd(std::shared_ptr<core::PipeEndCore> end) noexcept;
  std::shared_ptr<core::PipeEndCore> end_;
};

/// The server end of one instance (CreateNamedPipe). A new instance is listening at once: a
/// client may connect before connect() is called.
class ServerEnd : public PipeEnd {
 public:
  ServerEnd() noexcept = default;

  /// Creates an instance of `name` (`\\.\pipe\NAME` in UTF-8; NAME may hold any character but
  /// NUL; `/` may stand for `\` except after `\\?\`). Case-insensitive: each UTF-16 unit is
  /// upper-cased by Unicode's simple mapping, so characters beyond the BMP are compared exactly.
  /// Errors: kInvalidName (not a local pipe name, or a NUL in it), kFilenameExcedRange (260 or
  /// more UTF-16 units, as Windows counts), kInvalidParameter (bad options), kPipeBusy (instance
  /// limit reached), kAccessDenied (access mode differs from the existing instances', or
  /// first_instance and the name exists).
  static Result<ServerEnd> create(Registry& registry, std::string_view name,
                                  const ServerOptions& options = {});

  /// Waits for a client (ConnectNamedPipe). A disconnected instance starts listening again.
  /// Returns kAlreadyConnected when a client came first. Errors: kNoData (the client already
  /// closed; disconnect first), kPipeListening (no-wait mode, no client yet).
  Result<ConnectStatus> connect();

  /// Like connect(), but gives up after `timeout` with kWaitTimeout (a sluice extension).
  Result<ConnectStatus> connect_for(std::chrono::milliseconds timeout);

  /// Waits for a client asynchronously (see PipeEnd's asynchronous contract). A client that
  /// came first gives kAlreadyConnected through the handler. Errors at once: kNoData (the client
  /// already closed), kPipeListening (no-wait mode).
  Result<void> async_connect(Executor executor, std::function<void(Result<ConnectStatus>)> handler);

  /// Ends the connection: unread data in both directions is discarded and the client end dies
  /// (kPipeNotConnected). Errors: kPipeNotConnected (already disconnected).
  Result<void> disconnect();

  /// The server end another process shared (PipeEnd::share()). Errors: kInvalidParameter when
  /// `end` does not describe a server end; kBadPipe when its segments are not a sluice end's.
  static Result<ServerEnd> adopt(Registry& registry, PortableEnd end);

 private:
  using PipeEnd::PipeEnd;
};

/// The client end of a named pipe (CreateFile on a pipe name). Starts in byte-read, blocking mode.
class ClientEnd : public PipeEnd {
 public:
  ClientEnd() noexcept = default;

  /// Connects to the instance that has been listening longest, at once. Errors: kFileNotFound
  /// (no such pipe), kPipeBusy (no instance listening), kAccessDenied (direction not offered),
  /// kBadNetpath (a remote server name), kFilenameExcedRange, kInvalidName (a NUL in the name),
  /// kInvalidParameter (options.read_mode kMessage on a byte pipe).
  static Result<ClientEnd> open(Registry& registry, std::string_view name,
                                const ClientOptions& options = {});

  /// open() that waits up to `timeout` (kWaitForever: no limit; 0: one attempt) through a busy
  /// pipe (every instance connected: WaitNamedPipe, then open again, as often as another client
  /// takes the instance first) and through a pipe that does not exist yet (a server still
  /// starting), as .NET's NamedPipeClientStream.Connect(timeout). Errors: kWaitTimeout, and
  /// open()'s other errors at once (kAccessDenied, kInvalidName, ...); kInvalidParameter for a
  /// negative timeout.
  static Result<ClientEnd> open_for(Registry& registry, std::string_view name,
                                    std::chrono::milliseconds timeout,
                                    const ClientOptions& options = {});

  /// The client end another process shared (PipeEnd::share()); errors as ServerEnd::adopt().
  static Result<ClientEnd> adopt(Registry& registry, PortableEnd end);

 private:
  using PipeEnd::PipeEnd;
};

/// Makes the synchronous pipe operation (read, write, transact, flush, connect) that thread
/// `thread_id` (a kernel thread id, gettid) is blocked in fail with kOperationAborted
/// (CancelSynchronousIo). A cancelled write is withdrawn as a cancelled asynchronous write is:
/// what the reader has not taken of it leaves the pipe (docs/data-path.md); if the reader had
/// taken all of it, the write completes instead.
/// Errors: kNotFound (the thread is not blocked in one).
Result<void> cancel_synchronous_io(std::uint32_t thread_id);

/// Waits until an instance of `name` is listening (WaitNamedPipe). Does not reserve it.
/// `timeout`: kUseDefaultWait (the pipe's default_timeout), kWaitForever, or a duration (0:
/// look once). Errors: kFileNotFound (no such pipe; at once), kWaitTimeout, kBadPathname.
Result<void> wait_for_instance(Registry& registry, std::string_view name,
                               std::chrono::milliseconds timeout = kUseDefaultWait);

/// Opens `name` (waiting up to `timeout` for an instance), switches to message-read mode,
/// transacts once and closes (CallNamedPipe). A reply that does not fit is cut (more_data).
/// Errors: kInvalidParameter (byte pipe), kAccessDenied (not duplex), kWaitTimeout, as open().
Result<ReadResult> call(Registry& registry, std::string_view name,
                        std::span<const std::byte> request, std::span<std::byte> reply,
                        std::chrono::milliseconds timeout = kUseDefaultWait);

}  // namespace sluice
