// ReadFile, WriteFile, FlushFileBuffers and ordinary files (fileapi.h), plus the synchronous
// completion of OVERLAPPED arguments.
#include <windows.h>

#include <optional>
#include <string>

#include "core/blocked_threads.hpp"
#include "os/linux/file.hpp"
#include "os/linux/kernel_pipe.hpp"
#include "win32/async.hpp"
#include "win32/objects.hpp"
#include "win32/overlapped.hpp"

namespace sluice::win32 {
namespace {

HANDLE fail_handle(DWORD code) {
  set_last_error(code);
  return INVALID_HANDLE_VALUE;
}

// CreateFile's and DeleteFile's error for a failed open or unlink: a missing file is
// ERROR_PATH_NOT_FOUND when it was to be created (its directory is what is missing), and an
// existing one ERROR_FILE_EXISTS.
DWORD file_error(std::error_code ec, bool creating) {
  DWORD code = win32_code(ec);
  if (code == ERROR_FILE_NOT_FOUND && creating) return ERROR_PATH_NOT_FOUND;
  if (code == ERROR_ALREADY_EXISTS) return ERROR_FILE_EXISTS;
  return code;
}

bool parent_exists(const std::string& path) {
  std::size_t slash = path.rfind('/');
  if (slash == std::string::npos) return true;
  return os::directory_exists(slash == 0 ? "/" : path.substr(0, slash));
}

}  // namespace

void begin_overlapped(LPOVERLAPPED ov) noexcept {
  if (!ov) return;
  store_internal(ov, STATUS_PENDING);
  if (HANDLE event = event_of(ov)) reset_event(event);
}

void complete_overlapped(LPOVERLAPPED ov, DWORD status, DWORD bytes) noexcept {
  if (!ov) return;
  std::shared_ptr<Object> event;
  try {
    event = event_object(event_of(ov));
  } catch (...) {
  }
  if (!event) {
    ov->InternalHigh = bytes;
    store_internal(ov, status);
    return;
  }
  // The status and the event change together (see overlapped_io.cpp, deliver).
  auto& e = static_cast<EventObject&>(*event);
  std::lock_guard lock(e.mutex());
  ov->InternalHigh = bytes;
  store_internal(ov, status);
  e.set_locked();
}

Result<PeekResult> peek_fd(FdObject& file, std::span<std::byte> buffer) {
  if (!os::is_stream(file.fd)) return errc::kInvalidFunction;
  if (!file.can_read) return errc::kAccessDenied;
  auto queued = os::bytes_queued(file.fd);
  if (!queued) return queued.error();
  PeekResult p;
  if (!buffer.empty() && *queued > 0) {
    auto n = os::peek(file.fd, buffer);
    if (!n) return n.error();
    p.bytes_read = static_cast<std::uint32_t>(*n);
  }
  p.total_available = static_cast<std::uint32_t>(*queued);
  p.bytes_left_this_message = 0u - p.bytes_read;  // byte pipe: Windows reports 0 - bytes peeked
  return p;
}

HANDLE create_file(const std::string& name, DWORD access, DWORD share, LPSECURITY_ATTRIBUTES sa,
                   DWORD disposition, DWORD flags) {
  (void)share;
  std::string path = name;
  for (char& c : path) {
    if (c == '\\') c = '/';  // Windows separators
  }
  bool want_read = (access & (GENERIC_READ | GENERIC_ALL | FILE_READ_DATA)) != 0;
  bool want_write =
      (access & (GENERIC_WRITE | GENERIC_ALL | FILE_WRITE_DATA | FILE_APPEND_DATA)) != 0;
  os::FileOpen how;
  how.read = want_read;
  how.write = want_write;
  how.append =
      (access & FILE_APPEND_DATA) && !(access & (GENERIC_WRITE | GENERIC_ALL | FILE_WRITE_DATA));
  how.mode = (flags & FILE_ATTRIBUTE_READONLY) ? 0444 : 0666;
  bool existed = false;
  Result<os::UniqueFd> fd = errc::kInvalidParameter;
  switch (disposition) {
    case CREATE_NEW:
      how.create = how.exclusive = true;
      fd = os::open_file(path, how);
      if (!fd) return fail_handle(file_error(fd.error(), true));
      break;
    case CREATE_ALWAYS:
    case OPEN_ALWAYS:
      how.create = how.exclusive = true;
      fd = os::open_file(path, how);
      if (!fd && fd.error() == make_error_code(errc::kAlreadyExists)) {
        existed = true;
        how.create = how.exclusive = false;
        how.truncate = disposition == CREATE_ALWAYS;
        fd = os::open_file(path, how);
      }
      if (!fd) return fail_handle(file_error(fd.error(), !parent_exists(path)));
      break;
    case OPEN_EXISTING:
    case TRUNCATE_EXISTING:
      if (disposition == TRUNCATE_EXISTING && !want_write) {
        return fail_handle(ERROR_INVALID_PARAMETER);
      }
      how.truncate = disposition == TRUNCATE_EXISTING;
      fd = os::open_file(path, how);
      if (!fd) {
        bool missing = fd.error() == make_error_code(errc::kFileNotFound);
        return fail_handle(missing && !parent_exists(path) ? ERROR_PATH_NOT_FOUND
                                                           : file_error(fd.error(), false));
      }
      break;
    default:
      return fail_handle(ERROR_INVALID_PARAMETER);
  }
  if (os::is_directory(fd->get())) return fail_handle(ERROR_ACCESS_DENIED);
  HANDLE h = globals().handles.insert(
      std::make_shared<FdObject>(fd->release(), true, want_read, want_write),
      sa && sa->bInheritHandle ? HANDLE_FLAG_INHERIT : 0);
  // CREATE_ALWAYS and OPEN_ALWAYS succeed on an existing file and say so.
  if (existed)
    set_last_error(ERROR_ALREADY_EXISTS);
  else if (disposition == CREATE_ALWAYS || disposition == OPEN_ALWAYS)
    set_last_error(0);
  return h;
}

}  // namespace sluice::win32

using namespace sluice;
using namespace sluice::win32;

namespace {

// An OVERLAPPED on a file gives the position; without one the file's own position is used.
std::optional<std::uint64_t> offset_of(LPOVERLAPPED ov) {
  if (!ov) return std::nullopt;
  return (static_cast<std::uint64_t>(ov->OffsetHigh) << 32) | ov->Offset;
}

// Reads from a descriptor as Windows reads a file (end of file: TRUE with 0 bytes) or a pipe
// (every writer gone: ERROR_BROKEN_PIPE).
Result<std::size_t> read_fd(FdObject& file, std::span<std::byte> buffer, LPOVERLAPPED ov) {
  if (!file.can_read) return errc::kAccessDenied;
  if (os::is_stream(file.fd)) {
    if (buffer.empty()) return std::size_t{0};
    // Counted as a sleep even when data is there: a descriptor may not take RWF_NOWAIT.
    core::SleepNotice asleep;
    return os::read_wait(file.fd, buffer);
  }
  return os::read_file(file.fd, buffer, offset_of(ov));
}

Result<std::size_t> write_fd(FdObject& file, std::span<const std::byte> data, LPOVERLAPPED ov) {
  if (!file.can_write) return errc::kAccessDenied;
  if (data.empty()) return std::size_t{0};
  if (os::is_stream(file.fd)) {
    core::SleepNotice asleep;  // as read_fd
    auto r = os::write_wait(file.fd, data);
    if (!r) return r.error();
    return data.size();
  }
  return os::write_file_all(file.fd, data, offset_of(ov));
}

}  // namespace

extern "C" {

BOOL WINAPI ReadFile(HANDLE hFile, LPVOID lpBuffer, DWORD nNumberOfBytesToRead,
                     LPDWORD lpNumberOfBytesRead, LPOVERLAPPED lpOverlapped) {
  // The count is zeroed before any work or error checking (Windows).
  if (lpNumberOfBytesRead) *lpNumberOfBytesRead = 0;
  return guarded<BOOL>(FALSE, [&]() -> BOOL {
    DWORD access = 0;
    auto object = globals().handles.get(hFile, &access);
    if (!object) return fail(ERROR_INVALID_HANDLE);
    // The handle's rights are checked before anything else, as the kernel checks them when it
    // turns the handle into its object; the end or file still refuses what it cannot do.
    if (!(access & FILE_READ_DATA) && is_file_kind(object->kind()))
      return fail(ERROR_ACCESS_DENIED);
    if (!lpBuffer && nNumberOfBytesToRead > 0) return fail(ERROR_NOACCESS);
    std::span<std::byte> buffer(static_cast<std::byte*>(lpBuffer),
                                lpBuffer ? nNumberOfBytesToRead : 0);
    std::size_t bytes = 0;
    bool more = false;
    switch (object->kind()) {
      case Kind::kNamedPipe: {
        auto& pipe = static_cast<NamedPipeObject&>(*object);
        if (pipe.overlapped() && lpOverlapped) {
          return overlapped_read(pipe, buffer, lpNumberOfBytesRead, lpOverlapped);
        }
        // Without an OVERLAPPED an overlapped handle behaves synchronously here (ReadFile on
        // Microsoft Learn calls the combination unreliable: it may report completion early).
        begin_overlapped(lpOverlapped);
        auto r = pipe.end().read(buffer);
        if (!r) return fail(r.error());
        if (pipe.is_server()) pipe.async->data_read = true;
        bytes = r->bytes;
        more = r->more_data;
        break;
      }
      case Kind::kAnonRead: {
        begin_overlapped(lpOverlapped);
        auto r = static_cast<AnonReadObject&>(*object).end.read(buffer);
        if (!r) return fail(r.error());
        bytes = *r;
        break;
      }
      case Kind::kAnonWrite:
        return fail(ERROR_ACCESS_DENIED);
      case Kind::kFd: {
        begin_overlapped(lpOverlapped);
        auto r = read_fd(static_cast<FdObject&>(*object), buffer, lpOverlapped);
        if (!r) return fail(r.error());
        bytes = *r;
        break;
      }
      default:
        return fail(ERROR_INVALID_HANDLE);
    }
    auto n = static_cast<DWORD>(bytes);
    complete_overlapped(lpOverlapped, more ? STATUS_BUFFER_OVERFLOW : STATUS_SUCCESS, n);
    // With an OVERLAPPED the returned count stays 0 on ERROR_MORE_DATA, as on Windows.
    if (lpNumberOfBytesRead && !(lpOverlapped && more)) *lpNumberOfBytesRead = n;
    if (more) return fail(ERROR_MORE_DATA);
    return TRUE;
  });
}

BOOL WINAPI WriteFile(HANDLE hFile, LPCVOID lpBuffer, DWORD nNumberOfBytesToWrite,
                      LPDWORD lpNumberOfBytesWritten, LPOVERLAPPED lpOverlapped) {
  if (lpNumberOfBytesWritten) *lpNumberOfBytesWritten = 0;
  return guarded<BOOL>(FALSE, [&]() -> BOOL {
    DWORD access = 0;
    auto object = globals().handles.get(hFile, &access);
    if (!object) return fail(ERROR_INVALID_HANDLE);
    // FILE_APPEND_DATA alone also writes (to the end of a file; on a pipe it is the same bit as
    // FILE_CREATE_PIPE_INSTANCE, which does not write).
    DWORD needed =
        object->kind() == Kind::kFd ? FILE_WRITE_DATA | FILE_APPEND_DATA : FILE_WRITE_DATA;
    if (!(access & needed) && is_file_kind(object->kind())) return fail(ERROR_ACCESS_DENIED);
    if (!lpBuffer && nNumberOfBytesToWrite > 0) return fail(ERROR_NOACCESS);
    std::span<const std::byte> data(static_cast<const std::byte*>(lpBuffer),
                                    lpBuffer ? nNumberOfBytesToWrite : 0);
    Result<std::size_t> r = std::size_t{0};
    switch (object->kind()) {
      case Kind::kNamedPipe: {
        auto& pipe = static_cast<NamedPipeObject&>(*object);
        if (pipe.overlapped() && lpOverlapped) {
          return overlapped_write(pipe, data, lpNumberOfBytesWritten, lpOverlapped);
        }
        begin_overlapped(lpOverlapped);
        r = pipe.end().write(data);
        break;
      }
      case Kind::kAnonWrite:
        begin_overlapped(lpOverlapped);
        r = static_cast<AnonWriteObject&>(*object).end.write(data);
        break;
      case Kind::kAnonRead:
        return fail(ERROR_ACCESS_DENIED);
      case Kind::kFd:
        begin_overlapped(lpOverlapped);
        r = write_fd(static_cast<FdObject&>(*object), data, lpOverlapped);
        break;
      default:
        return fail(ERROR_INVALID_HANDLE);
    }
    if (!r) return fail(r.error());
    auto n = static_cast<DWORD>(*r);
    complete_overlapped(lpOverlapped, STATUS_SUCCESS, n);
    if (lpNumberOfBytesWritten) *lpNumberOfBytesWritten = n;
    return TRUE;
  });
}

BOOL WINAPI FlushFileBuffers(HANDLE hFile) {
  return guarded<BOOL>(FALSE, [&]() -> BOOL {
    DWORD access = 0;
    auto object = globals().handles.get(hFile, &access);
    if (!object) return fail(ERROR_INVALID_HANDLE);
    // "The file handle must have the GENERIC_WRITE access right" (FlushFileBuffers).
    if (!(access & FILE_WRITE_DATA) && is_file_kind(object->kind()))
      return fail(ERROR_ACCESS_DENIED);
    switch (object->kind()) {
      case Kind::kNamedPipe: {
        auto r = static_cast<NamedPipeObject&>(*object).end().flush();
        if (!r) return fail(r.error());
        return TRUE;
      }
      case Kind::kAnonWrite: {
        auto r = static_cast<AnonWriteObject&>(*object).end.flush();
        if (!r) return fail(r.error());
        return TRUE;
      }
      case Kind::kAnonRead:
        return fail(ERROR_ACCESS_DENIED);
      case Kind::kFd: {
        auto& file = static_cast<FdObject&>(*object);
        if (!file.can_write) return fail(ERROR_ACCESS_DENIED);
        auto r = os::sync_file(file.fd);
        if (!r) return fail(r.error());
        return TRUE;
      }
      default:
        return fail(ERROR_INVALID_HANDLE);
    }
  });
}

BOOL WINAPI DeleteFileA(LPCSTR lpFileName) {
  return guarded<BOOL>(FALSE, [&]() -> BOOL {
    if (!lpFileName) return fail(ERROR_PATH_NOT_FOUND);
    std::string path = lpFileName;
    for (char& c : path) {
      if (c == '\\') c = '/';
    }
    auto r = os::remove_file(path);
    if (!r) return fail(file_error(r.error(), false));
    return TRUE;
  });
}

BOOL WINAPI DeleteFileW(LPCWSTR lpFileName) {
  return guarded<BOOL>(FALSE, [&]() -> BOOL {
    if (!lpFileName) return fail(ERROR_PATH_NOT_FOUND);
    return DeleteFileA(to_utf8(lpFileName).c_str());
  });
}

}  // extern "C"
