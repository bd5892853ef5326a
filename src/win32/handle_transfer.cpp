#include "handle_transfer.hpp"

#include <chrono>
#include <cstdio>
#include <thread>

#include "objects/named_event.hpp"
#include "os/linux/child_process.hpp"
#include "os/linux/directory.hpp"
#include "os/linux/poller.hpp"
#include "os/linux/unix_socket.hpp"
#include "sluice/impersonation.hpp"
#include "win32/async.hpp"
#include "win32/remote_ports.hpp"
#include "win32/text_fields.hpp"

namespace sluice::win32 {
namespace {

using namespace std::chrono_literals;

constexpr std::uint64_t kListenerKey = 0;  // the inbox's poller; other keys are issuers' pids

// Item: kind,size,creator pid,flags,description — kind 'n' named-pipe end (flags: overlapped,
// then "/pid/port id/key" of the completion port it is associated with, if any),
// 'r'/'w' anonymous read/write end, 'f' file or other descriptor (flags: readable, writable),
// 'e' named event (flags: its access rights; descriptors: the open, the scope directory);
// description: the named pipe's PortableEnd description, the event's file name, '-' otherwise.
std::string make_item(char kind, std::uint32_t size, std::uint32_t pid, const std::string& flags,
                      const std::string& description) {
  return std::string(1, kind) + "," + std::to_string(size) + "," + std::to_string(pid) + "," +
         flags + "," + description;
}

std::string inbox_name(std::uint32_t pid) { return "sluice-win32-handles-" + std::to_string(pid); }

// One request: a packet message (remote_ports.hpp), or DuplicateHandle's
// "<handle flags>,<handle rights>|<item>" plus descriptors, whose reply is "ok <handle value>" or
// "err <Win32 error>". The rights are the handle's, not the object's: a read-only duplicate of a
// duplex end stays read-only in the process it went to.
void serve_request(int socket, RemoteOperations& operations, os::Poller& poller) {
  auto creds = os::peer_credentials(socket);
  // Windows asks for PROCESS_DUP_HANDLE on the target; here: the same user (or root) only.
  if (!creds || (creds->uid != os::current_user_id() && creds->uid != 0)) return;
  if (!os::socket_wait_readable(socket, 5000ms)) return;
  char buffer[1024];
  os::UniqueFd fds[os::kMaxPassedFds];
  int count = 0;
  auto got = os::receive_message(socket, buffer, sizeof buffer - 1, fds, os::kMaxPassedFds, &count);
  std::string reply = "err " + std::to_string(ERROR_INVALID_PARAMETER);
  if (got && *got > 0) {
    std::string request(buffer, *got);
    if (operations.serve(creds->pid, request, poller)) return;  // nobody waits for a reply
    std::size_t bar = request.find('|');
    std::size_t comma = request.find(',');
    std::uint32_t flags = 0;
    std::uint32_t access = 0;
    if (bar != std::string::npos && comma < bar &&
        parse_decimal(std::string_view(request).substr(0, comma), &flags) &&
        parse_decimal(std::string_view(request).substr(comma + 1, bar - comma - 1), &access)) {
      std::vector<os::UniqueFd> received;
      for (int i = 0; i < count; ++i) received.push_back(std::move(fds[i]));
      std::error_code no_registry;
      auto object =
          accept_incoming(registry(&no_registry), request.substr(bar + 1), std::move(received));
      if (object) {
        HANDLE h =
            globals().handles.insert(std::move(*object), flags & HANDLE_FLAG_INHERIT, access);
        reply = "ok " + std::to_string(reinterpret_cast<std::uintptr_t>(h));
      } else {
        reply = "err " + std::to_string(win32_code(object.error()));
      }
    }
  }
  (void)os::send_message(socket, reply.data(), reply.size());
}

}  // namespace

Result<OutgoingObject> prepare_outgoing(const std::shared_ptr<Object>& object) {
  OutgoingObject out;
  switch (object->kind()) {
    case Kind::kNamedPipe: {
      auto& pipe = static_cast<NamedPipeObject&>(*object);
      auto shared = pipe.end().share();
      if (!shared) {
        if (shared.error() == errc::kBusy) return errc::kBusy;  // a read here holds the end
        return errc::kNotSupported;
      }
      out.fds = shared->descriptors();
      std::string flags = pipe.overlapped() ? "1" : "0";
      {
        std::lock_guard lock(io_mutex());
        const AsyncState& state = *pipe.async;
        std::uint32_t pid = state.port ? os::current_process_id() : state.remote_port.pid;
        std::uint64_t port_id = state.port ? state.port->id : state.remote_port.port_id;
        if (pid != 0)
          flags += "/" + std::to_string(pid) + "/" + std::to_string(port_id) + "/" +
                   std::to_string(state.key);
      }
      out.item = make_item('n', 0, 0, flags, shared->description());
      out.shared = std::move(*shared);
      return out;
    }
    case Kind::kAnonRead:
    case Kind::kAnonWrite: {
      auto& o = static_cast<AnonPipeObject&>(*object);
      const bool read_end = object->kind() == Kind::kAnonRead;
      const PipeInfo info = o.any_end().info();
      out.fds = {o.any_end().native_handle()};
      out.item =
          make_item(read_end ? 'r' : 'w', read_end ? info.in_buffer_size : info.out_buffer_size,
                    o.creator_pid, "0", "-");
      return out;
    }
    case Kind::kFd: {
      auto& o = static_cast<FdObject&>(*object);
      out.fds = {o.fd};
      out.item = make_item('f', 0, 0,
                           std::string(o.can_read ? "1" : "0") + (o.can_write ? "1" : "0"), "-");
      return out;
    }
    case Kind::kEvent: {
      auto& event = static_cast<EventObject&>(*object);
      auto shared = event.shared_state();
      if (!shared) return shared.error();
      auto travel = (*shared)->prepare_travel();
      if (!travel) return travel.error();
      out.fds = {travel->open.get(), travel->directory};
      out.item = make_item('e', 0, 0, std::to_string(event.access), travel->file);
      out.event_open = std::move(travel->open);
      return out;
    }
    default:
      return errc::kNotSupported;  // TODO(compat): threads, processes across processes
  }
}

Result<std::shared_ptr<Object>> accept_incoming(Registry* reg, const std::string& item,
                                                std::vector<os::UniqueFd> fds) {
  auto fields = split_fields(item, ',');
  std::uint32_t size = 0, pid = 0;
  if (fields.size() != 5 || fields[0].size() != 1 || !parse_decimal(fields[1], &size) ||
      !parse_decimal(fields[2], &pid))
    return errc::kInvalidParameter;
  const std::string& flags = fields[3];
  switch (fields[0][0]) {
    case 'n': {
      auto parts = split_fields(flags, '/');
      std::uint32_t port_pid = 0;
      std::uint64_t port_id = 0, key = 0;
      bool associated = parts.size() == 4;
      if ((parts.size() != 1 && !associated) || (parts[0] != "0" && parts[0] != "1") ||
          (associated && (!parse_decimal(parts[1], &port_pid) || port_pid == 0 ||
                          !parse_decimal(parts[2], &port_id) || !parse_decimal(parts[3], &key))))
        return errc::kInvalidParameter;
      std::vector<int> raw;
      for (auto& fd : fds) raw.push_back(fd.release());
      auto portable = PortableEnd::from(fields[4], std::move(raw));
      bool overlapped = parts[0] == "1";
      if (!reg) return errc::kNotSupported;
      std::shared_ptr<NamedPipeObject> pipe;
      if (portable.server_end()) {
        auto end = ServerEnd::adopt(*reg, std::move(portable));
        if (!end) return end.error();
        pipe = std::make_shared<NamedPipeObject>(std::move(*end), overlapped);
      } else {
        auto end = ClientEnd::adopt(*reg, std::move(portable));
        if (!end) return end.error();
        pipe = std::make_shared<NamedPipeObject>(std::move(*end), overlapped);
      }
      if (associated) adopt_association(pipe->async, port_pid, port_id, key);
      return std::shared_ptr<Object>(std::move(pipe));
    }
    case 'e': {
      std::uint32_t rights = 0;
      if (fds.size() != 2 || !fds[0] || !fds[1] || !parse_decimal(flags, &rights))
        return errc::kInvalidParameter;
      auto event = objects::NamedEvent::adopt(std::move(fds[0]), std::move(fds[1]), fields[4]);
      if (!event) return event.error();
      return std::shared_ptr<Object>(std::make_shared<EventObject>(std::move(*event), rights));
    }
    case 'r':
      if (fds.size() != 1 || !fds[0]) return errc::kInvalidParameter;
      return std::shared_ptr<Object>(
          std::make_shared<AnonReadObject>(AnonReadEnd(fds[0].release(), size), pid));
    case 'w':
      if (fds.size() != 1 || !fds[0]) return errc::kInvalidParameter;
      return std::shared_ptr<Object>(
          std::make_shared<AnonWriteObject>(AnonWriteEnd(fds[0].release(), size), pid));
    case 'f':
      if (fds.size() != 1 || !fds[0] || flags.size() != 2) return errc::kInvalidParameter;
      return std::shared_ptr<Object>(
          std::make_shared<FdObject>(fds[0].release(), true, flags[0] == '1', flags[1] == '1'));
    default:
      return errc::kInvalidParameter;
  }
}

void start_handle_inbox() noexcept {
  auto listener = os::listen_abstract(inbox_name(os::current_process_id()));
  if (!listener) return;  // DuplicateHandle into this process then fails with ERROR_NOT_SUPPORTED
  auto poller = os::Poller::create();
  if (!poller || !poller->add(listener->get(), kListenerKey)) return;
  std::thread([listener = std::move(*listener), poller = std::move(*poller)]() mutable {
    RemoteOperations operations;
    auto serve_queued = [&] {
      for (;;) {
        auto socket = os::accept_from(listener.get());
        if (!socket) break;
        serve_request(socket->get(), operations, poller);
      }
      operations.settle_gone_issuers();
    };
    std::vector<os::PollEvent> events;
    for (;;) {
      events.clear();
      poller.wait(events, -1);
      for (const auto& ev : events) {
        if (ev.key == kListenerKey) {
          serve_queued();
        } else if (ev.key != os::Poller::kWakeKey) {
          // An issuer of operations on our ports exited. What it sent before is queued on the
          // listener: read it all first, so only what never completed is reported aborted.
          serve_queued();
          operations.process_exited(static_cast<std::uint32_t>(ev.key), poller);
        }
      }
    }
  }).detach();
}

namespace {

// An abstract socket name belongs to whoever binds it first: any local user may bind
// "sluice-win32-handles-<pid>" before process <pid> does. Nothing is sent before the kernel
// confirms that the listener is that process's (SO_PEERCRED: the pid and effective uid of the
// process that called listen()) and that the process runs as that uid now. TODO(security): a
// listener inherited by a child of a dead process whose pid came back would pass the pid test;
// SO_PEERPIDFD (Linux 6.5) would close that.
Result<void> check_inbox(int socket, std::uint32_t pid) {
  auto peer = os::peer_credentials(socket);
  if (!peer) return peer.error();
  auto owner = os::process_user_id(pid);
  // Windows refuses DuplicateHandle into a process it may not reach with ERROR_ACCESS_DENIED.
  if (!owner || peer->pid != pid || peer->uid != *owner) return errc::kAccessDenied;
  return {};
}

}  // namespace

Result<os::UniqueFd> send_to_inbox(std::uint32_t pid, const std::string& message,
                                   const std::vector<int>& fds, std::chrono::milliseconds patience,
                                   int pidfd) {
  // A child just started may not have its inbox yet, and a busy inbox's backlog may be full for
  // a moment: try again meanwhile, while the process lives.
  auto deadline = std::chrono::steady_clock::now() + patience;
  // The inbox checks its caller's uid: that must be the process's, not a client's this thread
  // impersonates (Windows checks the process handle's access, not the thread's token).
  ProcessIdentityScope as_process;
  for (;;) {
    auto socket = os::connect_abstract(inbox_name(pid));
    if (socket) {
      if (auto checked = check_inbox(socket->get(), pid); !checked) return checked.error();
      // Checked after the inbox: a process alive now still holds its pid, so the inbox with
      // that pid is its. Windows refuses a terminated target with ERROR_ACCESS_DENIED
      // (STATUS_PROCESS_IS_TERMINATING).
      if (pidfd >= 0 && os::wait_child_exit(pidfd, 0ms).value_or(true)) return errc::kAccessDenied;
      if (auto sent = os::send_message(socket->get(), message.data(), message.size(), fds.data(),
                                       static_cast<int>(fds.size()));
          !sent)
        return sent.error();
      return socket;
    }
    if (pidfd >= 0 && os::wait_child_exit(pidfd, 0ms).value_or(true)) return errc::kAccessDenied;
    bool retry = socket.error() == errc::kPipeBusy ||
                 (socket.error() == errc::kFileNotFound && os::process_exists(pid));
    if (!retry || std::chrono::steady_clock::now() >= deadline) return errc::kNotSupported;
    std::this_thread::sleep_for(1ms);  // neither has an event to wait for
  }
}

Result<HANDLE> send_to_process(std::uint32_t pid, const std::shared_ptr<Object>& object,
                               DWORD handle_flags, DWORD access, DWORD timeout_ms, int pidfd) {
  auto outgoing = prepare_outgoing(object);
  if (!outgoing) return outgoing.error();
  std::string request =
      std::to_string(handle_flags) + "," + std::to_string(access) + "|" + outgoing->item;
  auto socket =
      send_to_inbox(pid, request, outgoing->fds, std::chrono::milliseconds(timeout_ms), pidfd);
  if (!socket) return socket.error();
  if (!os::socket_wait_readable(socket->get(), 10000ms)) return errc::kSemTimeout;
  char buffer[64];
  auto got = os::receive_message(socket->get(), buffer, sizeof buffer, nullptr, 0, nullptr);
  if (!got || *got == 0) return errc::kBrokenPipe;
  std::string reply(buffer, *got);
  std::uint32_t value = 0;
  if (reply.rfind("ok ", 0) == 0 && parse_decimal(reply.substr(3), &value))
    return reinterpret_cast<HANDLE>(static_cast<std::uintptr_t>(value));
  if (reply.rfind("err ", 0) == 0 && parse_decimal(reply.substr(4), &value))
    return std::error_code(static_cast<int>(value), sluice::category());
  return errc::kBadPipe;
}

}  // namespace sluice::win32
