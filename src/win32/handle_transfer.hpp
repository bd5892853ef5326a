// Handles that leave this process: inherited by a child (CreateProcess with bInheritHandles)
// or duplicated into another process (DuplicateHandle through that process's inbox,
// objects/inbox.hpp, as messages of kind "win32"). This layer decides which handle kinds travel
// and how (the item), and what DuplicateHandle's arguments become there; the inbox (listener,
// peer checks, its thread) is the objects layer's.
//
// An object travels as a text item plus descriptors. Pipe ends that the engine shares (named
// pipes) go through PipeEnd::share(); anonymous pipes and files are plain descriptors; an event
// travels as an open of its shared file (an unnamed one gets a hidden name first).
#pragma once

#include <windows.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "objects.hpp"
#include "objects/inbox.hpp"
#include "sluice/named_pipe.hpp"
#include "win32/async.hpp"

namespace sluice::win32 {

/// One object on its way out: the item that describes it and the descriptors to hand over
/// (owned by `shared` for a named pipe; the object's own otherwise, valid while it lives).
struct OutgoingObject {
  std::string item;
  std::vector<int> fds;
  PortableEnd shared;
  objects::UniqueFd
      event_open;  // a named event's travelling open (objects::NamedEvent::prepare_travel())
};

/// Describes `object` for another process. kNotSupported for objects that cannot leave a
/// process (threads, processes, ports; TODO(compat)) and for pipe ends that
/// cannot be shared now (see PipeEnd::share()).
Result<OutgoingObject> prepare_outgoing(const std::shared_ptr<Object>& object);

/// Remakes an object from an item and the descriptors that came with it (taken over); named
/// pipes join `registry`'s engine. kInvalidParameter for an item this layer does not make.
Result<std::shared_ptr<Object>> accept_incoming(Registry* registry, const std::string& item,
                                                std::vector<objects::UniqueFd> fds);

/// Starts this process's inbox with this layer's handlers: DuplicateHandle into this process
/// (from processes of the same user only) and completion packets from other processes
/// (remote_ports.hpp). Called once at initialisation.
void start_handle_inbox() noexcept;

/// DuplicateHandle into process `pid`: hands `object` to that process's inbox and returns the
/// handle value it got there, a handle with `access` (mapped rights, as HandleTable keeps them).
/// Errors: kNotSupported (an object that cannot travel, or a process without a sluice Win32 layer,
/// after waiting `timeout_ms` for its inbox), kInvalidParameter, kBrokenPipe (it died on the way),
/// kAccessDenied (as objects::send_to_inbox), kSemTimeout (no answer).
Result<HANDLE> send_to_process(std::uint32_t pid, const std::shared_ptr<Object>& object,
                               DWORD handle_flags, DWORD access, DWORD timeout_ms, int pidfd = -1);

}  // namespace sluice::win32
