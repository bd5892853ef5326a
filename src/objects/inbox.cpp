#include "objects/inbox.hpp"

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>

#include "objects/remote_operations.hpp"
#include "objects/text_fields.hpp"
#include "os/linux/child_process.hpp"
#include "os/linux/directory.hpp"
#include "os/linux/poller.hpp"
#include "os/linux/thread_credentials.hpp"
#include "os/linux/unix_socket.hpp"

namespace sluice::objects {
namespace {

using namespace std::chrono_literals;

constexpr std::uint64_t kListenerKey = 0;       // the inbox's poller; other keys are issuers' pids
constexpr std::string_view kOperations = "op";  // remote_operations.hpp, served here
constexpr std::size_t kMaxMessage = 4096;
// How long a connected sender may take to send its one message: the inbox serves one sender
// at a time, so a sender that connects and says nothing must not hold it up for long.
constexpr auto kSenderPatience = 5000ms;

std::string inbox_name(std::uint32_t pid) { return "sluice-win32-handles-" + std::to_string(pid); }

struct Handlers {
  std::mutex mu;
  std::map<std::string, std::shared_ptr<const InboxHandler>, std::less<>> by_kind;  // guarded by mu
};

Handlers& handlers() {
  static auto* h = new Handlers;  // used by the inbox thread until the process ends
  return *h;
}

std::shared_ptr<const InboxHandler> handler_of(std::string_view kind) {
  auto& h = handlers();
  std::lock_guard lock(h.mu);
  auto it = h.by_kind.find(kind);
  return it == h.by_kind.end() ? nullptr : it->second;
}

void send_reply(int socket, const Result<std::string>& reply) {
  std::string text;
  if (reply) {
    text = "ok " + *reply;
  } else {
    // Errors travel as sluice::errc values (Windows error numbers); another category's number
    // would mean something else there.
    int code = reply.error().category() == sluice::category()
                   ? reply.error().value()
                   : static_cast<int>(errc::kInvalidParameter);
    text = "err " + std::to_string(code);
  }
  (void)os::send_message(socket, text.data(), text.size());
}

// One connection, one message: "<kind>:<body>" plus descriptors.
void serve_request(int socket, RemoteOperations& operations, os::Poller& poller) {
  auto creds = os::peer_credentials(socket);
  if (!creds) return;
  // Windows asks for PROCESS_DUP_HANDLE on the target; here: the same user (or root) only.
  // Nothing of the message is read: its descriptors close with the connection. The answer
  // waits for the message, so the sender finds it after its send instead of a reset send.
  const bool refused = creds->uid != os::current_user_id() && creds->uid != 0;
  if (!os::socket_wait_readable(socket, kSenderPatience)) return;
  if (refused) {
    send_reply(socket, errc::kAccessDenied);
    return;
  }
  char buffer[kMaxMessage];
  UniqueFd fds[os::kMaxPassedFds];
  int count = 0;
  auto got = os::receive_message(socket, buffer, sizeof buffer, fds, os::kMaxPassedFds, &count);
  // Truncated (too long, or more descriptors than a message carries: the kernel closed the
  // rest, and the received ones close here) or empty: refused whole.
  if (!got || *got == 0) {
    if (!got) send_reply(socket, errc::kInvalidParameter);
    return;
  }
  std::string_view text(buffer, *got);
  std::size_t colon = text.find(':');
  if (colon == std::string_view::npos) {
    send_reply(socket, errc::kInvalidParameter);
    return;
  }
  std::string_view kind = text.substr(0, colon);
  InboxMessage message{creds->pid, text.substr(colon + 1), {}};
  if (kind == kOperations) {
    operations.serve(message.sender_pid, message.body, poller);  // nobody waits for a reply
    return;
  }
  auto handler = handler_of(kind);
  if (!handler) {
    send_reply(socket, errc::kNotSupported);
    return;
  }
  for (int i = 0; i < count; ++i) message.fds.push_back(std::move(fds[i]));
  InboxReply reply = (*handler)(message);
  if (reply) send_reply(socket, *reply);
}

// `reserve`: out of descriptors, a pending connection would keep the listener readable and this
// thread spinning; it is refused with this spare instead (the sender sees a hang-up).
void run_inbox(UniqueFd listener, os::Poller poller, UniqueFd reserve) {
  RemoteOperations operations;
  auto serve_queued = [&] {
    for (;;) {
      auto socket = os::accept_from(listener.get());
      if (!socket) {
        if (socket.error() == errc::kTooManyOpenFiles)
          os::refuse_one_connection(listener.get(), reserve);
        break;  // level-triggered: another pending one wakes us again
      }
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
}

Result<void> start_once() {
  // The listener's SO_PEERCRED and the thread's credentials are the process's, even when the
  // first caller impersonates a client.
  os::OwnCredentialsScope as_process;
  auto listener = os::listen_abstract(inbox_name(os::current_process_id()));
  if (!listener) return listener.error();
  auto poller = os::Poller::create();
  if (!poller) return poller.error();
  if (auto added = poller->add(listener->get(), kListenerKey); !added) return added.error();
  std::thread(run_inbox, std::move(*listener), std::move(*poller), os::open_reserve_descriptor())
      .detach();
  return {};
}

// The inbox takes only its user's and root's messages: say so before sending anything.
Result<void> may_reach(std::uint32_t owner) {
  const std::uint32_t me = os::current_user_id();
  if (owner != me && me != 0) return errc::kAccessDenied;
  return {};
}

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
  return may_reach(*owner);
}

bool exited(int pidfd) { return pidfd >= 0 && os::wait_child_exit(pidfd, 0ms).value_or(true); }

}  // namespace

void register_inbox_handler(std::string kind, InboxHandler handler) {
  auto& h = handlers();
  auto shared = std::make_shared<const InboxHandler>(std::move(handler));
  std::lock_guard lock(h.mu);
  h.by_kind[std::move(kind)] = std::move(shared);
}

Result<void> start_inbox() {
  static const Result<void> started = start_once();
  return started;
}

Result<UniqueFd> send_to_inbox(std::uint32_t pid, std::string_view kind, std::string_view body,
                               const std::vector<int>& fds, std::chrono::milliseconds patience,
                               int pidfd) {
  std::string message;
  message.reserve(kind.size() + 1 + body.size());
  message.append(kind).append(1, ':').append(body);
  // A process just started may not have its inbox yet, and a busy inbox's backlog may be full
  // for a moment: try again meanwhile, while the process lives.
  auto deadline = std::chrono::steady_clock::now() + patience;
  // The inbox checks its caller's uid: that must be the process's, not a client's this thread
  // impersonates (Windows checks the process handle's access, not the thread's token).
  os::OwnCredentialsScope as_process;
  // Another user's process is refused at once, whether its inbox is open yet or not (it may
  // change users later: check_inbox() looks again).
  if (auto owner = os::process_user_id(pid); owner) {
    if (auto reachable = may_reach(*owner); !reachable) return reachable.error();
  }
  for (;;) {
    auto socket = os::connect_abstract(inbox_name(pid));
    if (socket) {
      if (auto checked = check_inbox(socket->get(), pid); !checked) return checked.error();
      // Checked after the inbox: a process alive now still holds its pid, so the inbox with
      // that pid is its. Windows refuses a terminated target with ERROR_ACCESS_DENIED
      // (STATUS_PROCESS_IS_TERMINATING).
      if (exited(pidfd)) return errc::kAccessDenied;
      if (auto sent = os::send_message(socket->get(), message.data(), message.size(), fds.data(),
                                       static_cast<int>(fds.size()));
          !sent)
        return sent.error();
      return socket;
    }
    if (exited(pidfd)) return errc::kAccessDenied;
    bool retry = socket.error() == errc::kPipeBusy ||
                 (socket.error() == errc::kFileNotFound && os::process_exists(pid));
    if (!retry || std::chrono::steady_clock::now() >= deadline) return errc::kNotSupported;
    std::this_thread::sleep_for(1ms);  // neither has an event to wait for
  }
}

Result<std::string> request_from_inbox(std::uint32_t pid, std::string_view kind,
                                       std::string_view body, const std::vector<int>& fds,
                                       std::chrono::milliseconds patience,
                                       std::chrono::milliseconds reply_time, int pidfd) {
  auto socket = send_to_inbox(pid, kind, body, fds, patience, pidfd);
  if (!socket) return socket.error();
  if (!os::socket_wait_readable(socket->get(), reply_time)) return errc::kSemTimeout;
  char buffer[kMaxMessage];
  auto got = os::receive_message(socket->get(), buffer, sizeof buffer, nullptr, 0, nullptr);
  if (!got || *got == 0) return errc::kBrokenPipe;
  std::string_view reply(buffer, *got);
  if (reply.starts_with("ok ")) return std::string(reply.substr(3));
  std::uint32_t code = 0;
  if (reply.starts_with("err ") && parse_decimal(reply.substr(4), &code) && code != 0)
    return std::error_code(static_cast<int>(code), sluice::category());
  return errc::kBadPipe;
}

}  // namespace sluice::objects
