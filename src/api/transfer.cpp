#include "sluice/transfer.hpp"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "objects/inbox.hpp"
#include "objects/text_fields.hpp"
#include "os/linux/child_process.hpp"
#include "sluice/registry.hpp"

namespace sluice {
namespace {

using namespace std::chrono_literals;

// This API's messages in the process's inbox (objects/inbox.hpp): "p|<PortableEnd description>"
// with the end's descriptors, "r|<size>" or "w|<size>" with an anonymous end's descriptor; the
// answer is the token.
constexpr std::string_view kKind = "api";
constexpr auto kReplyTime = 10s;

using Object = std::variant<ServerEnd, ClientEnd, AnonReadEnd, AnonWriteEnd>;

struct Item {
  Object object;
  std::uint32_t sender = 0;
};

// What arrived and was not taken yet. The inbox thread adds, any thread takes.
struct Received {
  std::mutex mu;
  std::condition_variable arrived;
  Registry* registry = nullptr;          // guarded by mu; null: closed
  TransferToken next = 1;                // guarded by mu
  std::map<TransferToken, Item> items;   // guarded by mu
  std::deque<TransferToken> unreported;  // guarded by mu: for receive_from_inbox()
};

Received& received() {
  static auto* r = new Received;  // the inbox thread may use it until the process ends
  return *r;
}

TransferKind kind_of(const Object& object) {
  return static_cast<TransferKind>(object.index());  // the variant's order is the enum's
}

// Remakes what `message` carries; runs under received().mu (the registry stays alive).
Result<Object> accept(Registry& registry, objects::InboxMessage& message) {
  std::string_view body = message.body;
  if (body.size() < 2 || body[1] != '|') return errc::kInvalidParameter;
  std::string_view field = body.substr(2);
  if (body[0] == 'p') {
    std::vector<int> fds;
    for (auto& fd : message.fds) fds.push_back(fd.release());
    auto portable = PortableEnd::from(std::string(field), std::move(fds));
    if (portable.server_end()) {
      auto end = ServerEnd::adopt(registry, std::move(portable));
      if (!end) return end.error();
      return Object(std::move(*end));
    }
    auto end = ClientEnd::adopt(registry, std::move(portable));
    if (!end) return end.error();
    return Object(std::move(*end));
  }
  std::uint32_t size = 0;
  if ((body[0] != 'r' && body[0] != 'w') || !objects::parse_decimal(field, &size) ||
      message.fds.size() != 1 || !message.fds[0])
    return errc::kInvalidParameter;
  int fd = message.fds[0].release();
  if (body[0] == 'r') return Object(AnonReadEnd(fd, size));
  return Object(AnonWriteEnd(fd, size));
}

objects::InboxReply serve(objects::InboxMessage& message) {
  auto& r = received();
  std::unique_lock lock(r.mu);
  if (!r.registry) return Result<std::string>(errc::kNotSupported);  // closed
  auto object = accept(*r.registry, message);
  if (!object) return Result<std::string>(object.error());
  TransferToken token = r.next++;
  r.items.emplace(token, Item{std::move(*object), message.sender_pid});
  r.unreported.push_back(token);
  lock.unlock();
  r.arrived.notify_one();
  return Result<std::string>(std::to_string(token));
}

// Sends `body` and `fds` to `pid`'s inbox and returns the token it answered.
Result<TransferToken> send(std::uint32_t pid, const std::string& body, const std::vector<int>& fds,
                           std::chrono::milliseconds timeout) {
  if (pid == 0) return errc::kInvalidParameter;
  // A pidfd from before the send: what it watches keeps `pid` until it exits, so an inbox
  // that answers to `pid` while it lives is its (objects::send_to_inbox checks both).
  auto watch = os::watch_process_exit(pid);
  if (!watch) return errc::kInvalidParameter;  // no such process
  auto reply =
      objects::request_from_inbox(pid, kKind, body, fds, timeout, kReplyTime, watch->get());
  if (!reply) {
    if (reply.error() == errc::kSemTimeout) return errc::kWaitTimeout;
    return reply.error();
  }
  TransferToken token = 0;
  if (!objects::parse_decimal(*reply, &token) || token == 0) return errc::kBadPipe;
  return token;
}

template <class End>
Result<TransferToken> send_anonymous(std::uint32_t pid, End& end, char kind, std::uint32_t size,
                                     std::chrono::milliseconds timeout) {
  if (!end.is_open()) return errc::kInvalidParameter;
  auto token =
      send(pid, std::string(1, kind) + "|" + std::to_string(size), {end.native_handle()}, timeout);
  if (token) end.close();
  return token;
}

}  // namespace

Result<void> open_inbox(Registry& registry) {
  static const bool registered = (objects::register_inbox_handler(std::string(kKind), serve), true);
  (void)registered;
  auto& r = received();
  {
    // Before the listener exists: a sender that finds it must find the registry too.
    std::lock_guard lock(r.mu);
    r.registry = &registry;
  }
  auto started = objects::start_inbox();
  if (!started) {
    std::lock_guard lock(r.mu);
    r.registry = nullptr;
    return started.error();
  }
  return {};
}

void close_inbox() noexcept {
  auto& r = received();
  std::map<TransferToken, Item> dropped;  // closed outside the lock
  {
    std::lock_guard lock(r.mu);
    r.registry = nullptr;
    dropped.swap(r.items);
    r.unreported.clear();
  }
  r.arrived.notify_all();  // receive_from_inbox() returns kInvalidHandle
}

Result<TransferToken> send_to_process(std::uint32_t pid, PipeEnd&& end,
                                      std::chrono::milliseconds timeout) {
  if (!end.is_open()) return errc::kInvalidParameter;
  auto shared = end.share();
  if (!shared) return shared.error();
  auto token = send(pid, "p|" + shared->description(), shared->descriptors(), timeout);
  // The receiver holds the end now: closing ours leaves the peer connected to it.
  if (token) end.close();
  return token;
}

Result<TransferToken> send_to_process(std::uint32_t pid, AnonReadEnd&& end,
                                      std::chrono::milliseconds timeout) {
  return send_anonymous(pid, end, 'r', end.info().in_buffer_size, timeout);
}

Result<TransferToken> send_to_process(std::uint32_t pid, AnonWriteEnd&& end,
                                      std::chrono::milliseconds timeout) {
  return send_anonymous(pid, end, 'w', end.info().out_buffer_size, timeout);
}

Result<Arrival> receive_from_inbox(std::chrono::milliseconds timeout) {
  auto& r = received();
  std::unique_lock lock(r.mu);
  auto deadline =
      std::chrono::steady_clock::now() + std::min(timeout, std::chrono::milliseconds(24h * 365));
  for (;;) {
    if (!r.registry) return errc::kInvalidHandle;
    while (!r.unreported.empty()) {
      TransferToken token = r.unreported.front();
      r.unreported.pop_front();
      auto it = r.items.find(token);
      if (it != r.items.end())  // else taken before anyone asked
        return Arrival{token, kind_of(it->second.object), it->second.sender};
    }
    if (r.arrived.wait_until(lock, deadline) == std::cv_status::timeout && r.unreported.empty())
      return errc::kWaitTimeout;
  }
}

template <class T>
Result<T> take_from_inbox(TransferToken token) {
  auto& r = received();
  std::lock_guard lock(r.mu);
  auto it = r.items.find(token);
  if (it == r.items.end() || !std::holds_alternative<T>(it->second.object))
    return errc::kInvalidHandle;
  T object = std::get<T>(std::move(it->second.object));
  r.items.erase(it);
  return object;
}

template Result<ServerEnd> take_from_inbox<ServerEnd>(TransferToken);
template Result<ClientEnd> take_from_inbox<ClientEnd>(TransferToken);
template Result<AnonReadEnd> take_from_inbox<AnonReadEnd>(TransferToken);
template Result<AnonWriteEnd> take_from_inbox<AnonWriteEnd>(TransferToken);

}  // namespace sluice
