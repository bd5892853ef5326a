// Pipe functions (namedpipeapi.h, winbase.h): a thin mapping of the Win32 calls onto the C++ API,
// with Windows' argument checks and last-error codes (pinned by pipes_test.cpp).
#include <windows.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>
#include <span>
#include <sstream>
#include <string>

#include "sluice/accounts.hpp"
#include "sluice/impersonation.hpp"
#include "sluice/process.hpp"
#include "win32/async.hpp"
#include "win32/computer_name.hpp"
#include "win32/objects.hpp"
#include "win32/overlapped.hpp"
#include "win32/security.hpp"
#include "win32/text_out.hpp"

namespace sluice::win32 {
namespace {

constexpr DWORD kOpenModeBits = PIPE_ACCESS_DUPLEX | FILE_FLAG_FIRST_PIPE_INSTANCE |
                                FILE_FLAG_WRITE_THROUGH | FILE_FLAG_OVERLAPPED | WRITE_DAC |
                                WRITE_OWNER | ACCESS_SYSTEM_SECURITY;
constexpr DWORD kPipeModeBits =
    PIPE_NOWAIT | PIPE_READMODE_MESSAGE | PIPE_TYPE_MESSAGE | PIPE_REJECT_REMOTE_CLIENTS;

std::chrono::milliseconds wait_time(DWORD timeout) {
  if (timeout == NMPWAIT_USE_DEFAULT_WAIT) return kUseDefaultWait;
  if (timeout == NMPWAIT_WAIT_FOREVER) return kWaitForever;
  return std::chrono::milliseconds(timeout);
}

// WaitNamedPipe and CallNamedPipe time out with ERROR_SEM_TIMEOUT, where the C++ API has its
// one time-out code.
std::error_code win32_timeout(std::error_code e) {
  return e == errc::kWaitTimeout ? make_error_code(errc::kSemTimeout) : e;
}

HANDLE fail_handle(DWORD code) {
  set_last_error(code);
  return INVALID_HANDLE_VALUE;
}
HANDLE fail_handle(std::error_code ec) { return fail_handle(win32_code(ec)); }

std::span<std::byte> out_span(LPVOID buffer, DWORD size) {
  return {static_cast<std::byte*>(buffer), buffer ? size : 0};
}
std::span<const std::byte> in_span(LPCVOID buffer, DWORD size) {
  return {static_cast<const std::byte*>(buffer), buffer ? size : 0};
}

HANDLE create_named_pipe(const char* name, DWORD open_mode, DWORD pipe_mode, DWORD max_instances,
                         DWORD out_size, DWORD in_size, DWORD timeout, LPSECURITY_ATTRIBUTES sa) {
  if (!name) return fail_handle(ERROR_PATH_NOT_FOUND);
  DWORD access = open_mode & PIPE_ACCESS_DUPLEX;
  if (access == 0 || (open_mode & ~kOpenModeBits) != 0 || (pipe_mode & ~kPipeModeBits) != 0 ||
      max_instances == 0 || max_instances > PIPE_UNLIMITED_INSTANCES ||
      ((pipe_mode & PIPE_TYPE_MESSAGE) == 0 && (pipe_mode & PIPE_READMODE_MESSAGE) != 0)) {
    return fail_handle(ERROR_INVALID_PARAMETER);
  }
  std::error_code ec;
  Registry* reg = registry(&ec);
  if (!reg) return fail_handle(ec);
  ServerOptions options;
  options.access = static_cast<PipeAccess>(access);
  options.type = (pipe_mode & PIPE_TYPE_MESSAGE) ? PipeType::kMessage : PipeType::kByte;
  options.read_mode = (pipe_mode & PIPE_READMODE_MESSAGE) ? ReadMode::kMessage : ReadMode::kByte;
  options.wait_mode = (pipe_mode & PIPE_NOWAIT) ? WaitMode::kNoWait : WaitMode::kWait;
  options.max_instances = max_instances;
  options.out_buffer_size = out_size;
  options.in_buffer_size = in_size;
  options.default_timeout = std::chrono::milliseconds(timeout == 0 ? 50 : timeout);
  // FILE_FLAG_FIRST_PIPE_INSTANCE is the same bit as WRITE_OWNER, so both ask for it.
  options.first_instance = (open_mode & FILE_FLAG_FIRST_PIPE_INSTANCE) != 0;
  options.write_through = (open_mode & FILE_FLAG_WRITE_THROUGH) != 0;
  options.reject_remote_clients = (pipe_mode & PIPE_REJECT_REMOTE_CLIENTS) != 0;
  // Windows does not look at sa->nLength (programs that leave it 0 work), so neither do we.
  // No descriptor gives Windows' default: full control to the owner and root, read to everyone.
  if (DWORD e = engine_descriptor(sa ? sa->lpSecurityDescriptor : nullptr, &options.security))
    return fail_handle(e);
  auto end = ServerEnd::create(*reg, name, options);
  if (!end) return fail_handle(end.error());
  auto object =
      std::make_shared<NamedPipeObject>(std::move(*end), (open_mode & FILE_FLAG_OVERLAPPED) != 0);
  object->security_access = open_mode & (WRITE_DAC | WRITE_OWNER | ACCESS_SYSTEM_SECURITY);
  // Each direction gives the server handle "the equivalent of" GENERIC_READ (inbound) or
  // GENERIC_WRITE (outbound) access to the pipe (CreateNamedPipe, dwOpenMode).
  DWORD rights = object->security_access;
  if (access & PIPE_ACCESS_INBOUND) rights |= FILE_GENERIC_READ;
  if (access & PIPE_ACCESS_OUTBOUND) rights |= FILE_GENERIC_WRITE;
  return globals().handles.insert(std::move(object),
                                  sa && sa->bInheritHandle ? HANDLE_FLAG_INHERIT : 0, rights);
}

// Whether CreateFile's `name` is a pipe's, `\\server\pipe` and what follows: `/` stands for
// `\` there as Win32 normalising has it, except after the verbatim prefix `\\?\` ("Naming
// Files, Paths, and Namespaces", Microsoft Learn), so `//./pipe/x` never becomes a Linux path.
bool is_pipe_name(std::string name) {
  if (!name.starts_with("\\\\?\\"))
    for (char& c : name)
      if (c == '/') c = '\\';
  if (name.size() < 2 || name[0] != '\\' || name[1] != '\\') return false;
  std::size_t slash = name.find('\\', 2);
  if (slash == std::string::npos) return false;
  std::string rest = name.substr(slash + 1, 5);
  for (char& c : rest) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return rest == "pipe\\" || rest == "pipe";
}

std::uint32_t client_rights(DWORD desired) {
  std::uint32_t r = desired & 0x001F01FF;  // specific and standard rights pass through
  if (desired & (GENERIC_READ | GENERIC_ALL)) r |= rights::kRead;
  if (desired & (GENERIC_WRITE | GENERIC_ALL)) r |= rights::kWrite;
  if (desired & GENERIC_EXECUTE) r |= FILE_READ_ATTRIBUTES | SYNCHRONIZE;
  return r;
}

// The client's SQOS from CreateFile's flags ("Impersonation Levels", Microsoft Learn). Without
// SECURITY_SQOS_PRESENT Windows gives impersonation level, dynamic tracking, effective only.
SecurityQos qos_of(DWORD flags) {
  SecurityQos qos;
  if ((flags & SECURITY_SQOS_PRESENT) == 0) {
    qos.effective_only = true;
    return qos;
  }
  qos.level = static_cast<ImpersonationLevel>((flags >> 16) & 3);
  qos.dynamic_tracking = (flags & SECURITY_CONTEXT_TRACKING) != 0;
  qos.effective_only = (flags & SECURITY_EFFECTIVE_ONLY) != 0;
  return qos;
}

HANDLE open_pipe(const std::string& name, DWORD access, LPSECURITY_ATTRIBUTES sa, DWORD disposition,
                 DWORD flags) {
  std::error_code ec;
  Registry* reg = registry(&ec);
  if (!reg) return fail_handle(ec);
  ClientOptions options;
  options.desired_access = client_rights(access);
  options.write_through = (flags & FILE_FLAG_WRITE_THROUGH) != 0;
  options.qos = qos_of(flags);
  auto end = ClientEnd::open(*reg, name, options);
  if (!end) return fail_handle(end.error());
  auto object =
      std::make_shared<NamedPipeObject>(std::move(*end), (flags & FILE_FLAG_OVERLAPPED) != 0);
  // The open succeeded, so the handle has what it asked for: no more (a GENERIC_READ client may
  // not write, even to a duplex pipe) and no less.
  HANDLE h = globals().handles.insert(std::move(object),
                                      sa && sa->bInheritHandle ? HANDLE_FLAG_INHERIT : 0,
                                      options.desired_access);
  // Every disposition opens the existing pipe; OPEN_ALWAYS reports that it existed.
  if (disposition == OPEN_ALWAYS) set_last_error(ERROR_ALREADY_EXISTS);
  return h;
}

}  // namespace

HANDLE create_file(const std::string& name, DWORD access, DWORD share, LPSECURITY_ATTRIBUTES sa,
                   DWORD disposition, DWORD flags);  // files.cpp

HANDLE create_file_or_pipe(const std::string& name, DWORD access, DWORD share,
                           LPSECURITY_ATTRIBUTES sa, DWORD disposition, DWORD flags) {
  if (disposition < CREATE_NEW || disposition > TRUNCATE_EXISTING) {
    return fail_handle(ERROR_INVALID_PARAMETER);
  }
  // A thread impersonating below impersonation level may learn who the client is but not act
  // as it: Windows' access check refuses such a token (STATUS_BAD_IMPERSONATION_LEVEL;
  // "Impersonation Levels"). Its ids are the process's here, so opening must be refused
  // explicitly or it would succeed with the server's rights.
  if (auto as_client = Impersonation::current(); as_client && !as_client->acts_as_client)
    return fail_handle(ERROR_BAD_IMPERSONATION_LEVEL);
  if (is_pipe_name(name)) return open_pipe(name, access, sa, disposition, flags);
  return create_file(name, access, share, sa, disposition, flags);
}

namespace {

BOOL wait_named_pipe(const std::string& name, DWORD timeout) {
  std::error_code ec;
  Registry* reg = registry(&ec);
  if (!reg) return fail(ec);
  auto r = wait_for_instance(*reg, name, wait_time(timeout));
  if (!r) return fail(win32_timeout(r.error()));
  return TRUE;
}

BOOL call_named_pipe(const std::string& name, LPVOID in, DWORD in_size, LPVOID out, DWORD out_size,
                     LPDWORD bytes_read, DWORD timeout) {
  if (bytes_read) *bytes_read = 0;
  std::error_code ec;
  Registry* reg = registry(&ec);
  if (!reg) return fail(ec);
  // NMPWAIT_NOWAIT means "do not wait": the shortest wait the C++ API has.
  auto r = call(*reg, name, in_span(in, in_size), out_span(out, out_size),
                timeout == NMPWAIT_NOWAIT ? std::chrono::milliseconds(1) : wait_time(timeout));
  if (!r) return fail(win32_timeout(r.error()));
  if (bytes_read) *bytes_read = static_cast<DWORD>(r->bytes);
  if (r->more_data) return fail(ERROR_MORE_DATA);
  set_last_error(ERROR_SUCCESS);  // observed on Windows
  return TRUE;
}

// A uid's name in the user database, or its number when it has none.
std::string user_name_or_number(std::uint32_t uid) {
  return sluice::user_name_of(uid).value_or(std::to_string(uid));
}

// GetUserName's name: the client's while the thread impersonates at any level (Windows reads
// the thread's token, which identification level also gives), else the process's user.
std::string calling_user_name() {
  if (auto as_client = Impersonation::current()) return user_name_or_number(as_client->client.uid);
  return user_name_or_number(current_user_id());
}

BOOL get_handle_state(HANDLE h, LPDWORD state, LPDWORD cur_instances, LPDWORD max_collection,
                      LPDWORD collect_timeout, std::string* user_name) {
  auto object = globals().handles.get(h);
  if (!object) return fail(ERROR_INVALID_HANDLE);
  HandleState hs;
  switch (object->kind()) {
    case Kind::kNamedPipe: {
      auto& pipe = static_cast<NamedPipeObject&>(*object);
      auto r = pipe.end().state();
      if (!r) return fail(r.error());
      // Collection values exist only for remote client ends.
      if (max_collection || collect_timeout) return fail(ERROR_INVALID_PARAMETER);
      if (user_name) {
        if (!pipe.is_server()) return fail(ERROR_INVALID_PARAMETER);
        if (!pipe.async->data_read.load()) return fail(ERROR_CANNOT_IMPERSONATE);
        auto id = pipe.end().client_credentials();
        if (!id) return fail(id.error());
        *user_name = user_name_or_number(id->uid);
      }
      hs = *r;
      break;
    }
    case Kind::kAnonRead:
    case Kind::kAnonWrite: {
      if (max_collection || collect_timeout || user_name) return fail(ERROR_INVALID_PARAMETER);
      auto& anon = static_cast<AnonPipeObject&>(*object);
      std::lock_guard lock(anon.mu);
      hs = anon.any_end().state();
      break;
    }
    case Kind::kFd:
      return fail(ERROR_INVALID_PARAMETER);
    default:
      return fail(ERROR_INVALID_HANDLE);
  }
  if (state) {
    *state = (hs.wait_mode == WaitMode::kNoWait ? PIPE_NOWAIT : 0) |
             (hs.read_mode == ReadMode::kMessage ? PIPE_READMODE_MESSAGE : 0);
  }
  if (cur_instances) *cur_instances = hs.current_instances;
  return TRUE;
}

BOOL copy_user_name_a(const std::string& name, LPSTR out, DWORD size) {
  if (name.size() + 1 > size) return fail(ERROR_INSUFFICIENT_BUFFER);
  std::memcpy(out, name.c_str(), name.size() + 1);
  return TRUE;
}

BOOL copy_user_name_w(const std::string& name, LPWSTR out, DWORD size) {
  std::wstring w = from_utf8(name);
  if (w.size() + 1 > size) return fail(ERROR_INSUFFICIENT_BUFFER);
  std::wmemcpy(out, w.c_str(), w.size() + 1);
  return TRUE;
}

using IdQuery = Result<std::uint32_t> (PipeEnd::*)() const;

BOOL pipe_id(HANDLE h, PULONG out, IdQuery query, bool client_side, bool session) {
  auto object = globals().handles.get(h);
  if (!object) return fail(ERROR_INVALID_HANDLE);
  std::uint32_t value = 0;
  switch (object->kind()) {
    case Kind::kNamedPipe: {
      auto r = (static_cast<NamedPipeObject&>(*object).end().*query)();
      if (!r) return fail(r.error());
      value = *r;
      break;
    }
    case Kind::kAnonRead:
    case Kind::kAnonWrite: {
      // Both ids of an anonymous pipe are its creator's.
      std::uint32_t pid = static_cast<AnonPipeObject&>(*object).creator_pid;
      (void)client_side;
      if (session) {
        // The audit session, as the engine reports for named pipes.
        std::ifstream in("/proc/" + std::to_string(pid) + "/sessionid");
        unsigned long long id = 0;
        if (!(in >> id) || id == 0xFFFFFFFFull) id = 0;
        value = static_cast<std::uint32_t>(id);
      } else {
        value = pid;
      }
      break;
    }
    default:
      return fail(ERROR_INVALID_PARAMETER);
  }
  if (!out) return fail(ERROR_INSUFFICIENT_BUFFER);
  *out = value;
  return TRUE;
}

// GetNamedPipeClientComputerName: a client that came through this computer's name (as through
// Windows' network redirector) is named with the computer's NetBIOS name; `size` counts bytes.
template <class Char>
BOOL computer_name(HANDLE h, Char* buffer, ULONG size) {
  auto object = globals().handles.get(h);
  if (!object) return fail(ERROR_INVALID_HANDLE);
  if (object->kind() == Kind::kAnonRead) return fail(ERROR_PIPE_LOCAL);
  if (object->kind() != Kind::kNamedPipe) {
    return fail(object->kind() == Kind::kAnonWrite ? ERROR_INVALID_PARAMETER
                                                   : ERROR_INVALID_FUNCTION);
  }
  auto& pipe = static_cast<NamedPipeObject&>(*object);
  if (!pipe.is_server()) return fail(ERROR_INVALID_PARAMETER);
  auto remote = pipe.end().client_via_network();
  if (!remote) return fail(remote.error());
  if (!*remote) return fail(ERROR_PIPE_LOCAL);
  auto name = netbios_name();
  if (!name) return fail(name.error());
  if (!copy_out(in_chars<Char>(*name), buffer, size / sizeof(Char)))
    return fail(ERROR_INSUFFICIENT_BUFFER);
  return TRUE;
}

// ImpersonateNamedPipeClient's impersonation of the calling thread, until RevertToSelf. Its
// destructor at thread exit switches the thread back (so does the state behind it).
thread_local std::optional<Impersonation> t_impersonation;

}  // namespace

bool thread_impersonates() noexcept { return Impersonation::current().has_value(); }

}  // namespace sluice::win32

using namespace sluice;
using namespace sluice::win32;

extern "C" {

BOOL WINAPI CreatePipe(PHANDLE hReadPipe, PHANDLE hWritePipe,
                       LPSECURITY_ATTRIBUTES lpPipeAttributes, DWORD nSize) {
  return guarded<BOOL>(FALSE, [&]() -> BOOL {
    if (!hReadPipe || !hWritePipe) return fail(ERROR_INVALID_PARAMETER);
    bool inherit = lpPipeAttributes && lpPipeAttributes->bInheritHandle;
    // Inheritance is per handle and applied at CreateProcess, so the descriptors stay
    // close-on-exec here.
    auto pipe = AnonymousPipe::create(nSize, false);
    if (!pipe) return fail(pipe.error());
    auto pid = current_process_id();
    DWORD flags = inherit ? HANDLE_FLAG_INHERIT : 0;
    *hReadPipe = globals().handles.insert(
        std::make_shared<AnonReadObject>(std::move(pipe->read), pid), flags);
    *hWritePipe = globals().handles.insert(
        std::make_shared<AnonWriteObject>(std::move(pipe->write), pid), flags);
    return TRUE;
  });
}

HANDLE WINAPI CreateNamedPipeA(LPCSTR lpName, DWORD dwOpenMode, DWORD dwPipeMode,
                               DWORD nMaxInstances, DWORD nOutBufferSize, DWORD nInBufferSize,
                               DWORD nDefaultTimeOut, LPSECURITY_ATTRIBUTES lpSecurityAttributes) {
  return guarded<HANDLE>(INVALID_HANDLE_VALUE, [&] {
    return create_named_pipe(lpName, dwOpenMode, dwPipeMode, nMaxInstances, nOutBufferSize,
                             nInBufferSize, nDefaultTimeOut, lpSecurityAttributes);
  });
}

HANDLE WINAPI CreateNamedPipeW(LPCWSTR lpName, DWORD dwOpenMode, DWORD dwPipeMode,
                               DWORD nMaxInstances, DWORD nOutBufferSize, DWORD nInBufferSize,
                               DWORD nDefaultTimeOut, LPSECURITY_ATTRIBUTES lpSecurityAttributes) {
  return guarded<HANDLE>(INVALID_HANDLE_VALUE, [&] {
    std::string name = lpName ? to_utf8(lpName) : std::string();
    return create_named_pipe(lpName ? name.c_str() : nullptr, dwOpenMode, dwPipeMode, nMaxInstances,
                             nOutBufferSize, nInBufferSize, nDefaultTimeOut, lpSecurityAttributes);
  });
}

BOOL WINAPI ConnectNamedPipe(HANDLE hNamedPipe, LPOVERLAPPED lpOverlapped) {
  return guarded<BOOL>(FALSE, [&]() -> BOOL {
    auto object = globals().handles.get(hNamedPipe);
    if (!object) return fail(ERROR_INVALID_HANDLE);
    if (object->kind() == Kind::kAnonRead) return fail(ERROR_PIPE_CONNECTED);
    if (object->kind() != Kind::kNamedPipe) return fail(ERROR_INVALID_FUNCTION);
    auto& pipe = static_cast<NamedPipeObject&>(*object);
    if (!pipe.is_server()) return fail(ERROR_INVALID_FUNCTION);
    if (pipe.overlapped() && lpOverlapped) return overlapped_connect(pipe, lpOverlapped);
    begin_overlapped(lpOverlapped);
    auto r = pipe.server().connect();
    if (!r) return fail(r.error());
    pipe.async->data_read = false;
    // A client that came first: success in disguise, and the event is not signalled.
    if (*r == ConnectStatus::kAlreadyConnected) return fail(ERROR_PIPE_CONNECTED);
    complete_overlapped(lpOverlapped, STATUS_SUCCESS, 0);
    return TRUE;
  });
}

BOOL WINAPI DisconnectNamedPipe(HANDLE hNamedPipe) {
  return guarded<BOOL>(FALSE, [&]() -> BOOL {
    auto object = globals().handles.get(hNamedPipe);
    if (!object) return fail(ERROR_INVALID_HANDLE);
    // CreatePipe on Microsoft Learn: an anonymous pipe is "a named pipe with a unique name"; its
    // read end is the server end, so this succeeds there (the write end is a client end:
    // ERROR_INVALID_FUNCTION below, as for named pipes).
    // TODO(compat): on Windows it also kills the pipe: the writer then fails with
    // ERROR_PIPE_NOT_CONNECTED (observed). A kernel pipe has no disconnected state to give it: a
    // writer learns only that no reader is left (ERROR_NO_DATA), and only once every copy of the
    // read end is closed, also those that child processes inherited and that no sluice code runs
    // in. So the pipe works on until its ends are closed (docs/architecture.md).
    if (object->kind() == Kind::kAnonRead) return TRUE;
    if (object->kind() != Kind::kNamedPipe) return fail(ERROR_INVALID_FUNCTION);
    auto& pipe = static_cast<NamedPipeObject&>(*object);
    if (!pipe.is_server()) return fail(ERROR_INVALID_FUNCTION);
    auto r = pipe.server().disconnect();
    if (!r) return fail(r.error());
    pipe.async->data_read = false;
    return TRUE;
  });
}

HANDLE WINAPI CreateFileA(LPCSTR lpFileName, DWORD dwDesiredAccess, DWORD dwShareMode,
                          LPSECURITY_ATTRIBUTES lpSecurityAttributes, DWORD dwCreationDisposition,
                          DWORD dwFlagsAndAttributes, HANDLE hTemplateFile) {
  (void)hTemplateFile;
  return guarded<HANDLE>(INVALID_HANDLE_VALUE, [&] {
    if (!lpFileName) return fail_handle(ERROR_PATH_NOT_FOUND);
    return create_file_or_pipe(lpFileName, dwDesiredAccess, dwShareMode, lpSecurityAttributes,
                               dwCreationDisposition, dwFlagsAndAttributes);
  });
}

HANDLE WINAPI CreateFileW(LPCWSTR lpFileName, DWORD dwDesiredAccess, DWORD dwShareMode,
                          LPSECURITY_ATTRIBUTES lpSecurityAttributes, DWORD dwCreationDisposition,
                          DWORD dwFlagsAndAttributes, HANDLE hTemplateFile) {
  (void)hTemplateFile;
  return guarded<HANDLE>(INVALID_HANDLE_VALUE, [&] {
    if (!lpFileName) return fail_handle(ERROR_PATH_NOT_FOUND);
    return create_file_or_pipe(to_utf8(lpFileName), dwDesiredAccess, dwShareMode,
                               lpSecurityAttributes, dwCreationDisposition, dwFlagsAndAttributes);
  });
}

BOOL WINAPI WaitNamedPipeA(LPCSTR lpNamedPipeName, DWORD nTimeOut) {
  return guarded<BOOL>(FALSE, [&]() -> BOOL {
    if (!lpNamedPipeName) return fail(ERROR_INVALID_PARAMETER);
    return wait_named_pipe(lpNamedPipeName, nTimeOut);
  });
}

BOOL WINAPI WaitNamedPipeW(LPCWSTR lpNamedPipeName, DWORD nTimeOut) {
  return guarded<BOOL>(FALSE, [&]() -> BOOL {
    if (!lpNamedPipeName) return fail(ERROR_INVALID_PARAMETER);
    return wait_named_pipe(to_utf8(lpNamedPipeName), nTimeOut);
  });
}

BOOL WINAPI CallNamedPipeA(LPCSTR lpNamedPipeName, LPVOID lpInBuffer, DWORD nInBufferSize,
                           LPVOID lpOutBuffer, DWORD nOutBufferSize, LPDWORD lpBytesRead,
                           DWORD nTimeOut) {
  return guarded<BOOL>(FALSE, [&]() -> BOOL {
    if (!lpNamedPipeName) return fail(ERROR_INVALID_PARAMETER);
    return call_named_pipe(lpNamedPipeName, lpInBuffer, nInBufferSize, lpOutBuffer, nOutBufferSize,
                           lpBytesRead, nTimeOut);
  });
}

BOOL WINAPI CallNamedPipeW(LPCWSTR lpNamedPipeName, LPVOID lpInBuffer, DWORD nInBufferSize,
                           LPVOID lpOutBuffer, DWORD nOutBufferSize, LPDWORD lpBytesRead,
                           DWORD nTimeOut) {
  return guarded<BOOL>(FALSE, [&]() -> BOOL {
    if (!lpNamedPipeName) return fail(ERROR_INVALID_PARAMETER);
    return call_named_pipe(to_utf8(lpNamedPipeName), lpInBuffer, nInBufferSize, lpOutBuffer,
                           nOutBufferSize, lpBytesRead, nTimeOut);
  });
}

BOOL WINAPI TransactNamedPipe(HANDLE hNamedPipe, LPVOID lpInBuffer, DWORD nInBufferSize,
                              LPVOID lpOutBuffer, DWORD nOutBufferSize, LPDWORD lpBytesRead,
                              LPOVERLAPPED lpOverlapped) {
  return guarded<BOOL>(FALSE, [&]() -> BOOL {
    if (lpBytesRead) *lpBytesRead = 0;
    DWORD access = 0;
    auto object = globals().handles.get(hNamedPipe, &access);
    if (!object) return fail(ERROR_INVALID_HANDLE);
    // Each anonymous end has only one direction's data access.
    if (object->kind() == Kind::kAnonRead || object->kind() == Kind::kAnonWrite) {
      return fail(ERROR_ACCESS_DENIED);
    }
    if (object->kind() != Kind::kNamedPipe) return fail(ERROR_INVALID_FUNCTION);
    // A transaction writes and then reads: its control code (FSCTL_PIPE_TRANSCEIVE) asks for
    // both data rights.
    constexpr DWORD kBoth = FILE_READ_DATA | FILE_WRITE_DATA;
    if ((access & kBoth) != kBoth) return fail(ERROR_ACCESS_DENIED);
    if (!lpBytesRead && !lpOverlapped) return fail(ERROR_INVALID_PARAMETER);
    auto& pipe = static_cast<NamedPipeObject&>(*object);
    if (pipe.overlapped() && lpOverlapped) {
      return overlapped_transact(pipe, in_span(lpInBuffer, nInBufferSize),
                                 out_span(lpOutBuffer, nOutBufferSize), lpBytesRead, lpOverlapped);
    }
    begin_overlapped(lpOverlapped);
    auto r = pipe.end().transact(in_span(lpInBuffer, nInBufferSize),
                                 out_span(lpOutBuffer, nOutBufferSize));
    if (!r) return fail(r.error());
    if (pipe.is_server()) pipe.async->data_read = true;
    auto n = static_cast<DWORD>(r->bytes);
    complete_overlapped(lpOverlapped, r->more_data ? STATUS_BUFFER_OVERFLOW : STATUS_SUCCESS, n);
    // With an OVERLAPPED the count comes from GetOverlappedResult; it stays 0 on ERROR_MORE_DATA.
    if (lpBytesRead && !(lpOverlapped && r->more_data)) *lpBytesRead = n;
    if (r->more_data) return fail(ERROR_MORE_DATA);
    return TRUE;
  });
}

BOOL WINAPI PeekNamedPipe(HANDLE hNamedPipe, LPVOID lpBuffer, DWORD nBufferSize,
                          LPDWORD lpBytesRead, LPDWORD lpTotalBytesAvail,
                          LPDWORD lpBytesLeftThisMessage) {
  return guarded<BOOL>(FALSE, [&]() -> BOOL {
    DWORD access = 0;
    auto object = globals().handles.get(hNamedPipe, &access);
    if (!object) return fail(ERROR_INVALID_HANDLE);
    // "The handle must have GENERIC_READ access to the pipe" (PeekNamedPipe).
    if (!(access & FILE_READ_DATA) && is_file_kind(object->kind()))
      return fail(ERROR_ACCESS_DENIED);
    PeekResult p;
    auto buffer = out_span(lpBuffer, nBufferSize);
    switch (object->kind()) {
      case Kind::kNamedPipe: {
        auto r = static_cast<NamedPipeObject&>(*object).end().peek(buffer);
        if (!r) return fail(r.error());
        p = *r;
        break;
      }
      case Kind::kAnonRead: {
        auto r = static_cast<AnonReadObject&>(*object).end.peek(buffer);
        if (!r) return fail(r.error());
        p = *r;
        break;
      }
      case Kind::kAnonWrite:
        return fail(ERROR_ACCESS_DENIED);
      case Kind::kFd: {
        auto r = peek_fd(static_cast<FdObject&>(*object), buffer);
        if (!r) return fail(r.error());
        p = *r;
        break;
      }
      default:
        return fail(ERROR_INVALID_HANDLE);
    }
    if (lpBytesRead) *lpBytesRead = p.bytes_read;
    if (lpTotalBytesAvail) *lpTotalBytesAvail = p.total_available;
    if (lpBytesLeftThisMessage) *lpBytesLeftThisMessage = p.bytes_left_this_message;
    return TRUE;
  });
}

BOOL WINAPI SetNamedPipeHandleState(HANDLE hNamedPipe, LPDWORD lpMode, LPDWORD lpMaxCollectionCount,
                                    LPDWORD lpCollectDataTimeout) {
  return guarded<BOOL>(FALSE, [&]() -> BOOL {
    auto object = globals().handles.get(hNamedPipe);
    if (!object) return fail(ERROR_INVALID_HANDLE);
    if (object->kind() == Kind::kFd) return fail(ERROR_INVALID_PARAMETER);
    if (object->kind() != Kind::kNamedPipe && object->kind() != Kind::kAnonRead &&
        object->kind() != Kind::kAnonWrite) {
      return fail(ERROR_INVALID_HANDLE);
    }
    // Collection values apply to remote byte pipes only; every sluice pipe is local.
    if (lpMaxCollectionCount || lpCollectDataTimeout) return fail(ERROR_INVALID_PARAMETER);
    if (!lpMode) return TRUE;
    if ((*lpMode & ~static_cast<DWORD>(PIPE_NOWAIT | PIPE_READMODE_MESSAGE)) != 0) {
      return fail(ERROR_INVALID_PARAMETER);
    }
    ReadMode read = (*lpMode & PIPE_READMODE_MESSAGE) ? ReadMode::kMessage : ReadMode::kByte;
    WaitMode wait = (*lpMode & PIPE_NOWAIT) ? WaitMode::kNoWait : WaitMode::kWait;
    Result<void> r;
    if (object->kind() == Kind::kNamedPipe) {
      r = static_cast<NamedPipeObject&>(*object).end().set_state(read, wait);
    } else {
      auto& anon = static_cast<AnonPipeObject&>(*object);
      std::lock_guard lock(anon.mu);
      r = anon.any_end().set_state(read, wait);
    }
    if (!r) return fail(r.error());
    return TRUE;
  });
}

BOOL WINAPI GetNamedPipeHandleStateA(HANDLE hNamedPipe, LPDWORD lpState, LPDWORD lpCurInstances,
                                     LPDWORD lpMaxCollectionCount, LPDWORD lpCollectDataTimeout,
                                     LPSTR lpUserName, DWORD nMaxUserNameSize) {
  return guarded<BOOL>(FALSE, [&]() -> BOOL {
    std::string user;
    if (!get_handle_state(hNamedPipe, lpState, lpCurInstances, lpMaxCollectionCount,
                          lpCollectDataTimeout, lpUserName ? &user : nullptr)) {
      return FALSE;
    }
    return lpUserName ? copy_user_name_a(user, lpUserName, nMaxUserNameSize) : TRUE;
  });
}

BOOL WINAPI GetNamedPipeHandleStateW(HANDLE hNamedPipe, LPDWORD lpState, LPDWORD lpCurInstances,
                                     LPDWORD lpMaxCollectionCount, LPDWORD lpCollectDataTimeout,
                                     LPWSTR lpUserName, DWORD nMaxUserNameSize) {
  return guarded<BOOL>(FALSE, [&]() -> BOOL {
    std::string user;
    if (!get_handle_state(hNamedPipe, lpState, lpCurInstances, lpMaxCollectionCount,
                          lpCollectDataTimeout, lpUserName ? &user : nullptr)) {
      return FALSE;
    }
    return lpUserName ? copy_user_name_w(user, lpUserName, nMaxUserNameSize) : TRUE;
  });
}

BOOL WINAPI GetNamedPipeInfo(HANDLE hNamedPipe, LPDWORD lpFlags, LPDWORD lpOutBufferSize,
                             LPDWORD lpInBufferSize, LPDWORD lpMaxInstances) {
  return guarded<BOOL>(FALSE, [&]() -> BOOL {
    auto object = globals().handles.get(hNamedPipe);
    if (!object) return fail(ERROR_INVALID_HANDLE);
    PipeInfo info;
    switch (object->kind()) {
      case Kind::kNamedPipe: {
        auto r = static_cast<NamedPipeObject&>(*object).end().info();
        if (!r) return fail(r.error());
        info = *r;
        break;
      }
      case Kind::kAnonRead:
      case Kind::kAnonWrite:
        info = static_cast<AnonPipeObject&>(*object).any_end().info();
        break;
      case Kind::kFd:
        return fail(ERROR_INVALID_PARAMETER);
      default:
        return fail(ERROR_INVALID_HANDLE);
    }
    if (lpFlags) {
      *lpFlags = (info.server_end ? PIPE_SERVER_END : PIPE_CLIENT_END) |
                 (info.type == PipeType::kMessage ? PIPE_TYPE_MESSAGE : PIPE_TYPE_BYTE);
    }
    if (lpOutBufferSize) *lpOutBufferSize = info.out_buffer_size;
    if (lpInBufferSize) *lpInBufferSize = info.in_buffer_size;
    if (lpMaxInstances) *lpMaxInstances = info.max_instances;
    return TRUE;
  });
}

BOOL WINAPI GetNamedPipeClientProcessId(HANDLE Pipe, PULONG ClientProcessId) {
  return guarded<BOOL>(FALSE, [&] {
    return pipe_id(Pipe, ClientProcessId, &PipeEnd::client_process_id, true, false);
  });
}
BOOL WINAPI GetNamedPipeServerProcessId(HANDLE Pipe, PULONG ServerProcessId) {
  return guarded<BOOL>(FALSE, [&] {
    return pipe_id(Pipe, ServerProcessId, &PipeEnd::server_process_id, false, false);
  });
}
BOOL WINAPI GetNamedPipeClientSessionId(HANDLE Pipe, PULONG ClientSessionId) {
  return guarded<BOOL>(FALSE, [&] {
    return pipe_id(Pipe, ClientSessionId, &PipeEnd::client_session_id, true, true);
  });
}
BOOL WINAPI GetNamedPipeServerSessionId(HANDLE Pipe, PULONG ServerSessionId) {
  return guarded<BOOL>(FALSE, [&] {
    return pipe_id(Pipe, ServerSessionId, &PipeEnd::server_session_id, false, true);
  });
}

BOOL WINAPI GetNamedPipeClientComputerNameA(HANDLE Pipe, LPSTR ClientComputerName,
                                            ULONG ClientComputerNameLength) {
  return guarded<BOOL>(
      FALSE, [&] { return computer_name(Pipe, ClientComputerName, ClientComputerNameLength); });
}
BOOL WINAPI GetNamedPipeClientComputerNameW(HANDLE Pipe, LPWSTR ClientComputerName,
                                            ULONG ClientComputerNameLength) {
  return guarded<BOOL>(
      FALSE, [&] { return computer_name(Pipe, ClientComputerName, ClientComputerNameLength); });
}

BOOL WINAPI GetUserNameA(LPSTR lpBuffer, LPDWORD pcbBuffer) {
  return guarded<BOOL>(FALSE, [&]() -> BOOL {
    if (!pcbBuffer) return fail(ERROR_INVALID_PARAMETER);
    std::string name = calling_user_name();
    DWORD needed = static_cast<DWORD>(name.size() + 1);  // characters, with the terminator
    if (!lpBuffer || *pcbBuffer < needed) {
      *pcbBuffer = needed;
      return fail(ERROR_INSUFFICIENT_BUFFER);
    }
    std::memcpy(lpBuffer, name.c_str(), needed);
    *pcbBuffer = needed;
    return TRUE;
  });
}

BOOL WINAPI GetUserNameW(LPWSTR lpBuffer, LPDWORD pcbBuffer) {
  return guarded<BOOL>(FALSE, [&]() -> BOOL {
    if (!pcbBuffer) return fail(ERROR_INVALID_PARAMETER);
    std::wstring name = from_utf8(calling_user_name());
    DWORD needed = static_cast<DWORD>(name.size() + 1);
    if (!lpBuffer || *pcbBuffer < needed) {
      *pcbBuffer = needed;
      return fail(ERROR_INSUFFICIENT_BUFFER);
    }
    std::wmemcpy(lpBuffer, name.c_str(), needed);
    *pcbBuffer = needed;
    return TRUE;
  });
}

BOOL WINAPI ImpersonateNamedPipeClient(HANDLE hNamedPipe) {
  return guarded<BOOL>(FALSE, [&]() -> BOOL {
    auto object = globals().handles.get(hNamedPipe);
    if (!object) return fail(ERROR_INVALID_HANDLE);
    if (object->kind() != Kind::kNamedPipe) return fail(ERROR_INVALID_FUNCTION);
    auto& pipe = static_cast<NamedPipeObject&>(*object);
    if (!pipe.is_server()) return fail(ERROR_INVALID_FUNCTION);
    // Windows takes the context of the last message read; before any read there is none.
    if (!pipe.async->data_read.load()) return fail(ERROR_CANNOT_IMPERSONATE);
    // A second call replaces the first impersonation: switch back before taking the new one.
    if (t_impersonation) {
      if (auto back = t_impersonation->revert(); !back) return fail(back.error());
      t_impersonation.reset();
    }
    auto as_client = Impersonation::of(pipe.server());
    if (!as_client) return fail(ERROR_CANNOT_IMPERSONATE);
    t_impersonation = std::move(*as_client);
    return TRUE;
  });
}

BOOL WINAPI RevertToSelf(void) {
  return guarded<BOOL>(FALSE, [&]() -> BOOL {
    if (!t_impersonation) return TRUE;
    if (auto back = t_impersonation->revert(); !back) return fail(ERROR_ACCESS_DENIED);
    t_impersonation.reset();
    return TRUE;
  });
}

}  // extern "C"
