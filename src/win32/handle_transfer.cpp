#include "handle_transfer.hpp"

#include <chrono>
#include <utility>

#include "objects/named_event.hpp"
#include "objects/text_fields.hpp"
#include "sluice/process.hpp"
#include "win32/async.hpp"
#include "win32/remote_ports.hpp"

namespace sluice::win32 {
namespace {

using namespace std::chrono_literals;
using objects::parse_decimal;
using objects::split_fields;

constexpr std::string_view kKind = "win32";  // this layer's messages in the inbox

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

// DuplicateHandle's request: "<handle flags>,<handle rights>|<item>" plus descriptors, answered
// with the handle value. The rights are the handle's, not the object's: a read-only duplicate of
// a duplex end stays read-only in the process it went to.
objects::InboxReply serve_duplicate(objects::InboxMessage& message) {
  std::string_view request = message.body;
  std::size_t bar = request.find('|');
  std::size_t comma = request.find(',');
  std::uint32_t flags = 0;
  std::uint32_t access = 0;
  if (bar == std::string::npos || comma >= bar ||
      !parse_decimal(request.substr(0, comma), &flags) ||
      !parse_decimal(request.substr(comma + 1, bar - comma - 1), &access))
    return Result<std::string>(errc::kInvalidParameter);
  std::error_code no_registry;
  auto object = accept_incoming(registry(&no_registry), std::string(request.substr(bar + 1)),
                                std::move(message.fds));
  if (!object)  // as this layer would report it here, in Windows' numbers
    return Result<std::string>(
        std::error_code(static_cast<int>(win32_code(object.error())), sluice::category()));
  HANDLE h = globals().handles.insert(std::move(*object), flags & HANDLE_FLAG_INHERIT, access);
  return Result<std::string>(std::to_string(reinterpret_cast<std::uintptr_t>(h)));
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
        std::uint32_t pid = state.port ? current_process_id() : state.remote_port.pid;
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
                                                std::vector<objects::UniqueFd> fds) {
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
  objects::register_inbox_handler(std::string(kKind), serve_duplicate);
  install_remote_packet_sink();
  // Without an inbox, DuplicateHandle into this process fails with ERROR_NOT_SUPPORTED.
  (void)objects::start_inbox();
}

Result<HANDLE> send_to_process(std::uint32_t pid, const std::shared_ptr<Object>& object,
                               DWORD handle_flags, DWORD access, DWORD timeout_ms, int pidfd) {
  auto outgoing = prepare_outgoing(object);
  if (!outgoing) return outgoing.error();
  std::string request =
      std::to_string(handle_flags) + "," + std::to_string(access) + "|" + outgoing->item;
  auto reply = objects::request_from_inbox(pid, kKind, request, outgoing->fds,
                                           std::chrono::milliseconds(timeout_ms), 10000ms, pidfd);
  if (!reply) return reply.error();
  std::uint32_t value = 0;
  if (!parse_decimal(*reply, &value)) return errc::kBadPipe;
  return reinterpret_cast<HANDLE>(static_cast<std::uintptr_t>(value));
}

}  // namespace sluice::win32
