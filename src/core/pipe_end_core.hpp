// PipeEndCore: one end of a named pipe instance (server or client) and every synchronous
// operation on it, with Windows' states, quotas and error codes.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/blocked_threads.hpp"
#include "core/engine.hpp"
#include "core/io_mutex.hpp"
#include "os/linux/directory.hpp"
#include "os/linux/unique_fd.hpp"
#include "registry/pipe_name.hpp"
#include "shm/channel.hpp"
#include "shm/end_segment.hpp"
#include "sluice/pipe_types.hpp"

namespace sluice::core {

/// Where an instance is in its life: LISTENING (waits for a client), CONNECTED, DISCONNECTED
/// (DisconnectNamedPipe), CLOSED. Windows' CLOSING is kConnected with the peer gone.
enum class InstanceState { kListening, kConnected, kDisconnected, kClosed };

/// What a data operation on a server end in `state` fails with: nothing when connected.
std::error_code error_of(InstanceState state) noexcept;

using Deadline = std::optional<std::chrono::steady_clock::time_point>;

// Access rights as Windows grants them to pipe handles (server_rights(), client_rights()).
using rights::kAppendData;
using rights::kReadAttributes;
using rights::kReadControl;
using rights::kReadData;
using rights::kReadEa;
using rights::kSynchronize;
using rights::kWriteAttributes;
using rights::kWriteData;
using rights::kWriteEa;

/// A process at one end of an instance.
struct ProcessIdentity {
  std::uint32_t pid = 0;
  std::uint32_t session = 0;
  std::uint32_t uid = 0;  ///< effective ids when it connected (SO_PEERCRED), not looked up later
  std::uint32_t gid = 0;
  std::vector<std::uint32_t> groups;  ///< supplementary groups then (SO_PEERGROUPS)
  /// A client's SQOS. An end that reached this process from another one knows neither groups
  /// nor the client's word, so it says identification level.
  SecurityQos qos{ImpersonationLevel::kIdentification, false, false};
  /// A client that named the pipe through this computer's name (transport::kHelloViaNetwork):
  /// Windows' client through the network redirector, a remote one to the server.
  bool via_network = false;
};

/// An end on its way to another process: duplicates of its descriptors (close-on-exec) and a
/// text that describes the end; PipeEndCore::adopt() makes the end again from both.
struct ExportedEnd {
  std::vector<os::UniqueFd> fds;
  std::string description;
};

/// Thread safety: every member may be called from any thread. I/O operations are serialised per
/// end by io_mu_ (the Windows rule for synchronous handles); state changes take state_mu_.
/// Lock order: io_mu_ before state_mu_.
class PipeEndCore : public Watched, public std::enable_shared_from_this<PipeEndCore> {
 public:
  ~PipeEndCore() override;

  static Result<std::shared_ptr<PipeEndCore>> create_server(const std::shared_ptr<Engine>& engine,
                                                            std::string_view name,
                                                            const ServerOptions& options);
  static Result<std::shared_ptr<PipeEndCore>> open_client(const std::shared_ptr<Engine>& engine,
                                                          std::string_view name,
                                                          const ClientOptions& options);
  /// Makes an end that another process exported (share()) usable here, in shared mode.
  /// Errors: kInvalidParameter for a description or descriptors that do not make an end,
  /// kBadPipe for segments that are not a sluice end's.
  static Result<std::shared_ptr<PipeEndCore>> adopt(const std::shared_ptr<Engine>& engine,
                                                    std::string_view description,
                                                    std::vector<os::UniqueFd> fds);
  static Result<void> wait_for_instance(const std::shared_ptr<Engine>& engine,
                                        std::string_view name, std::chrono::milliseconds timeout);
  /// Waits until `name` exists (a server has created an instance), up to `timeout`
  /// (kWaitForever: no limit). Errors: kSemTimeout, the name's errors as wait_for_instance.
  static Result<void> wait_for_name(const std::shared_ptr<Engine>& engine, std::string_view name,
                                    std::chrono::milliseconds timeout);

  // With `visit`, the bytes are shown where they lie instead of copied to `buffer` (unused then),
  // and a read takes the whole message.
  Result<ReadResult> read(std::span<std::byte> buffer,
                          const shm::Channel::Visitor* visit = nullptr);
  Result<std::size_t> write(std::span<const std::byte> data);
  Result<PeekResult> peek(std::span<std::byte> buffer);
  Result<ReadResult> transact(std::span<const std::byte> request, std::span<std::byte> reply);
  Result<void> flush();
  Result<PipeInfo> info();
  Result<HandleState> state();
  Result<void> set_state(ReadMode read_mode, WaitMode wait_mode);
  Result<ConnectStatus> connect(Deadline deadline);
  Result<void> disconnect();
  /// Who opened the client end / created the instance (GetNamedPipeClientProcessId and friends).
  Result<ProcessIdentity> client_identity();
  Result<ProcessIdentity> server_identity();
  /// The descriptor clients are checked against (server ends), read and replaced under
  /// state_mu_, which the connect check holds. An unset owner or group keeps the current one.
  SecurityDescriptor security() const {
    std::lock_guard lock(state_mu_);
    return security_;
  }
  void set_security(SecurityDescriptor security) {
    std::lock_guard lock(state_mu_);
    if (!security.owner) security.owner = security_.owner;
    if (!security.group) security.group = security_.group;
    security_ = std::move(security);
  }
  ProcessIdentity own_identity() const noexcept;

  // ---- asynchronous operations (pipe_end_async.cpp) ----

  /// How an asynchronous operation ended.
  struct IoResult {
    std::error_code error;
    std::size_t bytes = 0;
    bool more_data = false;  ///< a message read in part (ERROR_MORE_DATA)
  };
  /// Runs exactly once per pending operation, on the agent thread or on the thread whose call
  /// completed it, never under an engine lock.
  using IoCallback = std::function<void(const IoResult&)>;
  /// What starting an operation did: `now` when it finished (or failed) at once, and then the
  /// callback never runs; otherwise it is pending under `id`.
  struct Started {
    std::optional<IoResult> now;
    std::uint64_t id = 0;
  };
  /// Starts a read. Pending reads complete in the order they were started.
  Started start_read(std::span<std::byte> buffer, IoCallback done);
  /// Starts a write; it completes when its data fits the quota. Pending writes are FIFO.
  Started start_write(std::span<const std::byte> data, IoCallback done);
  /// Starts a transaction: the request is written at once (it waits only for ring room, which
  /// a request larger than the free ring makes a blocking call), the reply is a pending read.
  Started start_transact(std::span<const std::byte> request, std::span<std::byte> reply,
                         IoCallback done);
  /// Starts a connect (server ends): completes when a client connects.
  Started start_connect(IoCallback done);
  /// Ends pending operations with kOperationAborted: the one started as `id`, or all (id 0).
  /// Returns how many it ended. A cancelled write's data that the reader has not taken leaves
  /// the pipe; a transaction's request stays (as on Windows; docs/data-path.md).
  std::size_t cancel(std::uint64_t id = 0);

  /// Prepares the end to be held by one more process and exports it (see ExportedEnd). From
  /// then on every operation takes the end lock, which several processes share, and the end's
  /// modes and read position live in the end segment. Only a connected end can be shared
  /// (kPipeNotConnected, kPipeListening otherwise); not while asynchronous operations are
  /// pending here (kNotSupported), nor while an operation here blocks on the end for more than
  /// 200 ms (kBusy). TODO(compat): following the server end's reconnections in the other
  /// holders. (Completion-port packets of another holder's operations are the Win32 layer's:
  /// the association travels with the handle.)
  Result<ExportedEnd> share();
  bool is_shared() const {
    std::lock_guard lock(state_mu_);
    return shared_ != nullptr;
  }

  /// Closes the end: the peer sees it closed (drain, then kBrokenPipe), the instance's slot and
  /// listener go away. Idempotent.
  void close() noexcept;

  bool is_server() const noexcept { return server_; }

  /// Wakes every thread waiting on this end so that it looks at its state again (used to cancel
  /// a blocked synchronous operation; see blocked_threads.hpp).
  void interrupt() noexcept;

  void on_ready(std::uint64_t key, bool readable, bool hung_up) override;

 private:
  struct Connection {
    os::UniqueFd socket;
    std::uint64_t watch_key = 0;
    shm::Channel channel;
    ProcessIdentity peer;
  };
  enum class WaitFor { kData, kSpace };
  // What a waiter saw before its last look at its condition; any change means "look again".
  struct WaitToken {
    std::uint32_t peer_seq;
    std::uint32_t abort;
    std::uint64_t peer_progress;  // space waits: the peer's read_pos + payload_read
  };

  PipeEndCore(std::shared_ptr<Engine> engine, bool server);

  // Server side: start listening (new listener file, new segment ready for the next client).
  Result<void> start_listening_locked();
  void stop_listening_locked() noexcept;
  void accept_clients();
  void await_hello_locked(os::UniqueFd socket);
  void drop_openings_locked() noexcept;
  void handshake(os::UniqueFd socket);
  // Wake every thread of ours that sleeps on this end.
  void abort_waiters() noexcept;
  void teardown_connection() noexcept;

  // Checks shared by the data operations; kSuccess when the operation may go on.
  std::error_code io_state_error() const;
  // The common case of io_state_error(), a connected end, without building an error_code.
  bool io_ready() const noexcept {
    if (shared_error_ || !conn_) return false;
    if (server_)
      return !shared_ && state_.load(std::memory_order_acquire) == InstanceState::kConnected;
    return conn_->channel.peer_state() != shm::EndState::kDisconnected;
  }
  bool peer_gone() const noexcept;
  // A peer that died leaves only its completed writes (docs/data-path.md). Under io_mu_.
  void note_peer_death_locked() noexcept;
  bool disconnected() const noexcept;

  WaitToken wait_token(WaitFor what) const noexcept;
  bool wait(WaitFor what, WaitToken token, Deadline deadline);

  // A write in progress: what is queued so far and what the peer must read for it to complete.
  struct WriteProgress {
    std::span<const std::byte> data;
    std::size_t done = 0;
    bool first = true;
    bool queued = false;          // every fragment is in the ring
    std::uint64_t ring_from = 0;  // ring positions of its fragments, for withdraw_locked()
    std::uint64_t ring_to = 0;
    std::uint64_t must_have_read = 0;
    std::error_code error;
  };
  // Appends what fits; true once all of it is queued (w.error says why not, if not just room).
  bool append_some_locked(WriteProgress& w);
  std::error_code write_blocked_error() const;
  // Withdraws what the reader has not taken of a cancelled write. True when the reader had
  // taken all of it, its last fragment included: the write then completes instead.
  bool withdraw_locked(const WriteProgress& w);
  // A write completed: tells the peer how far its data is now final (completed_end).
  void write_completed_locked(const WriteProgress& w) noexcept;
  std::error_code transact_precondition_locked();
  Result<std::size_t> write_locked(std::span<const std::byte> data, bool wait_for_quota);
  Result<std::size_t> write_nowait_locked(std::span<const std::byte> data);
  // `partial` (asynchronous reads): bytes of an unfinished message already in `buffer`; with
  // may_wait false an unfinished message gives kIoPending and updates it.
  Result<ReadResult> read_locked(std::span<std::byte> buffer, bool message_mode, bool may_wait,
                                 std::size_t* partial = nullptr,
                                 const shm::Channel::Visitor* visit = nullptr);
  // A byte read while carry_ holds what a cancelled message read kept: that first.
  ReadResult read_carried_bytes_locked(std::span<std::byte> buffer,
                                       const shm::Channel::Visitor* visit);

  std::uint32_t own_quota() const noexcept { return server_ ? out_quota_ : in_quota_; }
  bool has(std::uint32_t right) const noexcept { return (granted_ & right) == right; }

  // Asynchronous operations waiting on this end; guarded by io_mu_.
  struct AsyncOp {
    std::uint64_t id = 0;
    IoCallback done;
    std::span<std::byte> buffer;  // read
    std::size_t partial = 0;      // read: bytes of an unfinished message already taken
    WriteProgress write;          // write
  };
  using Completions = std::vector<std::pair<IoCallback, IoResult>>;
  // Progress the pending operations; what finished goes to `done`, to be called after unlock.
  void serve_locked(Completions& done);
  // Serves, then makes sure the peer rings our doorbell for whatever still waits.
  void serve_and_arm_locked(Completions& done);
  void fail_pending_locked(Completions& done, std::error_code reads, std::error_code writes);
  void complete_connects(std::error_code result);
  // Agent thread: the peer made progress, hung up, or the state changed.
  void serve_pending();
  static void run(Completions& done) noexcept;
  // Serves if the agent asked for it while io_mu_ was taken (it never waits for io_mu_: a
  // synchronous operation may hold it for as long as it blocks).
  void serve_if_requested() noexcept;

  // Holds io_mu_ for one synchronous operation, then serves what the agent left to it.
  class SyncIo {
   public:
    explicit SyncIo(PipeEndCore& end) : end_(end), lock_(end.io_mu_) {
      if (end_.shared_) shared_ = end_.enter_shared();
    }
    ~SyncIo() {
      if (shared_) end_.leave_shared();
      leave_blocking();
      lock_.unlock();
      if (end_.serve_requested_.load()) end_.serve_if_requested();  // seq_cst: pairs with the agent
    }
    SyncIo(const SyncIo&) = delete;
    SyncIo& operator=(const SyncIo&) = delete;

   private:
    PipeEndCore& end_;
    std::unique_lock<IoMutex> lock_;
    bool shared_ = false;
  };

  // Shared mode (pipe_end_shared.cpp). The end segment, and this process's own description of
  // it, through which it takes the end lock.
  struct Shared {
    os::UniqueFd segment;
    os::Mapping map;
    os::UniqueFd lock;
    shm::EndSegment& end() noexcept { return *static_cast<shm::EndSegment*>(map.address()); }
  };
  // Takes the end lock and the state other holders left; true once the lock is held.
  bool enter_shared() noexcept;
  // Shared mode: this process's asynchronous operations on the end are served by a thread of
  // their own that sleeps on the peer's futex words (the agent cannot wait on them, and a
  // doorbell byte could be taken by another holder's agent). Started under io_mu_ when an
  // operation stays pending; it ends when none is left.
  void start_shared_server_locked();
  void kick_shared_server() noexcept;
  void run_shared_server();
  void leave_shared() noexcept;
  // This process lets go of a shared end; true when it was the last holder.
  bool leave_holders() noexcept;

  const std::shared_ptr<Engine> engine_;
  const bool server_;

  // Pipe-wide and instance attributes (fixed once the end exists).
  std::uint32_t access_ = 3;
  PipeType type_ = PipeType::kByte;
  std::uint32_t out_quota_ = 0;
  std::uint32_t in_quota_ = 0;
  std::uint32_t max_instances_ = 255;
  // PIPE_REJECT_REMOTE_CLIENTS (server ends): clients with kHelloViaNetwork are refused.
  // TODO(compat): an end shared with another process accepts them there.
  bool reject_remote_ = false;
  std::uint32_t granted_ = 0;
  std::uint32_t own_pid_ = 0;
  std::uint32_t own_session_ = 0;
  // The name's security descriptor, owner and group filled in (server ends).
  SecurityDescriptor security_;

  // Per-end modes: every handle to the end sees one value.
  std::atomic<ReadMode> read_mode_{ReadMode::kByte};
  std::atomic<WaitMode> wait_mode_{WaitMode::kWait};

  IoMutex io_mu_;
  mutable std::mutex state_mu_;
  std::condition_variable state_cv_;
  // Written under state_mu_; read without it on the I/O fast path.
  std::atomic<InstanceState> state_{InstanceState::kListening};
  std::unique_ptr<Connection> conn_;  // replaced under io_mu_ + state_mu_; read under either
  std::atomic<bool> peer_hung_up_{false};
  std::atomic<std::uint32_t> abort_word_{0};
  std::uint64_t spin_ns_ = 20000;  // adaptive spin budget, guarded by io_mu_
  std::uint32_t idle_wakes_ = 0;   // wakes in a row that brought nothing, guarded by io_mu_
  std::deque<AsyncOp> reads_;      // guarded by io_mu_
  // The beginning of a message that a cancelled read had taken while the rest was still on
  // its way: the next read starts with it, so cancelling a read never loses data.
  std::vector<std::byte> carry_;   // guarded by io_mu_
  std::deque<AsyncOp> writes_;     // guarded by io_mu_
  std::vector<AsyncOp> connects_;  // guarded by state_mu_
  std::atomic<std::uint64_t> next_op_id_{1};
  std::atomic<bool> serve_requested_{false};
  // Set by share() or adopt(), under io_mu_ and state_mu_; read under either.
  std::unique_ptr<Shared> shared_;
  std::error_code shared_error_;        // guarded by io_mu_: the end segment held values we refuse
  bool shared_server_running_ = false;  // guarded by io_mu_
  std::atomic<std::uint32_t> shared_kick_{0};  // futex word: look at the pending operations

  registry::PipeName name_;  // for instance counts (empty on an adopted end that lost it)

  // Server side.
  os::UniqueFd name_dir_;   // this user's entry for the name
  os::UniqueFd slot_lock_;  // the locked instance file: the instance exists while it is open
  std::uint32_t slot_ = 0;
  os::FileId instance_id_;
  os::UniqueFd listener_;
  std::string listener_file_;
  std::uint64_t listener_key_ = 0;
  std::optional<shm::Channel> next_channel_;  // made ahead so a client connects fast
  // Accepted clients whose Hello has not arrived yet, watched by the agent like any socket so
  // that a silent client costs a descriptor, not the agent's time. Guarded by state_mu_.
  struct Opening {
    os::UniqueFd socket;
    std::uint64_t key = 0;
  };
  std::vector<Opening> openings_;
  bool had_client_ = false;  // guarded by state_mu_: client pid queries answer until disconnect

  // Client side.
  os::UniqueFd client_name_dir_;
};

}  // namespace sluice::core
