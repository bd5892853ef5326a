// sluice — handing pipe ends to another running process: what DuplicateHandle into another
// process does for a broker on Windows (docs/architecture.md, "Handle transfer").
//
// The receiving process opens its inbox (open_inbox()); a sender hands it an end
// (send_to_process()) and gets a token, the number the receiver claims the end by, as
// DuplicateHandle returns the handle's value in the target process. The sender tells the
// receiver the token by any means it likes (a message on a pipe they share, as a broker does),
// or the receiver waits for the next arrival (receive_from_inbox()). The receiver then takes the
// end out (take_from_inbox<ClientEnd>(token) and the like).
//
//   // receiver                                   // sender (a broker)
//   sluice::open_inbox(registry);                 auto token = sluice::send_to_process(
//   auto got = sluice::receive_from_inbox(10s);        receiver_pid, std::move(client_end));
//   auto end = sluice::take_from_inbox<sluice::ClientEnd>(got->token);
//
// Only between processes of the same user (or from root), as the Win32 layer's DuplicateHandle
// into another process. The inbox is the process's one inbox, shared with the Win32 layer
// (objects/inbox.hpp): a Win32 process (whose inbox runs from its start) receives what this
// API sends only once it calls open_inbox() too, and then as C++ objects it takes with
// take_from_inbox(), not as HANDLEs; a HANDLE that DuplicateHandle sends is not offered here.
#pragma once

#include <chrono>
#include <cstdint>

#include "sluice/anonymous_pipe.hpp"
#include "sluice/named_pipe.hpp"
#include "sluice/result.hpp"

namespace sluice {

class Registry;

/// The number an object sent to a process is claimed by there (DuplicateHandle's
/// *lpTargetHandle). Unique within the receiving process; never 0.
using TransferToken = std::uint64_t;

/// What can travel.
enum class TransferKind : std::uint8_t { kServerEnd, kClientEnd, kAnonReadEnd, kAnonWriteEnd };

/// One object that reached this process's inbox.
struct Arrival {
  TransferToken token = 0;
  TransferKind kind = TransferKind::kServerEnd;
  std::uint32_t sender_pid = 0;  // the sending process, as the kernel saw it
};

/// Starts this process's inbox, so that other processes' send_to_process() reaches it; named
/// pipe ends that arrive join `registry`'s engine, which must stay alive until close_inbox() (or
/// the end of the process). Calling it again changes the registry. Takes from processes of this
/// process's user and from root only. Thread safety: any thread. Errors: kAccessDenied or
/// kPipeBusy (another process holds this process's inbox name: it squats it, or this process
/// inherited it), resource errors. Win32: none needed (every process can be a target of
/// DuplicateHandle).
Result<void> open_inbox(Registry& registry);

/// Stops accepting objects (senders then get kNotSupported) and closes those not taken yet.
/// open_inbox() opens it again. Thread safety: any thread.
void close_inbox() noexcept;

/// Hands `end` to process `pid` and returns the token it can claim it by there
/// (take_from_inbox<ServerEnd> or <ClientEnd>, as `end` is). On success `end` is closed here:
/// the receiver holds the same end (PipeEnd::share(): one read position, the peer sees no
/// change); on failure `end` stays open here. Waits up to `timeout` for the receiver's inbox
/// to open (a process just started), then up to 10 s for its answer. Only a connected end can
/// travel. Win32: DuplicateHandle(GetCurrentProcess(), end, target, &value, 0, FALSE,
/// DUPLICATE_SAME_ACCESS | DUPLICATE_CLOSE_SOURCE).
///
/// Errors: kAccessDenied (`pid` is another user's process and we are not root, the inbox
/// listening under its name is not `pid`'s, or `pid` exited while we sent), kInvalidParameter
/// (no such process, or `end` is closed), kNotSupported (`pid` has no open inbox after
/// `timeout`: a program without sluice, or one that never called open_inbox(); a process whose
/// inbox runs for the Win32 layer only says so at once), kWaitTimeout
/// (it did not answer in time), kPipeListening / kPipeNotConnected / kBusy / kNotSupported
/// (an end that cannot be shared now, as PipeEnd::share()), kBrokenPipe (it refused or died on
/// the way). Thread safety: as the end's other operations.
Result<TransferToken> send_to_process(std::uint32_t pid, PipeEnd&& end,
                                      std::chrono::milliseconds timeout = std::chrono::seconds(5));

/// Hands an anonymous pipe end to process `pid`: its descriptor goes there and closes here on
/// success. Take it with take_from_inbox<AnonReadEnd> (or <AnonWriteEnd>). Errors as above,
/// without the sharing ones.
Result<TransferToken> send_to_process(std::uint32_t pid, AnonReadEnd&& end,
                                      std::chrono::milliseconds timeout = std::chrono::seconds(5));
Result<TransferToken> send_to_process(std::uint32_t pid, AnonWriteEnd&& end,
                                      std::chrono::milliseconds timeout = std::chrono::seconds(5));

/// Waits up to `timeout` for the next object to arrive (in order of arrival; each is reported
/// once, and not at all when it was taken first) and says what it is. Thread safety: any
/// thread; each arrival goes to one caller. Errors: kWaitTimeout, kInvalidHandle (the inbox
/// is not open).
Result<Arrival> receive_from_inbox(std::chrono::milliseconds timeout);

/// Takes the object `token` out of the inbox. T is ServerEnd, ClientEnd, AnonReadEnd or
/// AnonWriteEnd (the library instantiates those; another type does not link). An object not
/// taken stays until close_inbox() or the end of the process. Thread safety: any
/// thread; each object is taken once. Errors: kInvalidHandle (no object has that token here, or it
/// was taken, or it is of another kind: then it stays), as using a wrong handle value does on
/// Windows.
template <class T>
Result<T> take_from_inbox(TransferToken token);

}  // namespace sluice
