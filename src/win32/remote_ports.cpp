#include "win32/remote_ports.hpp"

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "core/pipe_end_core.hpp"
#include "os/linux/child_process.hpp"
#include "os/linux/directory.hpp"
#include "win32/handle_transfer.hpp"
#include "win32/ntstatus.hpp"
#include "win32/text_fields.hpp"

namespace sluice::win32 {
namespace {

using namespace std::chrono_literals;

// Messages (decimal fields; the OVERLAPPED is the issuer's address, passed on as a value, as
// Windows does):
//   pend|port id|key|overlapped|token
//   pkt|port id|key|overlapped|status|bytes|token     (token 0: not announced)
//   drop|token
constexpr std::string_view kAnnounce = "pend|";
constexpr std::string_view kPacket = "pkt|";
constexpr std::string_view kDrop = "drop|";
constexpr auto kSendTime = 2s;  // room in a busy inbox's backlog

std::string number(std::uint64_t v) { return std::to_string(v); }
std::string address(LPOVERLAPPED ov) { return number(reinterpret_cast<std::uintptr_t>(ov)); }

void send(RemotePort port, const std::string& message) {
  (void)send_to_inbox(port.pid, message, {}, kSendTime);
}

}  // namespace

std::uint64_t announce_remote_operation(RemotePort port, ULONG_PTR key, LPOVERLAPPED ov) {
  static std::atomic<std::uint64_t> next{1};
  std::uint64_t token = next.fetch_add(1);
  std::string message = std::string(kAnnounce) + number(port.port_id) + "|" + number(key) + "|" +
                        address(ov) + "|" + number(token);
  return send_to_inbox(port.pid, message, {}, kSendTime) ? token : 0;
}

void post_to_remote_port(RemotePort port, const Packet& packet, std::uint64_t token) {
  send(port, std::string(kPacket) + number(port.port_id) + "|" + number(packet.key) + "|" +
                 address(packet.overlapped) + "|" + number(packet.status) + "|" +
                 number(packet.bytes) + "|" + number(token));
}

void retire_remote_operation(RemotePort port, std::uint64_t token) {
  if (token != 0) send(port, std::string(kDrop) + number(token));
}

// ---- ends associated with another process's port, and this process's exit -----------------------

namespace {

// Ends associated with another process's port, whose pending operations the exit of this
// process cancels (and so reports to that port).
std::vector<std::weak_ptr<AsyncState>>& remotely_associated() {  // guarded by io_mutex()
  static auto* ends = new std::vector<std::weak_ptr<AsyncState>>;
  return *ends;
}

// atexit: cancelling them does what Windows does when a process exits: a pending write's
// unread data leaves the pipe, and the packets go out before the process is gone. A killed
// process cannot do this; its port's process then reports its announced operations aborted
// (remote_ports.hpp), but a pending write's data stays in the pipe (TODO(compat)).
void cancel_remotely_associated_io() {
  std::vector<std::pair<std::uint64_t, std::shared_ptr<core::PipeEndCore>>> pending;
  {
    std::lock_guard lock(io_mutex());
    for (auto& weak : remotely_associated()) {
      auto state = weak.lock();
      if (!state) continue;
      for (auto& op : state->pending) {
        if (op->done || op->id == 0) continue;
        if (auto core = op->core.lock()) pending.emplace_back(op->id, std::move(core));
      }
    }
  }
  for (auto& [id, core] : pending) (void)core->cancel(id);
}

}  // namespace

void adopt_association(const std::shared_ptr<AsyncState>& state, std::uint32_t pid,
                       std::uint64_t port_id, ULONG_PTR key) {
  if (pid != os::current_process_id()) {
    static const bool exit_cancels = std::atexit(cancel_remotely_associated_io) == 0;
    (void)exit_cancels;
  }
  std::lock_guard lock(io_mutex());
  state->key = key;
  if (pid == os::current_process_id()) {  // back home: the port itself, if it is still open
    state->port = open_port_locked(port_id);
    return;
  }
  state->remote_port = RemotePort{pid, port_id};
  auto& ends = remotely_associated();
  std::erase_if(ends, [](const std::weak_ptr<AsyncState>& w) { return w.expired(); });
  ends.push_back(state);
}

bool RemoteOperations::serve(std::uint32_t sender, const std::string& message, os::Poller& poller) {
  std::string_view text = message;
  if (text.starts_with(kAnnounce)) {
    auto f = split_fields(text.substr(kAnnounce.size()), '|');
    std::uint64_t port_id = 0, key = 0, ov = 0, token = 0;
    if (f.size() != 4 || !parse_decimal(f[0], &port_id) || !parse_decimal(f[1], &key) ||
        !parse_decimal(f[2], &ov) || !parse_decimal(f[3], &token) || token == 0)
      return true;
    auto [it, first] = issuers_.try_emplace(sender);
    if (first) {
      auto watch = os::watch_process_exit(sender);
      if (watch && poller.add(watch->get(), sender)) {
        it->second.exit_watch = std::move(*watch);
      } else if (watch || watch.error() == errc::kTooManyOpenFiles ||
                 watch.error() == errc::kNotEnoughMemory) {
        issuers_.erase(it);  // no descriptor left to watch it with: its operations go unreported
        return true;
      }
      // Else it has exited already, and may have been reaped before we read what it sent (its
      // killer does not wait for us): settle_gone_issuers() ends its operations once the inbox's
      // queue has been read.
    }
    Packet aborted{static_cast<ULONG_PTR>(key), reinterpret_cast<LPOVERLAPPED>(ov),
                   status_of_error(ERROR_OPERATION_ABORTED), 0};
    it->second.pending[token] = Announced{port_id, aborted};
    return true;
  }
  std::uint64_t token = 0;
  if (text.starts_with(kPacket)) {
    auto f = split_fields(text.substr(kPacket.size()), '|');
    std::uint64_t port_id = 0, key = 0, ov = 0;
    std::uint32_t status = 0, bytes = 0;
    if (f.size() != 6 || !parse_decimal(f[0], &port_id) || !parse_decimal(f[1], &key) ||
        !parse_decimal(f[2], &ov) || !parse_decimal(f[3], &status) ||
        !parse_decimal(f[4], &bytes) || !parse_decimal(f[5], &token))
      return true;
    (void)post_to_local_port(port_id, Packet{static_cast<ULONG_PTR>(key),
                                             reinterpret_cast<LPOVERLAPPED>(ov), status, bytes});
  } else if (text.starts_with(kDrop)) {
    if (!parse_decimal(text.substr(kDrop.size()), &token)) return true;
  } else {
    return false;
  }
  if (auto it = issuers_.find(sender); it != issuers_.end()) it->second.pending.erase(token);
  return true;
}

void RemoteOperations::settle_gone_issuers() {
  for (auto it = issuers_.begin(); it != issuers_.end();) {
    if (it->second.exit_watch) {
      ++it;
      continue;
    }
    for (const auto& [token, op] : it->second.pending)
      (void)post_to_local_port(op.port_id, op.aborted);
    it = issuers_.erase(it);
  }
}

void RemoteOperations::process_exited(std::uint32_t pid, os::Poller& poller) {
  auto it = issuers_.find(pid);
  if (it == issuers_.end()) return;
  for (const auto& [token, op] : it->second.pending) {
    (void)post_to_local_port(op.port_id, op.aborted);
  }
  poller.remove(it->second.exit_watch.get());
  issuers_.erase(it);
}

}  // namespace sluice::win32
