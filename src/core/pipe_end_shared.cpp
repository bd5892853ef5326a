// Shared mode: one pipe end held by several processes (inheritance, DuplicateHandle).
//
// Windows keeps an end's state in the kernel, so every process that holds a handle to the end
// sees one read position, one partial message and one pair of modes. Here an end that leaves its
// process moves that state into an end segment (shm/end_segment.hpp) and its operations take an
// end lock that all holders share. A synchronous operation holds the lock for as long as it
// runs, waits included: that is Windows' rule for synchronous file objects, across processes too.
// While one process holds an end none of this costs anything.
#include <charconv>
#include <chrono>
#include <new>
#include <thread>

#include "core/pipe_end_core.hpp"
#include "os/linux/directory.hpp"
#include "os/linux/futex.hpp"
#include "os/linux/thread_credentials.hpp"

namespace sluice::core {
namespace {

// The description of an exported end: its kind, then numbers in a fixed order, '.'-separated
// (it travels in environment variables and socket messages, so it avoids ',', ';' and spaces).
enum Field : std::size_t {
  kAccess,
  kType,
  kOutQuota,
  kInQuota,
  kMaxInstances,
  kGranted,
  kOwnPid,
  kOwnSession,
  kPeerPid,
  kPeerSession,
  kPeerUid,
  kPeerGid,
  kSlot,
  kFieldCount
};

// Descriptors of an exported end, in this order; a server end also carries its instance slot.
enum Descriptor : std::size_t {
  kSocket,
  kOwnSegment,
  kPeerSegment,
  kEndSegment,
  kNameDir,
  kSlotLock
};

bool parse_description(std::string_view text, bool* server, std::uint64_t (&fields)[kFieldCount]) {
  if (text.size() < 2 || (text[0] != 'S' && text[0] != 'C') || text[1] != '.') return false;
  *server = text[0] == 'S';
  text.remove_prefix(2);
  for (std::size_t i = 0; i < kFieldCount; ++i) {
    auto [next, ec] = std::from_chars(text.data(), text.data() + text.size(), fields[i]);
    if (ec != std::errc() || fields[i] > 0xFFFFFFFFu) return false;
    text.remove_prefix(static_cast<std::size_t>(next - text.data()));
    if (i + 1 < kFieldCount) {
      if (text.empty() || text[0] != '.') return false;
      text.remove_prefix(1);
    }
  }
  return text.empty();
}

}  // namespace

Result<ExportedEnd> PipeEndCore::share() {
  // The switch needs the end to itself, but an operation here may hold it for as long as it
  // blocks (a read waiting for data): rather than hang CreateProcess or DuplicateHandle on it,
  // give up after a moment.
  std::unique_lock io(io_mu_, std::defer_lock);
  auto give_up = std::chrono::steady_clock::now() + std::chrono::milliseconds(200);
  while (!io.try_lock()) {
    if (std::chrono::steady_clock::now() >= give_up) return errc::kBusy;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  struct ServeOnLeave {  // what the agent asked for while we held io_mu_ (see SyncIo)
    PipeEndCore& end;
    std::unique_lock<IoMutex>& io;
    ~ServeOnLeave() {
      io.unlock();
      if (end.serve_requested_.load()) end.serve_if_requested();
    }
  } serve_on_leave{*this, io};
  std::lock_guard lock(state_mu_);
  if (auto e = error_of(state_.load())) return e;
  if (!conn_) return errc::kPipeNotConnected;
  if (!reads_.empty() || !writes_.empty() || !connects_.empty()) return errc::kNotSupported;
  if (!shared_) {
    auto segment = os::create_sealed_segment("sluice-end", shm::kEndSegmentSize);
    if (!segment) return segment.error();
    auto own_lock = os::reopen_descriptor(segment->fd.get());
    if (!own_lock) return own_lock.error();
    auto* end = new (segment->map.address()) shm::EndSegment{};
    end->magic = shm::kEndSegmentMagic;
    end->version = shm::kEndSegmentVersion;
    end->holders.store(1);
    end->read_mode.store(static_cast<std::uint32_t>(read_mode_.load()));
    end->wait_mode.store(static_cast<std::uint32_t>(wait_mode_.load()));
    end->fragment_offset.store(conn_->channel.fragment_offset());
    shared_ = std::make_unique<Shared>(
        Shared{std::move(segment->fd), std::move(segment->map), std::move(*own_lock)});
  }
  ExportedEnd out;
  int dir = server_ ? name_dir_.get() : client_name_dir_.get();
  std::vector<int> originals = {conn_->socket.get(), conn_->channel.own_fd(),
                                conn_->channel.peer_fd(), shared_->segment.get(), dir};
  if (server_) originals.push_back(slot_lock_.get());
  for (int fd : originals) {
    auto copy = os::duplicate_descriptor(fd);
    if (!copy) return copy.error();
    out.fds.push_back(std::move(*copy));
  }
  const ProcessIdentity& peer = conn_->peer;
  std::uint64_t fields[kFieldCount] = {access_,        static_cast<std::uint32_t>(type_),
                                       out_quota_,     in_quota_,
                                       max_instances_, granted_,
                                       own_pid_,       own_session_,
                                       peer.pid,       peer.session,
                                       peer.uid,       peer.gid,
                                       slot_};
  out.description = server_ ? "S" : "C";
  for (std::uint64_t f : fields) out.description += "." + std::to_string(f);
  // Counted last: an export that failed above never adds a holder.
  shared_->end().holders.fetch_add(1);
  return out;
}

Result<std::shared_ptr<PipeEndCore>> PipeEndCore::adopt(const std::shared_ptr<Engine>& engine,
                                                        std::string_view description,
                                                        std::vector<os::UniqueFd> fds) {
  bool server = false;
  std::uint64_t f[kFieldCount];
  if (!parse_description(description, &server, f)) return errc::kInvalidParameter;
  if (fds.size() != (server ? 6u : 5u)) return errc::kInvalidParameter;
  for (const auto& fd : fds)
    if (!fd) return errc::kInvalidParameter;
  if (f[kAccess] < 1 || f[kAccess] > 3 ||
      (f[kType] != static_cast<std::uint32_t>(PipeType::kByte) &&
       f[kType] != static_cast<std::uint32_t>(PipeType::kMessage)))
    return errc::kInvalidParameter;

  auto map =
      os::map_shared_segment(fds[kEndSegment].get(), shm::kEndSegmentSize, shm::kEndSegmentSize);
  if (!map) return map.error();
  const auto* state = static_cast<const shm::EndSegment*>(map->address());
  if (state->magic != shm::kEndSegmentMagic || state->version != shm::kEndSegmentVersion)
    return errc::kBadPipe;
  auto own_lock = os::reopen_descriptor(fds[kEndSegment].get());
  if (!own_lock) return own_lock.error();
  // Positions come from the segments at every operation (enter_shared), so none are needed now.
  auto channel = shm::Channel::adopt(std::move(fds[kOwnSegment]), std::move(fds[kPeerSegment]), 0);
  if (!channel) return channel.error();

  std::shared_ptr<PipeEndCore> end(new PipeEndCore(engine, server));
  end->access_ = static_cast<std::uint32_t>(f[kAccess]);
  end->type_ = static_cast<PipeType>(f[kType]);
  end->out_quota_ = static_cast<std::uint32_t>(f[kOutQuota]);
  end->in_quota_ = static_cast<std::uint32_t>(f[kInQuota]);
  end->max_instances_ = static_cast<std::uint32_t>(f[kMaxInstances]);
  end->granted_ = static_cast<std::uint32_t>(f[kGranted]);
  end->own_pid_ = static_cast<std::uint32_t>(f[kOwnPid]);
  end->own_session_ = static_cast<std::uint32_t>(f[kOwnSession]);
  auto conn = std::make_unique<Connection>();
  conn->channel = std::move(*channel);
  conn->peer.pid = static_cast<std::uint32_t>(f[kPeerPid]);
  conn->peer.session = static_cast<std::uint32_t>(f[kPeerSession]);
  conn->peer.uid = static_cast<std::uint32_t>(f[kPeerUid]);
  conn->peer.gid = static_cast<std::uint32_t>(f[kPeerGid]);
  conn->socket = std::move(fds[kSocket]);
  conn->channel.set_doorbell(conn->socket.get());
  // The name (for instance counts) and the descriptor, from the entry's descriptor file.
  if (auto pipe = registry::PipeNamespace::attributes_of_entry(fds[kNameDir].get()); pipe) {
    registry::PipeName name;
    if (registry::parse_stored_name(pipe->display, &name) == registry::NameProblem::kNone)
      end->name_ = name;
    if (auto security = SecurityDescriptor::from_text(pipe->security); security && server)
      end->security_ = std::move(*security);
  }
  if (server) {
    end->name_dir_ = std::move(fds[kNameDir]);
    end->slot_lock_ = std::move(fds[kSlotLock]);
    end->slot_ = static_cast<std::uint32_t>(f[kSlot]);
    if (auto id = os::file_id(end->slot_lock_.get()); id) end->instance_id_ = *id;
  } else {
    end->client_name_dir_ = std::move(fds[kNameDir]);
  }
  end->shared_ = std::make_unique<Shared>(
      Shared{std::move(fds[kEndSegment]), std::move(*map), std::move(*own_lock)});
  {
    std::lock_guard lock(end->state_mu_);
    // The agent here watches the socket too: the peer's death must wake our waiters as well.
    auto key = engine->watch(conn->socket.get(), end->weak_from_this());
    conn->watch_key = key ? *key : 0;
    end->conn_ = std::move(conn);
    end->had_client_ = true;
    end->state_ = InstanceState::kConnected;
  }
  // The modes as the other holders left them (enter_shared() keeps them current).
  SyncIo io(*end);
  return end;
}

void PipeEndCore::start_shared_server_locked() {
  if (shared_server_running_) {
    kick_shared_server();
    return;
  }
  shared_server_running_ = true;
  // Started by whichever thread shares first: it must serve as the process, not as a client that
  // thread impersonates (a thread inherits its creator's credentials).
  os::OwnCredentialsScope as_process;
  std::thread([self = shared_from_this()] { self->run_shared_server(); }).detach();
}

void PipeEndCore::kick_shared_server() noexcept {
  shared_kick_.fetch_add(1, std::memory_order_seq_cst);
  os::futex_wake_all(&shared_kick_, false);
}

void PipeEndCore::run_shared_server() {
  for (;;) {
    Completions done;
    std::uint32_t kick = shared_kick_.load(std::memory_order_seq_cst);
    const std::atomic<std::uint32_t>* data_word = nullptr;
    const std::atomic<std::uint32_t>* space_word = nullptr;
    std::uint32_t data_seq = 0, space_seq = 0;
    bool pending;
    {
      SyncIo io(*this);
      pending = conn_ && (!reads_.empty() || !writes_.empty());
      if (pending) {
        shm::Channel& ch = conn_->channel;
        shm::SegmentHeader& own = ch.own();
        // Flags first, then the words, then the last look: a peer that publishes after that
        // look sees a flag and bumps a word, so the wait below returns at once.
        if (!reads_.empty()) own.waiting_for_data.fetch_or(shm::kWaitShared);
        if (!writes_.empty()) own.waiting_for_space.fetch_or(shm::kWaitShared);
        ch.barrier_before_sleep();
        data_word = &ch.peer().data_seq;
        space_word = &ch.peer().read_seq;
        data_seq = data_word->load(std::memory_order_seq_cst);
        space_seq = space_word->load(std::memory_order_seq_cst);
        serve_locked(done);
        pending = !reads_.empty() || !writes_.empty();
        if (!reads_.empty()) {  // the head read is a request the peer's no-wait writes may serve
          const AsyncOp& head = reads_.front();
          bool message_mode = read_mode_.load() == ReadMode::kMessage;
          own.pending_read.store(shm::kPendingRead | (message_mode ? shm::kPendingMessage : 0) |
                                     (head.buffer.size() - head.partial),
                                 std::memory_order_seq_cst);
        }
      }
      if (!pending) shared_server_running_ = false;
    }
    run(done);
    if (!pending) return;
    // The peer's progress, a hang-up or a cancel (kick) wakes us; the deadline only bounds what
    // a peer that lies about its words could do.
    os::FutexWaiter waiters[3] = {
        {data_word, data_seq, true}, {space_word, space_seq, true}, {&shared_kick_, kick, false}};
    (void)os::futex_wait_any(waiters, 3,
                             std::chrono::steady_clock::now() + std::chrono::seconds(1));
  }
}

bool PipeEndCore::enter_shared() noexcept {
  auto locked = os::lock_byte(shared_->lock.get(), 0, true, true);
  if (!locked || !*locked) {
    shared_error_ = errc::kBadPipe;  // the kernel refused a lock on our own memfd: give up
    return false;
  }
  shm::EndSegment& end = shared_->end();
  if (conn_) {
    if (auto loaded = conn_->channel.reload_positions(end.fragment_offset.load()); !loaded)
      shared_error_ = loaded.error();
  }
  auto read_mode = static_cast<ReadMode>(end.read_mode.load());
  if (read_mode == ReadMode::kByte ||
      (read_mode == ReadMode::kMessage && type_ == PipeType::kMessage))
    read_mode_.store(read_mode);
  auto wait_mode = static_cast<WaitMode>(end.wait_mode.load());
  if (wait_mode == WaitMode::kWait || wait_mode == WaitMode::kNoWait) wait_mode_.store(wait_mode);
  return true;
}

void PipeEndCore::leave_shared() noexcept {
  if (conn_) shared_->end().fragment_offset.store(conn_->channel.fragment_offset());
  os::unlock_byte(shared_->lock.get(), 0);
}

bool PipeEndCore::leave_holders() noexcept {
  auto& holders = shared_->end().holders;
  std::uint32_t n = holders.load();
  // A count already at zero was spoiled by a holder: this close may be the last, so say so.
  while (n != 0 && !holders.compare_exchange_weak(n, n - 1)) {
  }
  return n <= 1;
}

}  // namespace sluice::core
