// winsvc.h: a Windows service as a foreground process under a Linux service manager. See the
// header for the mapping; the stop request and the status reports go through sluice/service.hpp.
#include <winsvc.h>

#include <strings.h>

#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "sluice/service.hpp"
#include "win32/objects.hpp"

namespace sluice::win32 {
namespace {

using namespace std::chrono_literals;

// How often the dispatcher looks at the service's state between stop requests, and how long it
// waits for ServiceMain to return after the service reported SERVICE_STOPPED.
constexpr auto kDispatchSlice = 50ms;
constexpr auto kMainReturnGrace = 30s;

// The one service this process runs (StartServiceCtrlDispatcher runs a table's first entry).
struct Service {
  std::mutex mu;
  bool dispatching = false;             // guarded by mu
  std::string name;                     // guarded by mu
  std::function<DWORD(DWORD)> handler;  // guarded by mu; empty until registered
  bool stop_pending = false;            // guarded by mu: SIGTERM came, not yet handed to a handler
  bool stopped = false;                 // guarded by mu: SERVICE_STOPPED reported
  bool main_returned = false;           // guarded by mu
};

Service& service() {
  static Service s;  // the Win32 edge's own state, as its handle table is
  return s;
}

// The status handle: a tag, the same for every registration (one service per process).
SERVICE_STATUS_HANDLE status_handle() {
  return reinterpret_cast<SERVICE_STATUS_HANDLE>(&service());
}

DWORD WINAPI service_main_thread(LPVOID parameter) {
  auto* run = static_cast<std::function<void()>*>(parameter);
  (*run)();
  delete run;
  Service& s = service();
  std::lock_guard lock(s.mu);
  s.main_returned = true;
  return 0;
}

// The control dispatcher: runs `service_main` in a thread and hands stop requests to the
// service's handler until the service has stopped.
BOOL dispatch(const std::string& name, std::function<void()> service_main) {
  Service& s = service();
  {
    std::lock_guard lock(s.mu);
    if (s.dispatching) return fail(ERROR_SERVICE_ALREADY_RUNNING);
    s.dispatching = true;
    s.name = name;
    s.handler = nullptr;
    s.stop_pending = s.stopped = s.main_returned = false;
  }
  auto finish = [&s](BOOL result) {
    std::lock_guard lock(s.mu);
    s.dispatching = false;
    s.handler = nullptr;
    return result;
  };
  if (auto caught = catch_stop_requests(); !caught) {
    fail(caught.error());
    return finish(FALSE);
  }
  auto* run = new std::function<void()>(std::move(service_main));
  HANDLE thread = CreateThread(nullptr, 0, service_main_thread, run, 0, nullptr);
  if (thread == nullptr) {
    delete run;
    return finish(FALSE);
  }
  std::chrono::steady_clock::time_point stopped_at{};
  for (;;) {
    if (wait_stop_request(kDispatchSlice)) {
      std::lock_guard lock(s.mu);
      s.stop_pending = true;
    }
    std::function<DWORD(DWORD)> handler;
    {
      std::unique_lock lock(s.mu);
      if (s.stopped) {
        if (stopped_at == std::chrono::steady_clock::time_point{})
          stopped_at = std::chrono::steady_clock::now();
        if (s.main_returned || std::chrono::steady_clock::now() - stopped_at > kMainReturnGrace)
          break;
      }
      if (s.stop_pending && s.handler) {
        s.stop_pending = false;
        handler = s.handler;
      }
    }
    if (handler) handler(SERVICE_CONTROL_STOP);  // never under the lock
  }
  CloseHandle(thread);
  return finish(TRUE);
}

SERVICE_STATUS_HANDLE register_handler(const std::string& name,
                                       std::function<DWORD(DWORD)> handler) {
  Service& s = service();
  std::lock_guard lock(s.mu);
  if (!s.dispatching || ::strcasecmp(name.c_str(), s.name.c_str()) != 0) {
    set_last_error(ERROR_SERVICE_DOES_NOT_EXIST);
    return nullptr;
  }
  s.handler = std::move(handler);
  return status_handle();
}

// sd_notify's lines for a status: READY=1 when running, STOPPING=1 when stopping or stopped,
// the wait hint as EXTEND_TIMEOUT_USEC, and the state in words.
std::string notification(const SERVICE_STATUS& status) {
  static const char* const kStates[] = {"",        "Stopped",    "Starting", "Stopping",
                                        "Running", "Continuing", "Pausing",  "Paused"};
  std::string text;
  if (status.dwCurrentState == SERVICE_RUNNING) text += "READY=1\n";
  if (status.dwCurrentState == SERVICE_STOP_PENDING || status.dwCurrentState == SERVICE_STOPPED)
    text += "STOPPING=1\n";
  if (status.dwWaitHint != 0 && status.dwCurrentState != SERVICE_RUNNING &&
      status.dwCurrentState != SERVICE_STOPPED && status.dwCurrentState != SERVICE_PAUSED)
    text += "EXTEND_TIMEOUT_USEC=" + std::to_string(std::uint64_t{status.dwWaitHint} * 1000) + "\n";
  text += std::string("STATUS=") + kStates[status.dwCurrentState];
  if (status.dwCurrentState == SERVICE_STOPPED && status.dwWin32ExitCode != NO_ERROR)
    text += " (error " + std::to_string(status.dwWin32ExitCode) + ")";
  return text;
}

BOOL set_status(SERVICE_STATUS_HANDLE handle, const SERVICE_STATUS* status) {
  Service& s = service();
  {
    std::lock_guard lock(s.mu);
    if (handle != status_handle() || !s.dispatching) return fail(ERROR_INVALID_HANDLE);
  }
  if (status == nullptr || status->dwCurrentState < SERVICE_STOPPED ||
      status->dwCurrentState > SERVICE_PAUSED)
    return fail(ERROR_INVALID_DATA);
  // TODO(compat): a service manager that cannot be reached is not reported to the service
  // (Windows' SetServiceStatus would fail); the service goes on as it would without one.
  (void)notify_service_manager(notification(*status));
  if (status->dwCurrentState == SERVICE_STOPPED) {
    std::lock_guard lock(s.mu);
    s.stopped = true;
  }
  return TRUE;
}

// A service or handler name as UTF-8 (the A functions' text is UTF-8 already).
std::string utf8_of(const char* name) { return name; }
std::string utf8_of(const wchar_t* name) { return to_utf8(name); }

// StartServiceCtrlDispatcherA/W: the table's first entry, its ServiceMain given its own name.
template <class Entry>
BOOL dispatch_table(const Entry* table) {
  if (!table || !table->lpServiceName || !table->lpServiceProc)
    return fail(ERROR_INVALID_PARAMETER);
  std::basic_string name(table->lpServiceName);
  auto proc = table->lpServiceProc;
  return dispatch(utf8_of(name.c_str()), [name, proc]() mutable {
    std::vector argv{name.data(), static_cast<decltype(name.data())>(nullptr)};
    proc(1, argv.data());
  });
}

// RegisterServiceCtrlHandler(Ex)A/W: `call` runs the program's handler for a control code.
template <class Char, class Proc>
SERVICE_STATUS_HANDLE register_for(const Char* name, Proc proc, std::function<DWORD(DWORD)> call) {
  if (!name || !proc) {
    set_last_error(ERROR_INVALID_PARAMETER);
    return nullptr;
  }
  return register_handler(utf8_of(name), std::move(call));
}

template <class Char>
SERVICE_STATUS_HANDLE register_plain(const Char* name, LPHANDLER_FUNCTION proc) {
  return register_for(name, proc, [proc](DWORD control) -> DWORD {
    proc(control);
    return NO_ERROR;
  });
}

template <class Char>
SERVICE_STATUS_HANDLE register_ex(const Char* name, LPHANDLER_FUNCTION_EX proc, LPVOID context) {
  return register_for(
      name, proc, [proc, context](DWORD control) { return proc(control, 0, nullptr, context); });
}

// The service-manager calls: a Linux service is installed with a unit file.
template <class R>
R not_implemented() {
  set_last_error(ERROR_CALL_NOT_IMPLEMENTED);
  return R{};
}

}  // namespace
}  // namespace sluice::win32

using namespace sluice::win32;

extern "C" {

BOOL WINAPI StartServiceCtrlDispatcherA(const SERVICE_TABLE_ENTRYA* lpServiceStartTable) {
  return guarded<BOOL>(FALSE, [&] { return dispatch_table(lpServiceStartTable); });
}
BOOL WINAPI StartServiceCtrlDispatcherW(const SERVICE_TABLE_ENTRYW* lpServiceStartTable) {
  return guarded<BOOL>(FALSE, [&] { return dispatch_table(lpServiceStartTable); });
}

SERVICE_STATUS_HANDLE WINAPI RegisterServiceCtrlHandlerA(LPCSTR lpServiceName,
                                                         LPHANDLER_FUNCTION lpHandlerProc) {
  return guarded<SERVICE_STATUS_HANDLE>(
      nullptr, [&] { return register_plain(lpServiceName, lpHandlerProc); });
}
SERVICE_STATUS_HANDLE WINAPI RegisterServiceCtrlHandlerW(LPCWSTR lpServiceName,
                                                         LPHANDLER_FUNCTION lpHandlerProc) {
  return guarded<SERVICE_STATUS_HANDLE>(
      nullptr, [&] { return register_plain(lpServiceName, lpHandlerProc); });
}
SERVICE_STATUS_HANDLE WINAPI RegisterServiceCtrlHandlerExA(LPCSTR lpServiceName,
                                                           LPHANDLER_FUNCTION_EX lpHandlerProc,
                                                           LPVOID lpContext) {
  return guarded<SERVICE_STATUS_HANDLE>(
      nullptr, [&] { return register_ex(lpServiceName, lpHandlerProc, lpContext); });
}
SERVICE_STATUS_HANDLE WINAPI RegisterServiceCtrlHandlerExW(LPCWSTR lpServiceName,
                                                           LPHANDLER_FUNCTION_EX lpHandlerProc,
                                                           LPVOID lpContext) {
  return guarded<SERVICE_STATUS_HANDLE>(
      nullptr, [&] { return register_ex(lpServiceName, lpHandlerProc, lpContext); });
}

BOOL WINAPI SetServiceStatus(SERVICE_STATUS_HANDLE hServiceStatus,
                             LPSERVICE_STATUS lpServiceStatus) {
  return guarded<BOOL>(FALSE, [&] { return set_status(hServiceStatus, lpServiceStatus); });
}

SC_HANDLE WINAPI OpenSCManagerA(LPCSTR, LPCSTR, DWORD) { return not_implemented<SC_HANDLE>(); }
SC_HANDLE WINAPI OpenSCManagerW(LPCWSTR, LPCWSTR, DWORD) { return not_implemented<SC_HANDLE>(); }
SC_HANDLE WINAPI OpenServiceA(SC_HANDLE, LPCSTR, DWORD) { return not_implemented<SC_HANDLE>(); }
SC_HANDLE WINAPI OpenServiceW(SC_HANDLE, LPCWSTR, DWORD) { return not_implemented<SC_HANDLE>(); }
SC_HANDLE WINAPI CreateServiceA(SC_HANDLE, LPCSTR, LPCSTR, DWORD, DWORD, DWORD, DWORD, LPCSTR,
                                LPCSTR, LPDWORD, LPCSTR, LPCSTR, LPCSTR) {
  return not_implemented<SC_HANDLE>();
}
SC_HANDLE WINAPI CreateServiceW(SC_HANDLE, LPCWSTR, LPCWSTR, DWORD, DWORD, DWORD, DWORD, LPCWSTR,
                                LPCWSTR, LPDWORD, LPCWSTR, LPCWSTR, LPCWSTR) {
  return not_implemented<SC_HANDLE>();
}
BOOL WINAPI StartServiceA(SC_HANDLE, DWORD, LPCSTR*) { return not_implemented<BOOL>(); }
BOOL WINAPI StartServiceW(SC_HANDLE, DWORD, LPCWSTR*) { return not_implemented<BOOL>(); }
BOOL WINAPI ControlService(SC_HANDLE, DWORD, LPSERVICE_STATUS) { return not_implemented<BOOL>(); }
BOOL WINAPI QueryServiceStatus(SC_HANDLE, LPSERVICE_STATUS) { return not_implemented<BOOL>(); }
BOOL WINAPI DeleteService(SC_HANDLE) { return not_implemented<BOOL>(); }
BOOL WINAPI CloseServiceHandle(SC_HANDLE) { return fail(ERROR_INVALID_HANDLE); }

}  // extern "C"
