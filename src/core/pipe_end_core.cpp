#include "core/pipe_end_core.hpp"

#include <algorithm>
#include <limits>
#include <thread>

#include "core/clamp32.hpp"
#include "core/pipe_access.hpp"
#include "os/linux/directory.hpp"
#include "os/linux/futex.hpp"
#include "os/linux/unix_socket.hpp"

namespace sluice::core {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr std::uint64_t kMinSpinNs = 2000;
constexpr std::uint64_t kMaxSpinNs = 50000;
// A peer that wakes us this many times in a row without progress is ringing for nothing: we
// then look once per pause (a hostile peer costs its own connection, not our CPU).
constexpr std::uint32_t kIdleWakeLimit = 16;
constexpr auto kIdleWakePause = 1ms;

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

}  // namespace

PipeEndCore::PipeEndCore(std::shared_ptr<Engine> engine, bool server)
    : engine_(std::move(engine)), server_(server), own_pid_(os::current_process_id()) {
  own_session_ = os::own_session_id();
}

PipeEndCore::~PipeEndCore() { close(); }

// ---------------------------------------------------------------------------------------------
// States, waiting

void PipeEndCore::interrupt() noexcept {
  abort_waiters();
  { std::lock_guard lock(state_mu_); }  // a connect between its last look and its wait sees it
  state_cv_.notify_all();
}

void PipeEndCore::abort_waiters() noexcept {
  abort_word_.fetch_add(1, std::memory_order_seq_cst);
  os::futex_wake_all(&abort_word_, false);
}

bool PipeEndCore::peer_gone() const noexcept {
  return peer_hung_up_.load(std::memory_order_acquire) ||
         (conn_ && conn_->channel.peer_state() != shm::EndState::kOpen);
}

bool PipeEndCore::disconnected() const noexcept {
  if (server_) {
    if (state_.load(std::memory_order_acquire) == InstanceState::kDisconnected) return true;
    // Another holder of a shared server end may have disconnected the instance.
    return shared_ && conn_ &&
           conn_->channel.own().state.load(std::memory_order_acquire) ==
               static_cast<std::uint32_t>(shm::EndState::kDisconnected);
  }
  return !conn_ || conn_->channel.peer_state() == shm::EndState::kDisconnected;
}

void PipeEndCore::note_peer_death_locked() noexcept {
  // Hung up without closing first: the peer process died (SIGKILL, exit without CloseHandle).
  // TODO(compat): we learn of it from the agent thread, so a read in the moment between the
  // death and the agent's look still takes data of the dead writer's pending write.
  if (conn_ && peer_hung_up_.load(std::memory_order_acquire) &&
      conn_->channel.peer_state() == shm::EndState::kOpen)
    conn_->channel.drop_pending_writes_of_dead_peer();
}

std::error_code error_of(InstanceState state) noexcept {
  switch (state) {
    case InstanceState::kClosed:
      return errc::kInvalidHandle;
    case InstanceState::kListening:
      return errc::kPipeListening;
    case InstanceState::kDisconnected:
      return errc::kPipeNotConnected;
    case InstanceState::kConnected:
      break;
  }
  return {};
}

std::error_code PipeEndCore::io_state_error() const {
  if (shared_error_) return shared_error_;
  if (server_) {
    if (disconnected() && state_.load() != InstanceState::kClosed) return errc::kPipeNotConnected;
    return error_of(state_.load(std::memory_order_acquire));
  } else if (disconnected()) {
    return errc::kPipeNotConnected;
  }
  return {};
}

PipeEndCore::WaitToken PipeEndCore::wait_token(WaitFor what) const noexcept {
  const shm::SegmentHeader& peer = conn_->channel.peer();
  WaitToken t;
  t.abort = abort_word_.load(std::memory_order_seq_cst);
  bool data = what == WaitFor::kData;
  t.peer_seq = (data ? peer.data_seq : peer.read_seq).load(std::memory_order_seq_cst);
  // A reader watches the ring line of its next fragment instead (see wait()).
  t.peer_progress = data ? 0
                         : peer.payload_read.load(std::memory_order_seq_cst) +
                               peer.read_pos.load(std::memory_order_seq_cst);
  return t;
}

bool PipeEndCore::wait(WaitFor what, WaitToken token, Deadline deadline) {
  enter_blocking(*this);  // from here on CancelSynchronousIo can find this operation
  if (blocking_cancelled()) return true;
  shm::Channel& ch = conn_->channel;
  bool data = what == WaitFor::kData;
  const auto& peer_word = data ? ch.peer().data_seq : ch.peer().read_seq;
  // Progress is judged where it is cheapest to watch: a reader looks at the ring line of the next
  // fragment (the one it will copy anyway), a writer at the peer's consumption counters.
  auto progressed = [&] {
    if (data) return ch.has_fragment();
    return ch.peer().payload_read.load(std::memory_order_acquire) +
               ch.peer().read_pos.load(std::memory_order_acquire) !=
           token.peer_progress;
  };
  // What counts: progress, or our own abort word. The peer's word alone may be a peer that
  // rings and never delivers, which must not keep this thread busy.
  auto progress_or_abort = [&] {
    return progressed() || abort_word_.load(std::memory_order_acquire) != token.abort;
  };
  auto rang = [&] { return peer_word.load(std::memory_order_acquire) != token.peer_seq; };
  auto changed = [&] { return progress_or_abort() || rang(); };
  // Counts the wakes in a row that brought nothing, and returns true.
  auto woken = [&](bool useful) {
    idle_wakes_ = useful ? 0 : idle_wakes_ + 1;
    return true;
  };
  if (idle_wakes_ >= kIdleWakeLimit) {
    // The peer kept ringing with nothing to show: from now on one look per pause, sleeping on
    // our own abort word only (a hang-up, a cancel or a close still wake us at once).
    if (progress_or_abort()) return woken(true);
    Deadline pause = Clock::now() + kIdleWakePause;
    if (deadline && *deadline < *pause) pause = deadline;
    os::FutexWaiter waiter[1] = {{&abort_word_, token.abort, false}};
    {
      SleepNotice asleep;
      (void)os::futex_wait_any(waiter, 1, pause);
    }
    bool useful = progress_or_abort();
    if (!useful && deadline && Clock::now() >= *deadline && !rang()) return false;
    return woken(useful);
  }
  // The peer's word moved before this wait began: the caller's token is older than what it has
  // read since (a message streaming in), which says nothing about the peer. It looks again
  // with a new token; only a ring during a wait counts as one that brought nothing.
  if (rang() && !progress_or_abort()) return true;
  // Spin first: a wake-up costs 13–25 us here, far more than a busy peer needs to answer.
  auto start = Clock::now();
  for (std::uint32_t i = 1;; ++i) {
    bool useful = progress_or_abort();
    if (useful || rang()) {
      if (useful) spin_ns_ = std::min(spin_ns_ * 2, kMaxSpinNs);
      return woken(useful);
    }
    if (spin_ns_ == 0) break;  // spinning has not paid off lately
    cpu_relax();
    if ((i & 63) == 0) {
      auto now = Clock::now();
      if (deadline && now >= *deadline) return false;
      if (static_cast<std::uint64_t>((now - start).count()) > spin_ns_) break;
    }
  }
  // A budget that keeps failing drops to nothing rather than to a floor: with many processes
  // per CPU (an echo server's clients) 2 us of spinning per request took a tenth of the machine.
  spin_ns_ = spin_ns_ / 2 < kMinSpinNs ? 0 : spin_ns_ / 2;
  auto& flag = data ? ch.own().waiting_for_data : ch.own().waiting_for_space;
  flag.fetch_or(shm::kWaitFutex, std::memory_order_relaxed);  // the agent may own another bit
  // Pairs with the peer's barrier after it publishes progress (Channel::signal_data, consume):
  // either we see its progress below or it sees our flag and wakes us.
  ch.barrier_before_sleep();
  bool in_time = true;
  if (!changed()) {
    os::FutexWaiter waiters[2] = {{&peer_word, token.peer_seq, true},
                                  {&abort_word_, token.abort, false}};
    SleepNotice asleep;
    in_time = os::futex_wait_any(waiters, 2, deadline);
  }
  flag.fetch_and(~shm::kWaitFutex, std::memory_order_relaxed);
  // The peer answered within the longest spin we allow, so spinning would have saved this sleep:
  // how a budget at nothing comes back (a ping-pong peer answers in about a microsecond).
  bool useful = progress_or_abort();
  if (useful && static_cast<std::uint64_t>((Clock::now() - start).count()) < kMaxSpinNs)
    spin_ns_ = std::max(spin_ns_ * 2, kMinSpinNs);
  if (!in_time && !useful && !rang()) return false;
  return woken(useful);
}

// ---------------------------------------------------------------------------------------------
// Data operations

Result<ReadResult> PipeEndCore::read(std::span<std::byte> buffer,
                                     const shm::Channel::Visitor* visit) {
  SyncIo io(*this);
  if (!has(kReadData)) return errc::kAccessDenied;
  if (!io_ready()) {
    if (auto e = io_state_error()) return e;
  }
  bool message_mode = read_mode_.load() == ReadMode::kMessage;
  return read_locked(buffer, message_mode, wait_mode_.load() == WaitMode::kWait, nullptr, visit);
}

Result<ReadResult> PipeEndCore::read_locked(std::span<std::byte> buffer, bool message_mode,
                                            bool may_wait, std::size_t* partial,
                                            const shm::Channel::Visitor* visit) {
  shm::Channel& ch = conn_->channel;
  note_peer_death_locked();
  std::size_t total = partial ? *partial : 0;
  bool announced = false;  // our pending read is published for the peer's no-wait writes
  auto& pending = ch.own().pending_read;
  struct ClearPending {
    std::atomic<std::uint64_t>& p;
    bool& announced;
    ~ClearPending() {
      if (announced) p.store(0, std::memory_order_relaxed);
    }
  } clear{pending, announced};
  std::optional<WaitToken> token;  // taken only once a look found nothing: the slow path
  if (!message_mode && !carry_.empty()) return read_carried_bytes_locked(buffer, visit);
  if (message_mode && total == 0 && !carry_.empty()) {
    if (visit) {  // a view has no size: all that a cancelled read kept, then the rest
      (*visit)(std::span<const std::byte>(carry_));
      total = carry_.size();
      carry_.clear();
    } else {
      std::size_t n = std::min(carry_.size(), buffer.size());
      std::copy_n(carry_.begin(), n, buffer.begin());
      carry_.erase(carry_.begin(), carry_.begin() + static_cast<std::ptrdiff_t>(n));
      total = n;
      if (!carry_.empty()) return ReadResult{total, true};  // ERROR_MORE_DATA: it goes on
    }
  }
  for (;;) {
    if (message_mode) {
      auto t = visit ? ch.visit_message(*visit, total > 0)
                     : ch.read_message(buffer.data() + total, buffer.size() - total, total > 0);
      if (!t) return t.error();
      total += t->bytes;
      if (t->message_done) return ReadResult{total, false};
      if (!visit && total == buffer.size() && (t->consumed || ch.has_fragment()))
        return ReadResult{total, true};
      // Nothing, or a message still streaming in: keep what came and wait for the rest.
    } else {
      auto t = visit ? ch.visit_bytes(*visit) : ch.read_bytes(buffer.data(), buffer.size());
      if (!t) return t.error();
      if (t->consumed || (!visit && buffer.empty() && ch.has_fragment()))
        return ReadResult{t->bytes, false};
    }
    if (disconnected()) return errc::kPipeNotConnected;
    if (!token) {
      token = wait_token(WaitFor::kData);
      continue;  // look once more now that the token covers everything after it
    }
    // Gone first, then the ring: a writer that publishes its last message and closes between
    // the two looks must not have it reported as the end (see write_locked).
    if (peer_gone() && !ch.has_fragment()) return errc::kBrokenPipe;
    if (!may_wait && total == 0) return errc::kNoData;
    if (!may_wait && partial) {  // part of a message came: the caller keeps it and comes back
      *partial = total;
      return errc::kIoPending;
    }
    if (!announced) {
      announced = true;
      std::uint64_t room = visit ? 0xFFFFFFFFu : buffer.size() - total;  // a view takes all
      pending.store(shm::kPendingRead | (message_mode ? shm::kPendingMessage : 0) | room,
                    std::memory_order_seq_cst);
    }
    wait(WaitFor::kData, *token, std::nullopt);
    if (blocking_cancelled()) {  // CancelSynchronousIo
      // What a copying read took is kept for the next read; a view has handed it over.
      if (!visit)
        carry_.assign(buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(total));
      return errc::kOperationAborted;
    }
    token.reset();
  }
}

ReadResult PipeEndCore::read_carried_bytes_locked(std::span<std::byte> buffer,
                                                  const shm::Channel::Visitor* visit) {
  // A byte read takes what a cancelled message read kept, then whatever the ring holds after it
  // without waiting: those bytes were at the head of the pipe, as on Windows, where a cancelled
  // read takes nothing.
  std::size_t n;
  if (visit) {
    (*visit)(std::span<const std::byte>(carry_));
    n = carry_.size();
    carry_.clear();
  } else {
    n = std::min(carry_.size(), buffer.size());
    std::copy_n(carry_.begin(), n, buffer.begin());
    carry_.erase(carry_.begin(), carry_.begin() + static_cast<std::ptrdiff_t>(n));
  }
  if (carry_.empty()) {
    shm::Channel& ch = conn_->channel;
    // A ring that fails here fails the next read instead: these bytes are already taken.
    auto t = visit ? ch.visit_bytes(*visit) : ch.read_bytes(buffer.data() + n, buffer.size() - n);
    if (t) n += t->bytes;
  }
  return ReadResult{n, false};
}

Result<std::size_t> PipeEndCore::write(std::span<const std::byte> data) {
  SyncIo io(*this);
  if (!has(kWriteData)) return errc::kAccessDenied;
  if (!io_ready()) {
    if (auto e = io_state_error()) return e;
  }
  if (peer_gone()) return errc::kNoData;
  if (data.empty() && type_ == PipeType::kByte) return std::size_t{0};
  if (wait_mode_.load() == WaitMode::kNoWait) return write_nowait_locked(data);
  return write_locked(data, true);
}

bool PipeEndCore::append_some_locked(WriteProgress& w) {
  shm::Channel& ch = conn_->channel;
  std::uint32_t whole = shm::kFirst | shm::kLast;
  if (w.data.size() <= shm::kMaxArenaSize) {
    // One fragment, in the ring or the arena: the reader sees the whole write at once.
    auto appended = ch.append_whole(w.data.data(), w.data.size(), whole);
    if (!appended) {
      w.error = appended.error();
      return false;
    }
    if (!*appended) return false;  // no room now
    w.ring_from = ch.last_fragment_at();
    w.ring_to = ch.ring_end();
    w.done = w.data.size();
    w.first = false;
  }
  // Larger than the arena can hold: in fragments, as the ring makes room.
  // TODO(compat): such a write becomes visible piece by piece, unlike on Windows.
  while (w.first || w.done < w.data.size()) {
    std::size_t left = w.data.size() - w.done;
    auto room = ch.fragment_room(left);
    if (!room) {
      w.error = room.error();
      return false;
    }
    std::size_t chunk = *room < 0 ? 0 : std::min(left, static_cast<std::size_t>(*room));
    if (chunk == 0 && !(left == 0 && *room >= 0)) return false;  // no room now
    std::uint32_t flags = whole;
    if (type_ == PipeType::kMessage)
      flags = (w.first ? shm::kFirst : 0) | (chunk == left ? shm::kLast : 0);
    if (w.first) w.ring_from = ch.ring_end();
    ch.append(w.data.data() + w.done, chunk, flags);
    w.ring_to = ch.ring_end();
    w.done += chunk;
    w.first = false;
  }
  // The quota rule (docs/data-path.md): complete once (bytes ahead + own unread bytes) <= quota.
  std::uint64_t target = ch.payload_written();
  w.must_have_read = target > own_quota() ? target - own_quota() : 0;
  w.queued = true;
  return true;
}

bool PipeEndCore::withdraw_locked(const WriteProgress& w) {
  if (w.first || !conn_) return false;  // nothing of it reached the ring
  bool all_taken =
      conn_->channel.withdraw(w.ring_from, w.ring_to, type_ == PipeType::kMessage && !w.queued);
  return all_taken && w.queued;
}

void PipeEndCore::write_completed_locked(const WriteProgress& w) noexcept {
  if (!w.first) conn_->channel.writes_completed_through(w.ring_to);
}

std::error_code PipeEndCore::write_blocked_error() const {
  if (disconnected()) return errc::kPipeNotConnected;
  if (peer_gone()) return errc::kBrokenPipe;  // a write waiting when the peer closed
  return {};
}

Result<std::size_t> PipeEndCore::write_locked(std::span<const std::byte> data,
                                              bool wait_for_quota) {
  shm::Channel& ch = conn_->channel;
  WriteProgress w;
  w.data = data;
  std::optional<WaitToken> token;
  auto done = [&] { return w.queued && (!wait_for_quota || ch.peer_has_read(w.must_have_read)); };
  for (;;) {
    if (!w.queued) {
      if (append_some_locked(w)) {
        token.reset();
        continue;
      }
      if (w.error) return w.error;
    } else if (done()) {
      write_completed_locked(w);
      return w.done;
    }
    // Not done: is the peer gone? Then one more look at what it read, which it publishes before
    // its going: a reader that took the rest and closed meanwhile completes the write instead
    // of failing it. (Looked at only here: the state words are the peer's, a cache miss.)
    if (std::error_code gone = write_blocked_error()) {
      if (done()) {
        write_completed_locked(w);
        return w.done;
      }
      return gone;
    }
    if (!token) {
      token = wait_token(WaitFor::kSpace);
      continue;  // look once more now that the token covers everything after it
    }
    wait(WaitFor::kSpace, *token, std::nullopt);
    if (blocking_cancelled()) {  // CancelSynchronousIo: as a cancelled asynchronous write
      if (withdraw_locked(w)) {  // the reader had it all: too late to cancel
        write_completed_locked(w);
        return w.done;
      }
      return errc::kOperationAborted;
    }
    token.reset();
  }
}

Result<std::size_t> PipeEndCore::write_nowait_locked(std::span<const std::byte> data) {
  shm::Channel& ch = conn_->channel;
  auto queued = ch.unread_by_peer();
  if (!queued) return queued.error();
  std::uint64_t handoff = 0;
  std::uint64_t pending = ch.peer().pending_read.load(std::memory_order_seq_cst);
  if (*queued == 0 && (pending & shm::kPendingRead))
    handoff = std::min<std::uint64_t>(data.size(), pending & 0xFFFFFFFFu);
  std::uint64_t rest = data.size() - handoff;
  std::uint64_t quota = own_quota();
  std::uint64_t free = *queued >= quota ? 0 : quota - *queued;
  std::uint32_t whole = shm::kFirst | shm::kLast;
  if (rest <= free && data.size() <= shm::kMaxArenaSize) {
    auto appended = ch.append_whole(data.data(), data.size(), whole);
    if (!appended) return appended.error();
    if (*appended) {
      ch.writes_completed_through(ch.ring_end());
      return data.size();
    }
  }
  // As Windows does: the buffered part is all or nothing; a byte pipe still hands bytes
  // to readers that wait, a message pipe serves nobody.
  if (type_ == PipeType::kByte && handoff > 0 && handoff <= shm::kMaxArenaSize) {
    auto appended = ch.append_whole(data.data(), static_cast<std::size_t>(handoff), whole);
    if (!appended) return appended.error();
    if (*appended) {
      ch.writes_completed_through(ch.ring_end());
      return static_cast<std::size_t>(handoff);
    }
  }
  return std::size_t{0};
}

Result<PeekResult> PipeEndCore::peek(std::span<std::byte> buffer) {
  SyncIo io(*this);
  if (!has(kReadData)) return errc::kAccessDenied;
  if (auto e = io_state_error()) {
    return e == errc::kPipeNotConnected && !server_ ? e : make_error_code(errc::kBadPipe);
  }
  shm::Channel& ch = conn_->channel;
  note_peer_death_locked();
  bool message_pipe = type_ == PipeType::kMessage;
  // What a cancelled read kept (carry_) is the head of the pipe, then the ring.
  std::size_t carried = std::min(carry_.size(), buffer.size());
  std::copy_n(carry_.begin(), carried, buffer.begin());
  auto rest = buffer.subspan(carried);
  auto p =
      ch.peek(rest.empty() ? nullptr : rest.data(), rest.size(), message_pipe, !carry_.empty());
  if (!p) return p.error();
  // As a read decides: nothing at the read position of a peer that is gone never comes. The
  // peer's count of bytes written is no witness (a dead liar's count would be reported for ever).
  if (peer_gone() && !ch.has_fragment() && carry_.empty()) return errc::kBrokenPipe;
  PeekResult r;
  r.bytes_read = clamp32(carried + p->bytes);
  r.total_available = clamp32(carry_.size() + p->total_available);
  std::uint32_t message_length = message_pipe ? clamp32(carry_.size() + p->head_message) : 0;
  r.bytes_left_this_message = message_length - r.bytes_read;  // 32-bit wrap, as Windows does
  return r;
}

std::error_code PipeEndCore::transact_precondition_locked() {
  // Windows' checks, in the order it applies them; a refused transaction writes nothing.
  if (!has(kReadData | kWriteData)) return errc::kAccessDenied;
  if (!server_ && disconnected()) return errc::kPipeNotConnected;
  if (io_state_error() || peer_gone()) return errc::kBadPipe;
  if (access_ != kAccessDuplex || read_mode_.load() != ReadMode::kMessage) return errc::kBadPipe;
  shm::Channel& ch = conn_->channel;
  auto available = ch.available();
  if (!available) return available.error();
  if (*available > 0 || ch.has_fragment() || !carry_.empty() || !reads_.empty())
    return errc::kPipeBusy;
  return {};
}

Result<ReadResult> PipeEndCore::transact(std::span<const std::byte> request,
                                         std::span<std::byte> reply) {
  SyncIo io(*this);
  if (auto e = transact_precondition_locked()) return e;
  // The request does not wait for the quota, as on Windows, only for ring room.
  auto written = write_locked(request, false);
  if (!written) return written.error();
  return read_locked(reply, true, true);
}

Result<void> PipeEndCore::flush() {
  SyncIo io(*this);
  if (!has(kWriteData)) return errc::kAccessDenied;
  if (auto e = io_state_error()) {
    if (e == errc::kPipeNotConnected && !server_) return e;
    return {};  // a server end without a client has nothing to deliver
  }
  if (peer_gone()) return {};
  shm::Channel& ch = conn_->channel;
  std::optional<WaitToken> token;
  for (;;) {
    bool gone = peer_gone();  // before what it read, as write_locked looks
    auto unread = ch.unread_by_peer();
    if (!unread) return unread.error();
    if (*unread == 0) return {};
    if (disconnected()) return errc::kPipeNotConnected;
    if (gone) return errc::kBrokenPipe;
    if (!token) {
      token = wait_token(WaitFor::kSpace);
      continue;
    }
    wait(WaitFor::kSpace, *token, std::nullopt);
    if (blocking_cancelled()) return errc::kOperationAborted;
    token.reset();
  }
}

// ---------------------------------------------------------------------------------------------
// Queries and modes

Result<PipeInfo> PipeEndCore::info() {
  if (!has(kReadAttributes)) return errc::kAccessDenied;
  if (!server_ && disconnected()) return errc::kPipeNotConnected;
  PipeInfo i;
  i.server_end = server_;
  i.type = type_;
  i.out_buffer_size = out_quota_;
  i.in_buffer_size = in_quota_;
  i.max_instances = max_instances_;
  return i;
}

Result<HandleState> PipeEndCore::state() {
  if (!has(kReadAttributes)) return errc::kAccessDenied;
  if (!server_ && disconnected()) return errc::kPipeNotConnected;
  HandleState s;
  s.read_mode = read_mode_.load();
  s.wait_mode = wait_mode_.load();
  {
    std::lock_guard lock(state_mu_);
    if (shared_) {  // another holder may have changed them (validated as enter_shared does)
      auto read_mode = static_cast<ReadMode>(shared_->end().read_mode.load());
      auto wait_mode = static_cast<WaitMode>(shared_->end().wait_mode.load());
      if (read_mode == ReadMode::kByte ||
          (read_mode == ReadMode::kMessage && type_ == PipeType::kMessage))
        s.read_mode = read_mode;
      if (wait_mode == WaitMode::kWait || wait_mode == WaitMode::kNoWait) s.wait_mode = wait_mode;
    }
  }
  s.current_instances = name_.key.empty() ? 0 : engine_->names().count_instances(name_);
  return s;
}

Result<void> PipeEndCore::set_state(ReadMode read_mode, WaitMode wait_mode) {
  if (!has(kWriteAttributes)) return errc::kAccessDenied;
  if (!server_ && disconnected()) return errc::kPipeNotConnected;
  if (read_mode != ReadMode::kByte && read_mode != ReadMode::kMessage)
    return errc::kInvalidParameter;
  if (wait_mode != WaitMode::kWait && wait_mode != WaitMode::kNoWait)
    return errc::kInvalidParameter;
  if (read_mode == ReadMode::kMessage && type_ != PipeType::kMessage)
    return errc::kInvalidParameter;
  read_mode_.store(read_mode);
  wait_mode_.store(wait_mode);
  std::lock_guard lock(state_mu_);
  if (shared_) {  // every holder sees the change
    shared_->end().read_mode.store(static_cast<std::uint32_t>(read_mode));
    shared_->end().wait_mode.store(static_cast<std::uint32_t>(wait_mode));
  }
  return {};
}

ProcessIdentity PipeEndCore::own_identity() const noexcept {
  ProcessIdentity id;
  id.pid = own_pid_;
  id.session = own_session_;
  id.uid = os::current_user_id();
  id.gid = os::current_group_id();
  return id;
}

Result<ProcessIdentity> PipeEndCore::client_identity() {
  if (!server_) {
    if (disconnected()) return errc::kPipeNotConnected;
    return own_identity();
  }
  std::lock_guard lock(state_mu_);
  if (!had_client_ || !conn_) return errc::kNotFound;
  return conn_->peer;
}

Result<ProcessIdentity> PipeEndCore::server_identity() {
  if (server_) return own_identity();
  if (disconnected()) return errc::kPipeNotConnected;
  return conn_->peer;
}

// ---------------------------------------------------------------------------------------------
// Connect, disconnect, close

Result<ConnectStatus> PipeEndCore::connect(Deadline deadline) {
  if (!server_) return errc::kInvalidFunction;
  SyncIo io(*this);
  std::unique_lock lock(state_mu_);
  switch (state_) {
    case InstanceState::kClosed:
      return errc::kInvalidHandle;
    case InstanceState::kConnected:
      if (peer_gone()) return errc::kNoData;
      return ConnectStatus::kAlreadyConnected;
    case InstanceState::kDisconnected:
      if (auto listening = start_listening_locked(); !listening) return listening.error();
      break;
    case InstanceState::kListening:
      break;
  }
  if (wait_mode_.load() == WaitMode::kNoWait) return errc::kPipeListening;
  lock.unlock();
  enter_blocking(*this);  // takes the lock a canceller holds around interrupt()
  lock.lock();
  auto done = [&] { return state_ != InstanceState::kListening || blocking_cancelled(); };
  bool in_time = true;
  if (!done()) {
    lock.unlock();
    {
      SleepNotice asleep;  // outside state_mu_: the observer takes a lock of its own
      lock.lock();
      if (deadline) {
        in_time = state_cv_.wait_until(lock, *deadline, done);
      } else {
        state_cv_.wait(lock, done);
      }
      lock.unlock();
    }
    lock.lock();
  }
  if (!in_time && !done()) return errc::kSemTimeout;
  if (blocking_cancelled()) return errc::kOperationAborted;  // the instance stays listening
  if (state_ == InstanceState::kConnected) return ConnectStatus::kConnected;
  if (state_ == InstanceState::kDisconnected) return errc::kPipeNotConnected;
  return errc::kBrokenPipe;
}

Result<void> PipeEndCore::disconnect() {
  if (!server_) return errc::kInvalidFunction;
  {
    std::lock_guard lock(state_mu_);
    switch (state_) {
      case InstanceState::kClosed:
        return errc::kInvalidHandle;
      case InstanceState::kDisconnected:
        return errc::kPipeNotConnected;
      case InstanceState::kListening:
        // Success (docs/architecture.md, "Where Windows is unclear").
        stop_listening_locked();
        state_ = InstanceState::kDisconnected;
        state_cv_.notify_all();
        break;
      case InstanceState::kConnected:
        conn_->channel.publish_state(shm::EndState::kDisconnected);
        os::shutdown_socket(conn_->socket.get());
        state_ = InstanceState::kDisconnected;
        had_client_ = false;
        break;
    }
  }
  abort_waiters();
  state_cv_.notify_all();
  complete_connects(errc::kPipeNotConnected);
  // Operations in flight see the state and leave; then the connection can go.
  Completions done;
  {
    std::lock_guard io(io_mu_);
    teardown_connection();
    carry_.clear();  // the old client's: never the next one's
    fail_pending_locked(done, errc::kPipeNotConnected, errc::kPipeNotConnected);
    kick_shared_server();
    // The other holders keep the old connection, disconnected; a new client is ours alone.
    if (shared_) {
      (void)leave_holders();
      std::lock_guard lock(state_mu_);
      shared_.reset();
      shared_error_ = {};
    }
  }
  run(done);
  return {};
}

void PipeEndCore::teardown_connection() noexcept {
  std::unique_ptr<Connection> old;
  {
    std::lock_guard lock(state_mu_);
    old = std::move(conn_);
    if (old && old->watch_key) engine_->unwatch(old->socket.get(), old->watch_key);
    peer_hung_up_.store(false);
  }
  // `old` unmaps both segments: the client keeps its own mapping of ours, so it still reads
  // the disconnected state, and the next client gets fresh segments.
}

void PipeEndCore::close() noexcept {
  {
    std::lock_guard lock(state_mu_);
    if (state_ == InstanceState::kClosed) return;
    // A shared end closes for the peer with its last holder; a disconnect stays a disconnect.
    bool last = !shared_ || leave_holders();
    if (conn_ && last &&
        conn_->channel.own().state.load() == static_cast<std::uint32_t>(shm::EndState::kOpen))
      conn_->channel.publish_state(shm::EndState::kClosed);
    if (server_) stop_listening_locked();
    state_ = InstanceState::kClosed;
  }
  abort_waiters();
  state_cv_.notify_all();
  complete_connects(errc::kBrokenPipe);  // docs/architecture.md, "Where Windows is unclear"
  Completions done;
  os::UniqueFd entry;
  {
    std::lock_guard io(io_mu_);
    teardown_connection();
    // Reads pending on a closing end fail with kBrokenPipe, as on Windows. Pending writes
    // would complete by the quota rule, which nobody can observe any more.
    fail_pending_locked(done, errc::kBrokenPipe, errc::kBrokenPipe);
    kick_shared_server();  // its thread, if any, finds nothing left and ends
    next_channel_.reset();
    {
      std::lock_guard lock(state_mu_);
      shared_.reset();
    }
    slot_lock_.reset();  // the instance is gone; the name with it if this was the last
    entry = std::move(name_dir_);
    client_name_dir_.reset();
  }
  // Its files go with the last holder, and the entry with its last instance: nothing stays.
  if (entry) engine_->names().forget_instance(entry.get(), slot_, instance_id_);
  run(done);
}

}  // namespace sluice::core
