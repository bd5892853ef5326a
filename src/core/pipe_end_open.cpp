// PipeEndCore: creating a server instance, listening for and accepting clients, the
// connection handshake on the server's side, and a client's open and wait for an instance. The
// data path, states and waits are in pipe_end_core.cpp; asynchronous operations in
// pipe_end_async.cpp; shared ends in pipe_end_shared.cpp.
#include <algorithm>
#include <functional>
#include <thread>

#include "core/clamp32.hpp"
#include "core/pipe_access.hpp"
#include "core/pipe_end_core.hpp"
#include "os/linux/dir_watch.hpp"
#include "os/linux/directory.hpp"
#include "os/linux/thread_credentials.hpp"
#include "os/linux/unix_socket.hpp"
#include "registry/pipe_name.hpp"
#include "transport/handshake.hpp"

namespace sluice::core {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr std::uint32_t kInboundServerRights =
    kReadData | kReadEa | kReadAttributes | kReadControl | kSynchronize;
constexpr std::uint32_t kOutboundServerRights =
    kWriteData | kAppendData | kWriteEa | kWriteAttributes | kReadControl | kSynchronize;

constexpr auto kHandshakeTimeout = 2000ms;
// WaitNamedPipe looks again at least this often (a vanished server sends no event) ...
constexpr auto kWaitSlice = 50ms;
// ... and this often when it has no inotify instance to wake it.
constexpr auto kPollSlice = 5ms;
constexpr std::size_t kMaxOpenings = 16;  // silent clients kept per listening instance

std::uint32_t server_rights(std::uint32_t access) {
  std::uint32_t r = 0;
  if (access & kAccessInbound) r |= kInboundServerRights;
  if (access & kAccessOutbound) r |= kOutboundServerRights;
  return r;
}

// What a client that asked for `desired` gets (0 still connects, with read-attributes only).
std::uint32_t client_rights(std::uint32_t desired) {
  return desired == 0 ? (kReadAttributes | kSynchronize) : desired;
}

bool client_access_fits(std::uint32_t pipe_access, std::uint32_t desired) {
  if ((desired & kWriteData) && !(pipe_access & kAccessInbound)) return false;
  if ((desired & kReadData) && !(pipe_access & kAccessOutbound)) return false;
  return true;
}

// The kernel's word on who is at the other end of `socket`.
Result<ProcessIdentity> peer_identity(int socket) {
  auto creds = os::peer_credentials(socket);
  if (!creds) return creds.error();
  auto groups = os::peer_groups(socket);
  if (!groups) return groups.error();
  ProcessIdentity id;
  id.pid = creds->pid;
  id.session = os::session_id_of(creds->pid);
  id.uid = creds->uid;
  id.gid = creds->gid;
  id.groups = std::move(*groups);
  return id;
}

Identity identity_of(const ProcessIdentity& p) { return Identity{p.uid, p.gid, p.groups}; }

// WaitNamedPipe's loop: `ready` looks (true: done; an error ends the wait), then the thread
// sleeps until inotify reports a change in `dir` or kWaitSlice passes, and looks again, until
// `deadline` (kSemTimeout). Without a watch (each costs an inotify instance, 128 per user by
// default) it looks every kPollSlice. The slice bounds every wait anyway: some changes send no
// event there (a killed server; a new instance inside an entry below `dir`).
Result<void> wait_watching(int dir, Deadline deadline, const std::function<Result<bool>()>& ready) {
  std::optional<os::DirWatch> watch;
  if (auto w = os::DirWatch::create(dir); w) watch.emplace(std::move(*w));
  for (;;) {
    auto done = ready();
    if (!done) return done.error();
    if (*done) return {};
    auto slice = kWaitSlice;
    if (deadline) {
      auto left = std::chrono::ceil<std::chrono::milliseconds>(*deadline - Clock::now());
      if (left <= 0ms) return errc::kSemTimeout;
      slice = std::min(slice, left);
    }
    SleepNotice asleep;  // a wait as any other: a completion-port thread counts out meanwhile
    if (watch)
      watch->wait(static_cast<int>(slice.count()));
    else
      std::this_thread::sleep_for(std::min(slice, kPollSlice));
  }
}

}  // namespace

Result<std::shared_ptr<PipeEndCore>> PipeEndCore::create_server(
    const std::shared_ptr<Engine>& engine, std::string_view name, const ServerOptions& o) {
  registry::PipeName parsed;
  if (auto problem = registry::parse_pipe_name(name, &parsed);
      problem != registry::NameProblem::kNone)
    return registry::error_for_server(problem);
  // A server creates its pipes on its own computer, as `\\.\pipe\X` only.
  if (parsed.via_network) return registry::error_for_server(registry::NameProblem::kRemote);
  auto access = static_cast<std::uint32_t>(o.access);
  if (access < 1 || access > 3 || o.max_instances == 0 || o.max_instances > 255 ||
      (o.type == PipeType::kByte && o.read_mode == ReadMode::kMessage) ||
      (o.type != PipeType::kByte && o.type != PipeType::kMessage) ||
      (o.read_mode != ReadMode::kByte && o.read_mode != ReadMode::kMessage) ||
      (o.wait_mode != WaitMode::kWait && o.wait_mode != WaitMode::kNoWait) ||
      o.default_timeout.count() < 0)
    return errc::kInvalidParameter;

  registry::PipeAttributes wanted;
  wanted.access = access;
  wanted.type = static_cast<std::uint32_t>(o.type);
  wanted.max_instances = o.max_instances;
  wanted.default_timeout_ms = o.default_timeout.count() == 0
                                  ? 50u
                                  : clamp32(static_cast<std::uint64_t>(o.default_timeout.count()));
  SecurityDescriptor security = o.security;
  if (!security.owner) security.owner = os::current_user_id();
  if (!security.group) security.group = os::current_group_id();
  wanted.security = security.to_text();
  // Adding an instance to another user's name takes the rights of the open mode plus the
  // right to create an instance ("Named Pipe Security and Access Rights", Microsoft Learn).
  auto may_add = [access](const registry::PipeAttributes& owner_pipe) {
    auto owner_security = SecurityDescriptor::from_text(owner_pipe.security);
    auto me = os::thread_credentials();
    return owner_security && me &&
           owner_security->permits(Identity{me->euid, me->egid, std::move(me->groups)},
                                   server_rights(access) | rights::kCreatePipeInstance);
  };
  auto slot = engine->names().create_instance(parsed, wanted, o.first_instance, may_add);
  if (!slot) return slot.error();
  auto name_security = SecurityDescriptor::from_text(slot->pipe.security);
  if (!name_security) {  // a descriptor file we cannot read: no instance, and none left over
    auto id = os::file_id(slot->instance.get());
    slot->instance.reset();
    if (id) engine->names().forget_instance(slot->entry.get(), slot->slot, *id);
    return errc::kAccessDenied;
  }
  std::shared_ptr<PipeEndCore> end(new PipeEndCore(engine, true));
  end->access_ = slot->pipe.access;
  end->type_ = static_cast<PipeType>(slot->pipe.type);
  end->max_instances_ = slot->pipe.max_instances;
  end->reject_remote_ = o.reject_remote_clients;
  end->security_ = std::move(*name_security);
  end->out_quota_ = o.out_buffer_size;
  end->in_quota_ = o.in_buffer_size;
  end->granted_ = server_rights(end->access_);
  end->read_mode_ = end->type_ == PipeType::kByte ? ReadMode::kByte : o.read_mode;
  end->wait_mode_ = o.wait_mode;
  end->name_ = parsed;
  end->name_dir_ = std::move(slot->entry);
  end->slot_lock_ = std::move(slot->instance);
  end->slot_ = slot->slot;
  if (auto id = os::file_id(end->slot_lock_.get()); id) end->instance_id_ = *id;
  std::lock_guard lock(end->state_mu_);
  if (auto listening = end->start_listening_locked(); !listening) return listening.error();
  return end;
}

Result<void> PipeEndCore::start_listening_locked() {
  if (!next_channel_) {
    auto channel = shm::Channel::create(out_quota_);
    if (!channel) return channel.error();
    next_channel_.emplace(std::move(*channel));
  }
  std::string file = registry::PipeNamespace::listener_name(slot_, in_quota_);
  // Anyone may connect (connect(2) needs write permission on the socket file): the agent checks
  // each client against the name's descriptor with the kernel's credentials.
  auto listener = os::listen_at(name_dir_.get(), file, 0666);
  if (!listener) return listener.error();
  auto key = engine_->watch(listener->get(), weak_from_this());
  if (!key) {
    os::unlink_at(name_dir_.get(), file);
    return key.error();
  }
  listener_ = std::move(*listener);
  listener_file_ = std::move(file);
  listener_key_ = *key;
  state_ = InstanceState::kListening;
  return {};
}

void PipeEndCore::stop_listening_locked() noexcept {
  drop_openings_locked();
  if (!listener_) return;
  engine_->unwatch(listener_.get(), listener_key_);
  // Unlink first: a client that finds the file then gets a refused connection and moves on.
  os::unlink_at(name_dir_.get(), listener_file_);
  listener_.reset();
  listener_file_.clear();
  listener_key_ = 0;
}

void PipeEndCore::on_ready(std::uint64_t key, bool readable, bool hung_up) {
  enum class Source { kListener, kOpening, kConnection, kDoorbell } source;
  os::UniqueFd opening;
  {
    std::lock_guard lock(state_mu_);
    auto it = std::find_if(openings_.begin(), openings_.end(),
                           [&](const Opening& o) { return o.key == key; });
    if (listener_ && key == listener_key_) {
      source = Source::kListener;
    } else if (it != openings_.end()) {
      engine_->unwatch(it->socket.get(), it->key);
      opening = std::move(it->socket);
      openings_.erase(it);
      source = Source::kOpening;
    } else if (conn_ && key == conn_->watch_key) {
      // After the handshake the socket carries only doorbells; no more bytes means hung up.
      if (!hung_up && os::drain_doorbell(conn_->socket.get())) {
        source = Source::kDoorbell;
      } else {
        engine_->unwatch(conn_->socket.get(), conn_->watch_key);
        conn_->watch_key = 0;
        source = Source::kConnection;
      }
    } else {
      return;  // an old descriptor's event
    }
  }
  switch (source) {
    case Source::kListener:
      if (readable) accept_clients();
      return;
    case Source::kOpening:
      handshake(std::move(opening));
      return;
    case Source::kConnection:
      peer_hung_up_.store(true);
      abort_waiters();
      state_cv_.notify_all();
      serve_pending();  // pending reads and writes learn that the peer is gone
      return;
    case Source::kDoorbell:
      serve_pending();
      return;
  }
}

void PipeEndCore::accept_clients() {
  for (;;) {
    int listener;
    {
      std::lock_guard lock(state_mu_);
      if (!listener_) return;
      listener = listener_.get();
    }
    auto socket = os::accept_from(listener);
    if (!socket) {
      if (socket.error() != errc::kNoData) engine_->refuse_connection(listener);
      return;
    }
    // A client sends its Hello right after connect(), so it is nearly always here already.
    if (os::socket_wait_readable(socket->get(), 0ms)) {
      handshake(std::move(*socket));
    } else {
      std::lock_guard lock(state_mu_);
      await_hello_locked(std::move(*socket));
    }
  }
}

void PipeEndCore::await_hello_locked(os::UniqueFd socket) {
  if (openings_.size() >= kMaxOpenings) {  // the oldest silent client makes room
    engine_->unwatch(openings_.front().socket.get(), openings_.front().key);
    openings_.erase(openings_.begin());
  }
  auto key = engine_->watch(socket.get(), weak_from_this());
  if (key) openings_.push_back({std::move(socket), *key});
}

void PipeEndCore::drop_openings_locked() noexcept {
  // Their clients see a hang-up and try the next listener.
  for (auto& o : openings_) engine_->unwatch(o.socket.get(), o.key);
  openings_.clear();
}

void PipeEndCore::handshake(os::UniqueFd socket) {
  os::UniqueFd client_segment;
  auto hello = transport::receive_hello(socket.get(), &client_segment);
  if (!hello) return;
  auto peer = peer_identity(socket.get());
  if (!peer) return;
  peer->qos = transport::decode_qos(hello->qos);
  peer->via_network = (hello->flags & transport::kHelloViaNetwork) != 0;

  transport::Reply reply;
  std::unique_lock lock(state_mu_);
  // PIPE_REJECT_REMOTE_CLIENTS refuses a client that came through the network redirector.
  // Microsoft's pages name no error for it; the client gets ERROR_ACCESS_DENIED, as for any open
  // the server refuses. The flag is the client's own word, which is enough: see
  // transport::kHelloViaNetwork.
  if (reject_remote_ && peer->via_network) {
    reply.status = static_cast<std::uint32_t>(errc::kAccessDenied);
    (void)transport::send_reply(socket.get(), reply, -1);
    return;
  }
  // The descriptor first, with what the kernel says of the client (as Windows checks the DACL
  // before it looks for a free instance): a refused client learns nothing of the pipe.
  // A client never asks for kCreatePipeInstance: GENERIC_WRITE's FILE_APPEND_DATA is that bit,
  // and Windows leaves it out of a client's check (Microsoft's "Named Pipe Security and Access
  // Rights"), so a grant of write without it admits GENERIC_WRITE clients.
  if (!security_.permits(identity_of(*peer),
                         hello->desired_access & ~rights::kCreatePipeInstance)) {
    reply.status = static_cast<std::uint32_t>(errc::kAccessDenied);
    (void)transport::send_reply(socket.get(), reply, -1);
    return;
  }
  reply.access = access_;
  reply.type = static_cast<std::uint32_t>(type_);
  reply.out_quota = out_quota_;
  reply.in_quota = in_quota_;
  reply.max_instances = max_instances_;
  if (state_ != InstanceState::kListening || !next_channel_) {
    reply.status = static_cast<std::uint32_t>(errc::kPipeBusy);
    (void)transport::send_reply(socket.get(), reply, -1);
    return;
  }
  if (!client_access_fits(access_, hello->desired_access)) {
    reply.status = static_cast<std::uint32_t>(errc::kAccessDenied);
    (void)transport::send_reply(socket.get(), reply, -1);
    return;
  }
  auto conn = std::make_unique<Connection>();
  conn->channel = std::move(*next_channel_);
  next_channel_.reset();
  auto segment = conn->channel.descriptor_for_peer();  // read-only: the client never writes it
  if (!segment || !conn->channel.attach_peer(std::move(client_segment))) {
    reply.status = static_cast<std::uint32_t>(errc::kBadPipe);
    (void)transport::send_reply(socket.get(), reply, -1);
    next_channel_.emplace(std::move(conn->channel));
    return;
  }
  conn->peer = std::move(*peer);
  conn->socket = std::move(socket);
  conn->channel.set_doorbell(conn->socket.get());
  auto key = engine_->watch(conn->socket.get(), weak_from_this());
  conn->watch_key = key ? *key : 0;
  peer_hung_up_.store(false);
  stop_listening_locked();
  int reply_socket = conn->socket.get();
  conn_ = std::move(conn);
  had_client_ = true;
  // Connected before the reply leaves: once the client's open returns, the server end must
  // already behave as connected (ERROR_PIPE_CONNECTED, reads, writes).
  state_ = InstanceState::kConnected;
  if (!transport::send_reply(reply_socket, reply, segment->get())) {
    // The client gave up waiting: to us it connected and closed at once.
    peer_hung_up_.store(true);
  }
  lock.unlock();
  state_cv_.notify_all();
  complete_connects({});
}

Result<std::shared_ptr<PipeEndCore>> PipeEndCore::open_client(const std::shared_ptr<Engine>& engine,
                                                              std::string_view name,
                                                              const ClientOptions& o) {
  registry::PipeName parsed;
  if (auto problem = registry::parse_pipe_name(name, &parsed);
      problem != registry::NameProblem::kNone)
    return registry::error_for_client(problem);
  auto view = engine->names().find(parsed);
  if (!view) return view.error();
  if (!client_access_fits(view->pipe.access, o.desired_access)) return errc::kAccessDenied;
  auto name_security = SecurityDescriptor::from_text(view->pipe.security);
  if (!name_security) return errc::kFileNotFound;

  // A listener a killed server left refuses the connection; no need to look at its instance.
  for (const auto& listener : registry::PipeNamespace::listeners(*view, false)) {
    const registry::NameEntry& entry = view->entries[listener.entry];
    auto socket = os::connect_at(entry.dir.get(), listener.file);
    if (!socket) {
      // Out of descriptors or memory is the answer, not a busy pipe: WaitNamedPipe would say
      // an instance waits and the documented retry loop would never end.
      if (socket.error() == errc::kTooManyOpenFiles || socket.error() == errc::kNotEnoughMemory)
        return socket.error();
      continue;
    }
    auto channel = shm::Channel::create(listener.in_quota);
    if (!channel) return channel.error();
    transport::Hello hello;
    hello.desired_access = o.desired_access;
    hello.qos = transport::encode_qos(o.qos);
    if (parsed.via_network) hello.flags |= transport::kHelloViaNetwork;
    auto segment = channel->descriptor_for_peer();  // read-only: the server never writes it
    if (!segment) return segment.error();
    if (!transport::send_hello(socket->get(), hello, segment->get())) continue;
    segment->reset();
    if (!os::socket_wait_readable(socket->get(), kHandshakeTimeout)) continue;
    os::UniqueFd server_segment;
    auto reply = transport::receive_reply(socket->get(), &server_segment);
    if (!reply) continue;
    if (reply->status == static_cast<std::uint32_t>(errc::kAccessDenied))
      return errc::kAccessDenied;
    if (reply->status != 0) continue;
    if (!channel->attach_peer(std::move(server_segment))) continue;
    auto server = peer_identity(socket->get());
    if (!server) continue;
    // The instance must be the entry owner's (only its owner, or root, can bind there), and
    // an entry that joined the name must be one the name's descriptor lets add instances: a
    // squatter never receives another user's client.
    if ((server->uid != entry.uid && server->uid != 0) ||
        (!entry.owner &&
         !name_security->permits(identity_of(*server), rights::kCreatePipeInstance)))
      continue;

    std::shared_ptr<PipeEndCore> end(new PipeEndCore(engine, false));
    end->access_ = reply->access;
    end->type_ = reply->type == static_cast<std::uint32_t>(PipeType::kMessage) ? PipeType::kMessage
                                                                               : PipeType::kByte;
    end->out_quota_ = reply->out_quota;
    end->in_quota_ = reply->in_quota;
    end->max_instances_ = reply->max_instances;
    end->granted_ = client_rights(o.desired_access);
    auto conn = std::make_unique<Connection>();
    conn->channel = std::move(*channel);
    conn->peer = std::move(*server);
    conn->socket = std::move(*socket);
    conn->channel.set_doorbell(conn->socket.get());
    {
      std::lock_guard lock(end->state_mu_);
      auto key = engine->watch(conn->socket.get(), end->weak_from_this());
      conn->watch_key = key ? *key : 0;
      end->conn_ = std::move(conn);
      end->state_ = InstanceState::kConnected;
    }
    end->name_ = parsed;
    end->client_name_dir_ = std::move(view->entries.front().dir);  // the view ends here
    return end;
  }
  return errc::kPipeBusy;
}

Result<void> PipeEndCore::wait_for_instance(const std::shared_ptr<Engine>& engine,
                                            std::string_view name,
                                            std::chrono::milliseconds timeout) {
  registry::PipeName parsed;
  if (auto problem = registry::parse_pipe_name(name, &parsed);
      problem != registry::NameProblem::kNone)
    return registry::error_for_wait(problem);
  auto view = engine->names().find(parsed);
  if (!view) return view.error();
  if (timeout == kUseDefaultWait)
    timeout = std::chrono::milliseconds(view->pipe.default_timeout_ms);
  Deadline deadline;
  if (timeout != kWaitForever) deadline = Clock::now() + timeout;
  // The owner's entry changes when a listener appears there or an instance goes. The watch is
  // made before the first look, while this view holds the entry open.
  bool first = true;
  return wait_watching(view->entries.front().dir.get(), deadline, [&]() -> Result<bool> {
    if (!first) {
      view = engine->names().find(parsed);
      if (!view) return view.error();
    }
    first = false;
    return !registry::PipeNamespace::listeners(*view, true).empty();
  });
}

Result<void> PipeEndCore::wait_for_name(const std::shared_ptr<Engine>& engine,
                                        std::string_view name, std::chrono::milliseconds timeout) {
  registry::PipeName parsed;
  if (auto problem = registry::parse_pipe_name(name, &parsed);
      problem != registry::NameProblem::kNone)
    return registry::error_for_wait(problem);
  Deadline deadline;
  if (timeout != kWaitForever) deadline = Clock::now() + timeout;
  // A new name is mostly a new entry in the namespace directory.
  return wait_watching(engine->names().directory(), deadline, [&]() -> Result<bool> {
    auto view = engine->names().find(parsed);
    if (view) return true;
    if (view.error() != errc::kFileNotFound) return view.error();
    return false;
  });
}

}  // namespace sluice::core
