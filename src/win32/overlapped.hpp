// OVERLAPPED handling for synchronous completion, and I/O helpers shared by the source files.
#pragma once

#include <windows.h>

#include <span>

#include "sluice/named_pipe.hpp"
#include "sluice/result.hpp"
#include "win32/objects.hpp"

namespace sluice::win32 {

/// Entry of a call given an OVERLAPPED: Internal = STATUS_PENDING, the event is reset.
void begin_overlapped(LPOVERLAPPED ov) noexcept;
/// The call finished (synchronously): Internal = status, InternalHigh = bytes, event signalled.
void complete_overlapped(LPOVERLAPPED ov, DWORD status, DWORD bytes) noexcept;

/// PeekNamedPipe on a descriptor (a standard handle that is a kernel pipe).
Result<PeekResult> peek_fd(FdObject& file, std::span<std::byte> buffer);

}  // namespace sluice::win32
