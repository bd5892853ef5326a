// CreateProcess and process objects (processthreadsapi.h).
#include <windows.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "objects/child_process.hpp"
#include "os/linux/directory.hpp"
#include "os/linux/file.hpp"
#include "sluice/impersonation.hpp"
#include "win32/handle_transfer.hpp"
#include "win32/objects.hpp"
#include "win32/stdio_relay.hpp"

namespace sluice::win32 {

/// Splits a command line as Windows' C runtime does (CommandLineToArgvW rules). The program name
/// ends at the first blank unless quoted (no escapes in it); in the arguments 2n backslashes and
/// a quote give n backslashes and toggle quoting, 2n+1 backslashes and a quote give n backslashes
/// and a literal quote, and inside quotes "" is a literal quote.
std::vector<std::string> split_command_line(const std::string& line) {
  std::vector<std::string> args;
  std::size_t i = 0, n = line.size();
  std::string arg;
  if (i < n && line[i] == '"') {
    ++i;
    while (i < n && line[i] != '"') arg.push_back(line[i++]);
    if (i < n) ++i;
  } else {
    while (i < n && line[i] != ' ' && line[i] != '\t') arg.push_back(line[i++]);
  }
  args.push_back(arg);
  for (;;) {
    while (i < n && (line[i] == ' ' || line[i] == '\t')) ++i;
    if (i >= n) break;
    arg.clear();
    bool quoted = false;
    while (i < n) {
      char c = line[i];
      if (!quoted && (c == ' ' || c == '\t')) break;
      if (c == '\\') {
        std::size_t slashes = 0;
        while (i < n && line[i] == '\\') {
          ++slashes;
          ++i;
        }
        if (i < n && line[i] == '"') {
          arg.append(slashes / 2, '\\');
          if (slashes % 2) {
            arg.push_back('"');
            ++i;
          }
        } else {
          arg.append(slashes, '\\');
        }
        continue;
      }
      if (c == '"') {
        if (quoted && i + 1 < n && line[i + 1] == '"') {
          arg.push_back('"');
          i += 2;
          continue;
        }
        quoted = !quoted;
        ++i;
        continue;
      }
      arg.push_back(c);
      ++i;
    }
    args.push_back(arg);
  }
  return args;
}

namespace {

bool executable(const std::string& path) { return os::is_executable_file(path); }

std::string self_directory() {
  auto self = os::executable_path();
  if (!self || self->empty()) return {};
  const std::string& path = *self;
  std::size_t slash = path.rfind('/');
  return slash == std::string::npos ? std::string() : path.substr(0, slash);
}

// Where Windows looks for a program given without a directory: the application's directory,
// the current directory, then PATH; ".exe" is appended when the name has none (and dropped, since
// Linux programs have no extension).
std::string find_program(std::string name) {
  for (char& c : name) {
    if (c == '\\') c = '/';
  }
  std::vector<std::string> names{name};
  bool has_exe = name.size() > 4 && name.compare(name.size() - 4, 4, ".exe") == 0;
  if (has_exe) {
    names.push_back(name.substr(0, name.size() - 4));
  } else {
    names.push_back(name + ".exe");
  }
  if (name.find('/') != std::string::npos) {
    for (auto& candidate : names) {
      if (executable(candidate)) return candidate;
    }
    return {};
  }
  std::vector<std::string> dirs{self_directory(), "."};
  if (const char* path = std::getenv("PATH")) {
    std::string p = path;
    std::size_t start = 0;
    while (start <= p.size()) {
      std::size_t end = p.find(':', start);
      if (end == std::string::npos) end = p.size();
      dirs.push_back(end > start ? p.substr(start, end - start) : ".");
      start = end + 1;
    }
  }
  for (auto& dir : dirs) {
    if (dir.empty()) continue;
    for (auto& candidate : names) {
      std::string full = dir + "/" + candidate;
      if (executable(full)) return full;
    }
  }
  return {};
}

int fd_of(const std::shared_ptr<Object>& object) {
  if (!object) return -1;
  switch (object->kind()) {
    case Kind::kAnonRead:
    case Kind::kAnonWrite:
      return static_cast<AnonPipeObject&>(*object).any_end().native_handle();
    case Kind::kFd:
      return static_cast<FdObject&>(*object).fd;
    default:
      return -1;
  }
}

HANDLE std_handle(int i) {
  Globals& g = globals();
  std::lock_guard lock(g.std_mu);
  return g.std_handles[i];
}

BOOL create_process(const std::string* application, const std::string* command_line, BOOL inherit,
                    HANDLE std_in, HANDLE std_out, HANDLE std_err, bool use_std,
                    LPPROCESS_INFORMATION pi) {
  if (!pi) return fail(ERROR_INVALID_PARAMETER);
  std::vector<std::string> args;
  if (command_line && !command_line->empty()) args = split_command_line(*command_line);
  std::string program_name = application ? *application : (args.empty() ? "" : args[0]);
  if (program_name.empty()) return fail(ERROR_INVALID_PARAMETER);
  if (args.empty()) args.push_back(program_name);
  std::string program = find_program(program_name);
  if (program.empty()) return fail(ERROR_FILE_NOT_FOUND);
  args[0] = program;

  objects::ChildOptions options;
  options.argv = args;
  options.inherit_fds = inherit != FALSE;
  // Standard handles: STARTF_USESTDHANDLES gives them explicitly; otherwise a child that
  // inherits handles gets our current standard handles (SetStdHandle redirection).
  HANDLE stdio[3] = {std_in, std_out, std_err};
  if (!use_std) {
    for (int i = 0; i < 3; ++i) stdio[i] = inherit ? std_handle(i) : nullptr;
  }
  int fds[3] = {-1, -1, -1};
  std::vector<std::shared_ptr<Object>> keep;  // alive until the child has its copies
  for (int i = 0; i < 3; ++i) {
    if (!stdio[i] || stdio[i] == INVALID_HANDLE_VALUE) continue;
    auto object = globals().handles.get(stdio[i]);
    if (!object) continue;  // Windows passes invalid standard handles through; so do we (none)
    if (object->kind() == Kind::kNamedPipe) {
      bool child_reads = i == 0;
      auto& relays = options.relays;
      auto same = std::find_if(relays.begin(), relays.end(), [&](const auto& r) {
        return relays_end(*r, object.get()) && r->child_reads() == child_reads;
      });
      if (same == relays.end()) {
        auto relay = relay_for(object, child_reads);
        if (!relay) return fail(relay.error());
        relays.push_back(std::move(*relay));
        same = relays.end() - 1;
      }
      fds[i] = (*same)->child_fd();
      continue;
    }
    int fd = fd_of(object);
    if (fd < 0) return fail(ERROR_INVALID_HANDLE);  // events, threads, ... are not stdio
    fds[i] = fd;
    keep.push_back(std::move(object));
  }
  options.stdio = {fds[0], fds[1], fds[2]};

  Globals& g = globals();
  std::lock_guard spawn_lock(g.spawn_mu);
  // The child, the watcher and the relays start with the process's credentials even if this
  // thread impersonates (CreateProcess uses the process's primary token, not the thread's;
  // CreateProcessAsUser is for starting one as the client).
  ProcessIdentityScope as_process;
  // Inheritable handles: their descriptors reach the child at the same numbers (the named
  // pipes' through PipeEnd::share()), and their HANDLE values travel in the environment so a
  // sluice child finds them at the same values. A handle that cannot travel stays behind
  // (threads, processes, ports, an end that cannot be shared now: TODO(compat)).
  std::vector<OutgoingObject> outgoing;
  std::string list;
  if (inherit) {
    for (auto& [value, entry] : g.handles.inheritable()) {
      if (entry.object->kind() == Kind::kFd && fd_of(entry.object) < 3) continue;  // stdio
      auto out = prepare_outgoing(entry.object);
      if (!out) continue;
      std::string numbers;
      for (int fd : out->fds) numbers += (numbers.empty() ? "" : ":") + std::to_string(fd);
      list += std::to_string(reinterpret_cast<std::uintptr_t>(value)) + "/" + numbers + "/" +
              out->item + ";";
      options.pass_fds.insert(options.pass_fds.end(), out->fds.begin(), out->fds.end());
      keep.push_back(entry.object);
      outgoing.push_back(std::move(*out));
    }
  }
  if (!list.empty()) options.environment.push_back("SLUICE_WIN32_HANDLES=" + list);
  // The child's exit becomes the handles' signalled state, its exit code keeps its 32 bits, and
  // the relays finish, all in the objects layer (objects/child_process.hpp).
  auto child = objects::ChildProcess::start(std::move(options));
  if (!child) return fail(child.error());
  auto process = std::make_shared<ProcessObject>(*child, false);
  auto thread = std::make_shared<ProcessObject>(std::move(*child), true);
  pi->hProcess = g.handles.insert(process, 0);
  pi->hThread = g.handles.insert(thread, 0);
  pi->dwProcessId = process->target().pid();
  pi->dwThreadId = process->target().pid();  // the main thread's tid is the pid
  return TRUE;
}

std::shared_ptr<ProcessObject> process_of(HANDLE h) {
  auto object = globals().handles.get(h);
  if (!object || object->kind() != Kind::kProcess) return nullptr;
  return std::static_pointer_cast<ProcessObject>(object);
}

}  // namespace
}  // namespace sluice::win32

using namespace sluice::win32;

extern "C" {

BOOL WINAPI CreateProcessA(LPCSTR lpApplicationName, LPSTR lpCommandLine,
                           LPSECURITY_ATTRIBUTES lpProcessAttributes,
                           LPSECURITY_ATTRIBUTES lpThreadAttributes, BOOL bInheritHandles,
                           DWORD dwCreationFlags, LPVOID lpEnvironment, LPCSTR lpCurrentDirectory,
                           LPSTARTUPINFOA lpStartupInfo,
                           LPPROCESS_INFORMATION lpProcessInformation) {
  (void)lpProcessAttributes, (void)lpThreadAttributes, (void)dwCreationFlags, (void)lpEnvironment,
      (void)lpCurrentDirectory;
  return guarded<BOOL>(FALSE, [&]() -> BOOL {
    if (!lpStartupInfo) return fail(ERROR_INVALID_PARAMETER);
    std::string app = lpApplicationName ? lpApplicationName : "";
    std::string line = lpCommandLine ? lpCommandLine : "";
    bool use_std = (lpStartupInfo->dwFlags & STARTF_USESTDHANDLES) != 0;
    return create_process(lpApplicationName ? &app : nullptr, lpCommandLine ? &line : nullptr,
                          bInheritHandles, lpStartupInfo->hStdInput, lpStartupInfo->hStdOutput,
                          lpStartupInfo->hStdError, use_std, lpProcessInformation);
  });
}

BOOL WINAPI CreateProcessW(LPCWSTR lpApplicationName, LPWSTR lpCommandLine,
                           LPSECURITY_ATTRIBUTES lpProcessAttributes,
                           LPSECURITY_ATTRIBUTES lpThreadAttributes, BOOL bInheritHandles,
                           DWORD dwCreationFlags, LPVOID lpEnvironment, LPCWSTR lpCurrentDirectory,
                           LPSTARTUPINFOW lpStartupInfo,
                           LPPROCESS_INFORMATION lpProcessInformation) {
  (void)lpProcessAttributes, (void)lpThreadAttributes, (void)dwCreationFlags, (void)lpEnvironment,
      (void)lpCurrentDirectory;
  return guarded<BOOL>(FALSE, [&]() -> BOOL {
    if (!lpStartupInfo) return fail(ERROR_INVALID_PARAMETER);
    std::string app = lpApplicationName ? to_utf8(lpApplicationName) : "";
    std::string line = lpCommandLine ? to_utf8(lpCommandLine) : "";
    bool use_std = (lpStartupInfo->dwFlags & STARTF_USESTDHANDLES) != 0;
    return create_process(lpApplicationName ? &app : nullptr, lpCommandLine ? &line : nullptr,
                          bInheritHandles, lpStartupInfo->hStdInput, lpStartupInfo->hStdOutput,
                          lpStartupInfo->hStdError, use_std, lpProcessInformation);
  });
}

BOOL WINAPI GetExitCodeProcess(HANDLE hProcess, LPDWORD lpExitCode) {
  return guarded<BOOL>(FALSE, [&]() -> BOOL {
    if (!lpExitCode) return fail(ERROR_NOACCESS);
    if (hProcess == GetCurrentProcess()) {
      *lpExitCode = STILL_ACTIVE;
      return TRUE;
    }
    auto process = process_of(hProcess);
    if (!process || process->is_thread_handle) return fail(ERROR_INVALID_HANDLE);
    *lpExitCode = process->target().exit_code().value_or(STILL_ACTIVE);
    return TRUE;
  });
}

BOOL WINAPI TerminateProcess(HANDLE hProcess, UINT uExitCode) {
  return guarded<BOOL>(FALSE, [&]() -> BOOL {
    if (hProcess == GetCurrentProcess()) ExitProcess(uExitCode);
    auto process = process_of(hProcess);
    if (!process || process->is_thread_handle) return fail(ERROR_INVALID_HANDLE);
    // kAccessDenied once it has exited (Windows: the process is gone).
    if (auto killed = process->target().terminate(uExitCode); !killed) return fail(killed.error());
    return TRUE;
  });
}

DWORD WINAPI GetProcessId(HANDLE Process) {
  return guarded<DWORD>(0, [&]() -> DWORD {
    if (Process == GetCurrentProcess()) return static_cast<DWORD>(sluice::os::current_process_id());
    auto process = process_of(Process);
    if (!process) {
      set_last_error(ERROR_INVALID_HANDLE);
      return 0;
    }
    return process->target().pid();
  });
}

// The audit session (/proc/<pid>/sessionid, set by pam_loginuid at login), the number the
// pipe session queries report too; services without one are in session 0, as on Windows.
BOOL WINAPI ProcessIdToSessionId(DWORD dwProcessId, DWORD* pSessionId) {
  if (!pSessionId || !sluice::os::process_exists(dwProcessId)) return fail(ERROR_INVALID_PARAMETER);
  *pSessionId = sluice::os::session_id_of(dwProcessId);
  return TRUE;
}

VOID WINAPI ExitProcess(UINT uExitCode) {
  std::fflush(nullptr);
  std::exit(static_cast<int>(uExitCode));
}

}  // extern "C"
