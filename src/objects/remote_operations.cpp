#include "objects/remote_operations.hpp"

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <utility>

#include "objects/inbox.hpp"
#include "objects/text_fields.hpp"
#include "os/linux/child_process.hpp"

namespace sluice::objects {
namespace {

using namespace std::chrono_literals;

// Bodies of "op" messages (decimal fields):
//   pend|port id|key|context|token
//   pkt|port id|key|context|status|bytes|token       (token 0: not announced)
//   drop|token
constexpr std::string_view kKind = "op";
constexpr std::string_view kAnnounce = "pend|";
constexpr std::string_view kPacket = "pkt|";
constexpr std::string_view kDrop = "drop|";
constexpr auto kSendTime = 2s;  // room in a busy inbox's backlog

std::string number(std::uint64_t v) { return std::to_string(v); }

bool send(std::uint32_t pid, const std::string& body) {
  return send_to_inbox(pid, kKind, body, {}, kSendTime).has_value();
}

std::mutex& sink_mutex() {
  static std::mutex mu;
  return mu;
}

RemotePacketSink& sink() {                // guarded by sink_mutex()
  static auto* s = new RemotePacketSink;  // used by the inbox thread until the process ends
  return *s;
}

void deliver(const RemotePacket& packet, bool abandoned) {
  RemotePacketSink to;
  {
    std::lock_guard lock(sink_mutex());
    to = sink();
  }
  if (to) to(packet, abandoned);
}

}  // namespace

std::uint64_t announce_remote_operation(std::uint32_t pid, std::uint64_t port_id, std::uint64_t key,
                                        std::uint64_t context) {
  static std::atomic<std::uint64_t> next{1};
  std::uint64_t token = next.fetch_add(1);
  std::string body = std::string(kAnnounce) + number(port_id) + "|" + number(key) + "|" +
                     number(context) + "|" + number(token);
  return send(pid, body) ? token : 0;
}

void post_remote_packet(std::uint32_t pid, const RemotePacket& packet, std::uint64_t token) {
  (void)send(pid, std::string(kPacket) + number(packet.port_id) + "|" + number(packet.key) + "|" +
                      number(packet.context) + "|" + number(packet.status) + "|" +
                      number(packet.bytes) + "|" + number(token));
}

void retire_remote_operation(std::uint32_t pid, std::uint64_t token) {
  if (token != 0) (void)send(pid, std::string(kDrop) + number(token));
}

void set_remote_packet_sink(RemotePacketSink to) {
  std::lock_guard lock(sink_mutex());
  sink() = std::move(to);
}

namespace {

// The port id, key and context that begin both announcements and packets.
bool parse_target(const std::vector<std::string>& f, RemotePacket* p) {
  return parse_decimal(f[0], &p->port_id) && parse_decimal(f[1], &p->key) &&
         parse_decimal(f[2], &p->context);
}

}  // namespace

bool RemoteOperations::serve(std::uint32_t sender, std::string_view text, os::Poller& poller) {
  if (text.starts_with(kAnnounce)) {
    auto f = split_fields(text.substr(kAnnounce.size()), '|');
    RemotePacket abandoned;
    std::uint64_t token = 0;
    if (f.size() != 4 || !parse_target(f, &abandoned) || !parse_decimal(f[3], &token) || token == 0)
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
    it->second.pending[token] = abandoned;
    return true;
  }
  std::uint64_t token = 0;
  if (text.starts_with(kPacket)) {
    auto f = split_fields(text.substr(kPacket.size()), '|');
    RemotePacket packet;
    if (f.size() != 6 || !parse_target(f, &packet) || !parse_decimal(f[3], &packet.status) ||
        !parse_decimal(f[4], &packet.bytes) || !parse_decimal(f[5], &token))
      return true;
    deliver(packet, false);
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
    for (const auto& [token, packet] : it->second.pending) deliver(packet, true);
    it = issuers_.erase(it);
  }
}

void RemoteOperations::process_exited(std::uint32_t pid, os::Poller& poller) {
  auto it = issuers_.find(pid);
  if (it == issuers_.end()) return;
  for (const auto& [token, packet] : it->second.pending) deliver(packet, true);
  poller.remove(it->second.exit_watch.get());
  issuers_.erase(it);
}

}  // namespace sluice::objects
