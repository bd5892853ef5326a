// winsvc.h: a Windows service run in the foreground, as under systemd. The helper is the
// service; the test plays the service manager: it receives the sd_notify datagrams on a socket
// of its own (NOTIFY_SOCKET) and stops the service with SIGTERM.
#include <windows.h>
#include <winsvc.h>

#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "helper_process.hpp"
#include "win32/win32_test_util.hpp"

namespace {

using namespace sluice::win32::testing;

// The service, as Microsoft's service sample writes one: ServiceMain registers its handler,
// reports START_PENDING then RUNNING, waits for the stop event the handler sets on
// SERVICE_CONTROL_STOP, and reports STOP_PENDING and STOPPED.
SERVICE_STATUS_HANDLE g_status_handle = nullptr;
SERVICE_STATUS g_status{};
HANDLE g_stop_event = nullptr;
int g_context = 0;
DWORD g_controls_seen = 0;
std::string g_running_event;  // a named event the service sets once running, if given

void report(DWORD state, DWORD wait_hint) {
  g_status.dwServiceType = SERVICE_WIN32_OWN_PROCESS;
  g_status.dwCurrentState = state;
  g_status.dwControlsAccepted = state == SERVICE_RUNNING ? SERVICE_ACCEPT_STOP : 0;
  g_status.dwWaitHint = wait_hint;
  SetServiceStatus(g_status_handle, &g_status);
}

// Runs on the dispatcher's thread; only ServiceMain's thread touches g_status (Microsoft's
// sample reports from both and races on it).
DWORD WINAPI control_handler(DWORD control, DWORD, LPVOID, LPVOID context) {
  if (control == SERVICE_CONTROL_STOP && context == &g_context) {
    ++g_controls_seen;
    SetEvent(g_stop_event);
  }
  return NO_ERROR;
}

VOID WINAPI service_main(DWORD argc, LPSTR* argv) {
  if (argc != 1 || std::strcmp(argv[0], "PipeService") != 0) return;
  g_status_handle = RegisterServiceCtrlHandlerExA("pipeservice", control_handler, &g_context);
  if (!g_status_handle) return;
  report(SERVICE_START_PENDING, 2000);
  g_stop_event = CreateEventA(nullptr, TRUE, FALSE, nullptr);
  report(SERVICE_RUNNING, 0);
  if (!g_running_event.empty()) {
    HANDLE running = OpenEventA(EVENT_MODIFY_STATE, FALSE, g_running_event.c_str());
    SetEvent(running);
    CloseHandle(running);
  }
  WaitForSingleObject(g_stop_event, INFINITE);
  report(SERVICE_STOP_PENDING, 3000);
  report(SERVICE_STOPPED, 0);
}

// Exits 0 when the dispatcher returned TRUE after one SERVICE_CONTROL_STOP reached the handler.
// args: [the name of an event to set once running].
SLUICE_TEST_HELPER(win32_service) {
  if (!args.empty()) g_running_event = args[0];
  SERVICE_TABLE_ENTRYA table[] = {{const_cast<LPSTR>("PipeService"), service_main},
                                  {nullptr, nullptr}};
  if (!StartServiceCtrlDispatcherA(table)) return 10 + static_cast<int>(GetLastError() % 100);
  return g_controls_seen == 1 ? 0 : 3;
}

// A datagram socket bound to a fresh path: the service manager's end of NOTIFY_SOCKET.
struct NotifyReceiver {
  NotifyReceiver() {
    path = "/tmp/sluice-notify-" + std::to_string(getpid()) + "-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    ::unlink(path.c_str());
    fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
    EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  }
  ~NotifyReceiver() {
    ::close(fd);
    ::unlink(path.c_str());
  }
  // The next datagram, or "" after 20 s.
  std::string next() {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 20000) != 1) return "";
    char buffer[1024];
    ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    return n > 0 ? std::string(buffer, static_cast<std::size_t>(n)) : "";
  }
  std::string path;
  int fd = -1;
};

TEST(Service, RunsInTheForegroundReportsToSystemdAndStopsOnSigterm) {
  NotifyReceiver manager;
  ::setenv("NOTIFY_SOCKET", manager.path.c_str(), 1);
  auto child = sluice::testing::spawn_helper("win32_service");
  ::unsetenv("NOTIFY_SOCKET");
  ASSERT_TRUE(child) << child.error().message();
  sluice::testing::KillOnExit reaper(*child);

  EXPECT_EQ(manager.next(), "EXTEND_TIMEOUT_USEC=2000000\nSTATUS=Starting");
  EXPECT_EQ(manager.next(), "READY=1\nSTATUS=Running");
  ASSERT_EQ(::kill(static_cast<pid_t>(child->pid()), SIGTERM), 0);
  EXPECT_EQ(manager.next(), "STOPPING=1\nEXTEND_TIMEOUT_USEC=3000000\nSTATUS=Stopping");
  EXPECT_EQ(manager.next(), "STOPPING=1\nSTATUS=Stopped");
  auto code = child->wait(std::chrono::seconds(20));
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 0);
}

TEST(Service, WithoutNotifySocketTheServiceStillRunsAndStops) {
  ::unsetenv("NOTIFY_SOCKET");
  std::string event_name = "sluice-service-running-" + std::to_string(getpid());
  HANDLE running = CreateEventA(nullptr, TRUE, FALSE, event_name.c_str());
  ASSERT_NE(running, nullptr) << GetLastError();
  auto child = sluice::testing::spawn_helper("win32_service", {event_name});
  ASSERT_TRUE(child) << child.error().message();
  sluice::testing::KillOnExit reaper(*child);
  ASSERT_EQ(WaitForSingleObject(running, 20000), WAIT_OBJECT_0);
  CloseHandle(running);
  ASSERT_EQ(::kill(static_cast<pid_t>(child->pid()), SIGTERM), 0);
  auto code = child->wait(std::chrono::seconds(20));
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 0);
}

TEST(Service, CallsOutsideTheDispatcherAndServiceManagerCallsFailCleanly) {
  EXPECT_EQ(RegisterServiceCtrlHandlerA("PipeService", [](DWORD) {}), nullptr);
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_SERVICE_DOES_NOT_EXIST));
  SERVICE_STATUS status{};
  status.dwCurrentState = SERVICE_RUNNING;
  EXPECT_FALSE(SetServiceStatus(reinterpret_cast<SERVICE_STATUS_HANDLE>(&status), &status));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_HANDLE));
  EXPECT_FALSE(StartServiceCtrlDispatcherA(nullptr));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_PARAMETER));
  EXPECT_EQ(OpenSCManagerA(nullptr, nullptr, SC_MANAGER_ALL_ACCESS), nullptr);
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_CALL_NOT_IMPLEMENTED));
  EXPECT_EQ(OpenServiceW(nullptr, L"PipeService", SERVICE_ALL_ACCESS), nullptr);
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_CALL_NOT_IMPLEMENTED));
  EXPECT_FALSE(StartServiceA(nullptr, 0, nullptr));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_CALL_NOT_IMPLEMENTED));
  EXPECT_FALSE(CloseServiceHandle(nullptr));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_HANDLE));
}

}  // namespace
