// The handle inbox (docs/architecture.md, "Handle transfer"): how a process hands kernel objects
// to another running process, as DuplicateHandle into another process does on Windows.
//
// Each process that wants to receive runs one inbox: a thread listening on the abstract AF_UNIX
// socket "sluice-win32-handles-<pid>" (the name from before the inbox left the Win32 layer;
// every sluice process agrees on it). A sender connects, checks that the listener is the target
// process's, and sends one message: "<kind>:<body>" plus up to os::kMaxPassedFds descriptors
// (SCM_RIGHTS). The inbox takes messages only from processes of its own user or root, and hands
// each to the handler the layers above registered for its kind: the Win32 layer its handle items
// ("win32"), the C++ API its own ("api"). Messages of kind "op" are the remote completion-port
// bookkeeping (remote_operations.hpp), served by the inbox itself.
//
// A handler answers with a text (the sender reads "ok <text>") or an error ("err <code>", a
// sluice::errc value), or with nothing for a one-way message. One connection per message.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "os/linux/unique_fd.hpp"
#include "sluice/result.hpp"

namespace sluice::objects {

/// Descriptors that travel with a message (the os layer's owner, offered to the layers above).
using UniqueFd = os::UniqueFd;

/// One message that reached this process's inbox.
struct InboxMessage {
  std::uint32_t sender_pid = 0;  // as the kernel saw it when the sender connected
  std::string_view body;         // after "<kind>:"
  std::vector<UniqueFd> fds;     // the handler takes what it keeps; the rest close
};

/// What a handler answers: nullopt for a one-way message (nobody waits), else a text or an
/// error for the sender.
using InboxReply = std::optional<Result<std::string>>;
/// Runs on the inbox thread, one message at a time: it must not wait for another process.
using InboxHandler = std::function<InboxReply(InboxMessage& message)>;

/// Registers the handler of messages of `kind` (a word without ':'), replacing an earlier one.
/// Messages of a kind nobody registered are answered kNotSupported. Any thread.
void register_inbox_handler(std::string kind, InboxHandler handler);

/// Starts this process's inbox (once; later calls return the first one's result). Any thread.
/// Errors: those of listening (kAccessDenied, kPipeBusy: the name is taken, by a squatter or
/// by an inbox this process inherited), resource errors.
Result<void> start_inbox();

/// Sends "<kind>:<body>" and `fds` to process `pid`'s inbox on a connection of its own and
/// returns that connection (for a reply; close it for a one-way message). Waits up to
/// `patience` for an inbox that does not exist yet (a process just started) or whose backlog is
/// full. Sends as the process, even from a thread that impersonates (Windows checks the
/// process handle's access, not the thread's token). Nothing is sent to an inbox that is not
/// `pid`'s (its listener's SO_PEERCRED pid and uid), nor, when `pidfd` (the target's, or -1) is
/// given, once that process has exited: its pid may be another process's by then; nor to
/// another user's process unless we are root (the inbox would refuse it).
/// Errors: kAccessDenied (not the target's inbox, another user's, or the target has exited),
/// kNotSupported (no
/// inbox after `patience`: gone, or a process without one), the send's.
Result<UniqueFd> send_to_inbox(std::uint32_t pid, std::string_view kind, std::string_view body,
                               const std::vector<int>& fds, std::chrono::milliseconds patience,
                               int pidfd = -1);

/// send_to_inbox(), then waits up to `reply_time` for the handler's answer and returns its text.
/// Errors: send_to_inbox()'s, the handler's error, kSemTimeout (no answer in time), kBrokenPipe
/// (the inbox hung up without one: a process that refused us or died), kBadPipe (an answer
/// that does not parse).
Result<std::string> request_from_inbox(std::uint32_t pid, std::string_view kind,
                                       std::string_view body, const std::vector<int>& fds,
                                       std::chrono::milliseconds patience,
                                       std::chrono::milliseconds reply_time, int pidfd = -1);

}  // namespace sluice::objects
