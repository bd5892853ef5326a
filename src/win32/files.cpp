// ReadFile, WriteFile, FlushFileBuffers and ordinary files (fileapi.h), plus the synchronous
// completion of OVERLAPPED arguments.
#include <windows.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "os/linux/errno_map.hpp"
#include "os/linux/kernel_pipe.hpp"
#include "win32/async.hpp"
#include "win32/objects.hpp"
#include "win32/overlapped.hpp"

namespace sluice::win32 {
namespace {

bool is_fifo(int fd) {
  struct stat st {};
  return ::fstat(fd, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode));
}

HANDLE fail_handle(DWORD code) {
  set_last_error(code);
  return INVALID_HANDLE_VALUE;
}

DWORD file_error(int e, bool creating) {
  switch (e) {
    case ENOENT:
      return creating ? ERROR_PATH_NOT_FOUND : ERROR_FILE_NOT_FOUND;
    case EEXIST:
      return ERROR_FILE_EXISTS;
    case EISDIR:
      return ERROR_ACCESS_DENIED;
    default:
      return static_cast<DWORD>(os::from_errno(e).value());
  }
}

bool parent_exists(const std::string& path) {
  std::size_t slash = path.rfind('/');
  if (slash == std::string::npos) return true;
  std::string dir = slash == 0 ? "/" : path.substr(0, slash);
  struct stat st {};
  return ::stat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
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
  {
    std::lock_guard lock(wait_mutex());
    ov->InternalHigh = bytes;
    store_internal(ov, status);
    if (event) static_cast<EventObject&>(*event).set_locked();
  }
  wait_cv().notify_all();
}

Result<PeekResult> peek_fd(FdObject& file, std::span<std::byte> buffer) {
  if (!is_fifo(file.fd)) return errc::kInvalidFunction;
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
  p.bytes_left_this_message = 0u - p.bytes_read;  // byte pipe arithmetic (spec)
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
  int mode = want_read && want_write ? O_RDWR : want_write ? O_WRONLY : O_RDONLY;
  int base = mode | O_CLOEXEC | O_NOCTTY;
  if ((access & (FILE_APPEND_DATA)) && !(access & (GENERIC_WRITE | GENERIC_ALL | FILE_WRITE_DATA))) {
    base |= O_APPEND;
  }
  mode_t perms = (flags & FILE_ATTRIBUTE_READONLY) ? 0444 : 0666;
  bool existed = false;
  int fd = -1;
  switch (disposition) {
    case CREATE_NEW:
      fd = ::open(path.c_str(), base | O_CREAT | O_EXCL, perms);
      if (fd < 0) return fail_handle(file_error(errno, true));
      break;
    case CREATE_ALWAYS:
    case OPEN_ALWAYS:
      fd = ::open(path.c_str(), base | O_CREAT | O_EXCL, perms);
      if (fd < 0 && errno == EEXIST) {
        existed = true;
        int extra = disposition == CREATE_ALWAYS ? O_TRUNC : 0;
        fd = ::open(path.c_str(), base | extra);
      }
      if (fd < 0) return fail_handle(file_error(errno, !parent_exists(path)));
      break;
    case OPEN_EXISTING:
      fd = ::open(path.c_str(), base);
      if (fd < 0) {
        return fail_handle(errno == ENOENT && !parent_exists(path) ? ERROR_PATH_NOT_FOUND
                                                                   : file_error(errno, false));
      }
      break;
    case TRUNCATE_EXISTING:
      if (!want_write) return fail_handle(ERROR_INVALID_PARAMETER);
      fd = ::open(path.c_str(), base | O_TRUNC);
      if (fd < 0) {
        return fail_handle(errno == ENOENT && !parent_exists(path) ? ERROR_PATH_NOT_FOUND
                                                                   : file_error(errno, false));
      }
      break;
    default:
      return fail_handle(ERROR_INVALID_PARAMETER);
  }
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    ::close(fd);
    return fail_handle(ERROR_ACCESS_DENIED);
  }
  HANDLE h = globals().handles.insert(std::make_shared<FdObject>(fd, true, want_read, want_write),
                                      sa && sa->bInheritHandle ? HANDLE_FLAG_INHERIT : 0);
  // CREATE_ALWAYS and OPEN_ALWAYS succeed on an existing file and say so.
  if (existed) set_last_error(ERROR_ALREADY_EXISTS);
  else if (disposition == CREATE_ALWAYS || disposition == OPEN_ALWAYS) set_last_error(0);
  return h;
}

}  // namespace sluice::win32

using namespace sluice;
using namespace sluice::win32;

namespace {

std::uint64_t offset_of(LPOVERLAPPED ov) {
  return (static_cast<std::uint64_t>(ov->OffsetHigh) << 32) | ov->Offset;
}

// Reads from a descriptor as Windows reads a file (end of file: TRUE with 0 bytes) or a pipe
// (every writer gone: ERROR_BROKEN_PIPE).
Result<std::size_t> read_fd(FdObject& file, std::span<std::byte> buffer, LPOVERLAPPED ov) {
  if (!file.can_read) return errc::kAccessDenied;
  if (is_fifo(file.fd)) {
    if (buffer.empty()) return std::size_t{0};
    return os::read_wait(file.fd, buffer);
  }
  ssize_t n;
  do {
    n = ov ? ::pread(file.fd, buffer.data(), buffer.size(), static_cast<off_t>(offset_of(ov)))
           : ::read(file.fd, buffer.data(), buffer.size());
  } while (n < 0 && errno == EINTR);
  if (n < 0) return os::from_errno(errno);
  return static_cast<std::size_t>(n);
}

Result<std::size_t> write_fd(FdObject& file, std::span<const std::byte> data, LPOVERLAPPED ov) {
  if (!file.can_write) return errc::kAccessDenied;
  if (data.empty()) return std::size_t{0};
  if (is_fifo(file.fd)) {
    auto r = os::write_wait(file.fd, data);
    if (!r) return r.error();
    return data.size();
  }
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ov ? ::pwrite(file.fd, data.data() + done, data.size() - done,
                              static_cast<off_t>(offset_of(ov) + done))
                   : ::write(file.fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return os::from_errno(errno);
    done += static_cast<std::size_t>(n);
  }
  return done;
}

}  // namespace

extern "C" {

BOOL WINAPI ReadFile(HANDLE hFile, LPVOID lpBuffer, DWORD nNumberOfBytesToRead,
                     LPDWORD lpNumberOfBytesRead, LPOVERLAPPED lpOverlapped) {
  // The count is zeroed before any work or error checking (Windows).
  if (lpNumberOfBytesRead) *lpNumberOfBytesRead = 0;
  return guarded<BOOL>(FALSE, [&]() -> BOOL {
    auto object = globals().handles.get(hFile);
    if (!object) return fail(ERROR_INVALID_HANDLE);
    if (!lpBuffer && nNumberOfBytesToRead > 0) return fail(ERROR_NOACCESS);
    std::span<std::byte> buffer(static_cast<std::byte*>(lpBuffer), lpBuffer ? nNumberOfBytesToRead : 0);
    std::size_t bytes = 0;
    bool more = false;
    switch (object->kind()) {
      case Kind::kNamedPipe: {
        auto& pipe = static_cast<NamedPipeObject&>(*object);
        if (pipe.overlapped() && lpOverlapped) {
          return overlapped_read(pipe, buffer, lpNumberOfBytesRead, lpOverlapped);
        }
        // Without an OVERLAPPED an overlapped handle behaves synchronously (io-models §3.1).
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
    // With an OVERLAPPED the returned count stays 0 on ERROR_MORE_DATA (spec, io-models §3).
    if (lpNumberOfBytesRead && !(lpOverlapped && more)) *lpNumberOfBytesRead = n;
    if (more) return fail(ERROR_MORE_DATA);
    return TRUE;
  });
}

BOOL WINAPI WriteFile(HANDLE hFile, LPCVOID lpBuffer, DWORD nNumberOfBytesToWrite,
                      LPDWORD lpNumberOfBytesWritten, LPOVERLAPPED lpOverlapped) {
  if (lpNumberOfBytesWritten) *lpNumberOfBytesWritten = 0;
  return guarded<BOOL>(FALSE, [&]() -> BOOL {
    auto object = globals().handles.get(hFile);
    if (!object) return fail(ERROR_INVALID_HANDLE);
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
    auto object = globals().handles.get(hFile);
    if (!object) return fail(ERROR_INVALID_HANDLE);
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
        // Pipes and terminals have nothing to sync (fsync says EINVAL).
        if (::fsync(file.fd) != 0 && errno != EINVAL && errno != EROFS) {
          return fail(os::from_errno(errno));
        }
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
    if (::unlink(path.c_str()) != 0) return fail(file_error(errno, false));
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
