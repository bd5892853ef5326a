// Named-pipe handles that reach another process: inherited by a child (CreateProcess with
// bInheritHandles) and duplicated into one (DuplicateHandle with a process handle).
#include <windows.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <future>
#include <string>

#include "helper_process.hpp"
#include "os/linux/unix_socket.hpp"
#include "win32/handle_transfer.hpp"
#include "win32/win32_test_util.hpp"

namespace {

using sluice::win32::testing::unique_pipe_name;

std::string self_path() {
  char self[4096];
  DWORD n = GetModuleFileNameA(nullptr, self, sizeof self);
  return std::string(self, n);
}

std::string value_of(HANDLE h) { return std::to_string(reinterpret_cast<std::uintptr_t>(h)); }

HANDLE handle_from(const std::string& text) {
  return reinterpret_cast<HANDLE>(static_cast<std::uintptr_t>(std::stoull(text)));
}

// Reads what the pipe end `h` holds, then answers on it. Exit codes say where it stopped.
int read_then_answer(HANDLE h) {
  char buf[64];
  DWORD n = 0;
  if (!ReadFile(h, buf, sizeof buf, &n, nullptr)) return 10 + static_cast<int>(GetLastError() % 80);
  std::string answer = "child got " + std::string(buf, n);
  if (!WriteFile(h, answer.data(), static_cast<DWORD>(answer.size()), &n, nullptr)) return 5;
  DWORD mode = PIPE_READMODE_BYTE;  // the parent sees this change: one end, one mode
  if (!SetNamedPipeHandleState(h, &mode, nullptr, nullptr)) return 6;
  return 0;
}

// args: the HANDLE value of an inherited named-pipe client end.
SLUICE_TEST_HELPER(win32_inherited_pipe_end) {
  HANDLE h = handle_from(args.at(0));
  DWORD flags = 0;
  if (!GetHandleInformation(h, &flags) || flags != HANDLE_FLAG_INHERIT) return 3;
  if (GetFileType(h) != FILE_TYPE_PIPE) return 4;
  return read_then_answer(h);
}

// Learns a duplicated HANDLE value on stdin (the usual Windows way), then uses it: with
// OVERLAPPED structures when args[0] is "overlapped".
SLUICE_TEST_HELPER(win32_duplicated_pipe_end) {
  char line[32] = {};
  DWORD n = 0;
  if (!ReadFile(GetStdHandle(STD_INPUT_HANDLE), line, sizeof line - 1, &n, nullptr) || n == 0)
    return 3;
  HANDLE h = handle_from(std::string(line, n));
  if (args.empty() || args[0] != "overlapped") return read_then_answer(h);
  OVERLAPPED o{};
  o.hEvent = CreateEventA(nullptr, TRUE, FALSE, nullptr);
  char buf[64];
  if (!ReadFile(h, buf, sizeof buf, nullptr, &o) && GetLastError() != ERROR_IO_PENDING) return 7;
  if (!GetOverlappedResult(h, &o, &n, TRUE)) return 8;
  std::string answer = "overlapped got " + std::string(buf, n);
  if (!WriteFile(h, answer.data(), static_cast<DWORD>(answer.size()), nullptr, &o) &&
      GetLastError() != ERROR_IO_PENDING)
    return 9;
  if (!GetOverlappedResult(h, &o, &n, TRUE)) return 10;
  CloseHandle(o.hEvent);
  return 0;
}

// args: the HANDLE value of an inherited unnamed event.
SLUICE_TEST_HELPER(win32_set_inherited_event) {
  if (!SetEvent(handle_from(args.at(0)))) return 5;
  return 0;
}

// args: the HANDLE value of an inherited named event, its name.
SLUICE_TEST_HELPER(win32_inherited_event) {
  HANDLE h = handle_from(args.at(0));
  HANDLE same = CreateEventA(nullptr, FALSE, FALSE, args.at(1).c_str());
  if (!same || GetLastError() != ERROR_ALREADY_EXISTS) return 4;  // the event is alive by name
  CloseHandle(same);
  if (!SetEvent(h)) return 5;
  return 0;
}

// args: the HANDLE value of an inherited overlapped client end that the parent associated with
// its completion port. Writes "from child" and leaves a read pending as it exits; both complete
// to the parent's port. Exit codes say where it stopped.
SLUICE_TEST_HELPER(win32_io_on_an_end_associated_in_the_parent) {
  HANDLE h = handle_from(args.at(0));
  // The end is associated already (with the parent's port): no second port, no routines.
  HANDLE port = CreateIoCompletionPort(h, nullptr, 1, 0);
  if (port != nullptr || GetLastError() != ERROR_INVALID_PARAMETER) return 3;
  OVERLAPPED ex{};
  char buf[16];
  if (ReadFileEx(h, buf, sizeof buf, &ex, [](DWORD, DWORD, LPOVERLAPPED) {}) ||
      GetLastError() != ERROR_INVALID_PARAMETER)
    return 4;
  // Our event is set as usual; the packet goes to the parent's port.
  OVERLAPPED write{};
  write.hEvent = CreateEventA(nullptr, TRUE, FALSE, nullptr);
  const char text[] = "from child";
  DWORD n = 0;
  if (!WriteFile(h, text, sizeof text - 1, nullptr, &write) && GetLastError() != ERROR_IO_PENDING)
    return 5;
  if (!GetOverlappedResult(h, &write, &n, TRUE) || n != sizeof text - 1) return 6;
  static OVERLAPPED read{};  // outlives main: the exit cancels it
  if (ReadFile(h, buf, sizeof buf, nullptr, &read) || GetLastError() != ERROR_IO_PENDING) return 7;
  return 0;  // exit(0): the pending read is cancelled and reported to the parent's port
}

// args: an inherited overlapped end associated with the parent's port, an inherited event. Leaves
// a read pending, sets the event and waits to be killed.
SLUICE_TEST_HELPER(win32_pending_read_then_killed) {
  HANDLE h = handle_from(args.at(0));
  static OVERLAPPED read{};
  char buf[16];
  if (ReadFile(h, buf, sizeof buf, nullptr, &read) || GetLastError() != ERROR_IO_PENDING) return 3;
  if (!SetEvent(handle_from(args.at(1)))) return 4;
  Sleep(INFINITE);
  return 5;
}

struct Child {
  PROCESS_INFORMATION pi{};
  // Starts this test binary as a helper ("name args...") that inherits our inheritable handles;
  // standard handles from `si` when given (STARTF_USESTDHANDLES).
  bool start(const std::string& helper_and_args, STARTUPINFOA* given = nullptr) {
    std::string line = "\"" + self_path() + "\" --sluice-helper " + helper_and_args;
    STARTUPINFOA plain{};
    plain.cb = sizeof plain;
    STARTUPINFOA* si = given ? given : &plain;
    si->cb = sizeof *si;
    return CreateProcessA(nullptr, line.data(), nullptr, nullptr, TRUE, 0, nullptr, nullptr, si,
                          &pi) != FALSE;
  }
  DWORD wait_exit_code() {
    if (WaitForSingleObject(pi.hProcess, 20000) != WAIT_OBJECT_0) return 999;
    DWORD code = 998;
    GetExitCodeProcess(pi.hProcess, &code);
    return code;
  }
  ~Child() {
    if (pi.hProcess) {
      TerminateProcess(pi.hProcess, 1);
      CloseHandle(pi.hProcess);
      CloseHandle(pi.hThread);
    }
  }
};

// Starts win32_duplicated_pipe_end with a pipe as its stdin; returns our end of that pipe (null
// on failure), on which the test sends it the value of the handle it duplicated into it.
HANDLE start_duplicate_receiver(Child& child, const char* how = "") {
  SECURITY_ATTRIBUTES sa = {sizeof sa, nullptr, TRUE};
  HANDLE in_r = nullptr, in_w = nullptr;
  if (!CreatePipe(&in_r, &in_w, &sa, 0)) return nullptr;
  SetHandleInformation(in_w, HANDLE_FLAG_INHERIT, 0);
  STARTUPINFOA si{};
  si.hStdInput = in_r;
  si.hStdOutput = GetStdHandle(STD_OUTPUT_HANDLE);
  si.hStdError = GetStdHandle(STD_ERROR_HANDLE);
  si.dwFlags = STARTF_USESTDHANDLES;
  bool started = child.start(std::string("win32_duplicated_pipe_end ") + how, &si);
  CloseHandle(in_r);
  if (started) return in_w;
  CloseHandle(in_w);
  return nullptr;
}

struct Duplicated {
  BOOL ok = FALSE;
  DWORD error = 0;  // GetLastError() after DuplicateHandle
  HANDLE remote = nullptr;
  bool told = false;  // the value reached the child's stdin
};

// DuplicateHandle of `source` into the child started by start_duplicate_receiver, then tells it
// the new value (0 when that failed: it waits for a line either way) through `in_w`, closed here.
Duplicated duplicate_into_child(Child& child, HANDLE in_w, HANDLE source, DWORD options) {
  Duplicated d;
  d.ok =
      DuplicateHandle(GetCurrentProcess(), source, child.pi.hProcess, &d.remote, 0, FALSE, options);
  d.error = GetLastError();
  std::string value = d.ok ? value_of(d.remote) : "0";
  DWORD n = 0;
  d.told = WriteFile(in_w, value.data(), static_cast<DWORD>(value.size()), &n, nullptr) != FALSE;
  CloseHandle(in_w);
  return d;
}

class Win32HandleTransfer : public ::testing::Test {
 protected:
  void SetUp() override {
    name = unique_pipe_name();
    server = CreateNamedPipeA(name.c_str(), PIPE_ACCESS_DUPLEX,
                              PIPE_TYPE_MESSAGE | PIPE_READMODE_MESSAGE | PIPE_WAIT, 1, 4096, 4096,
                              0, nullptr);
    ASSERT_NE(server, INVALID_HANDLE_VALUE);
  }
  void TearDown() override {
    if (server != INVALID_HANDLE_VALUE) CloseHandle(server);
  }
  HANDLE open_client(BOOL inheritable, DWORD flags = 0) {
    SECURITY_ATTRIBUTES sa = {sizeof sa, nullptr, inheritable};
    HANDLE c = CreateFileA(name.c_str(), GENERIC_READ | GENERIC_WRITE, 0, &sa, OPEN_EXISTING, flags,
                           nullptr);
    if (c == INVALID_HANDLE_VALUE) return c;
    DWORD mode = PIPE_READMODE_MESSAGE;
    SetNamedPipeHandleState(c, &mode, nullptr, nullptr);
    return c;
  }
  std::string server_read() {
    char buf[64];
    DWORD n = 0;
    if (!ReadFile(server, buf, sizeof buf, &n, nullptr))
      return "error " + std::to_string(GetLastError());
    return std::string(buf, n);
  }
  void server_write(const char* text) {
    DWORD n = 0;
    ASSERT_TRUE(WriteFile(server, text, static_cast<DWORD>(strlen(text)), &n, nullptr));
  }

  std::string name;
  HANDLE server = INVALID_HANDLE_VALUE;
};

TEST_F(Win32HandleTransfer, AnInheritedNamedPipeEndKeepsItsValueAndIsTheSameEnd) {
  HANDLE client = open_client(TRUE);
  ASSERT_NE(client, INVALID_HANDLE_VALUE);
  server_write("hello");
  Child child;
  ASSERT_TRUE(child.start("win32_inherited_pipe_end " + value_of(client))) << GetLastError();
  ASSERT_EQ(child.wait_exit_code(), 0u);
  EXPECT_EQ(server_read(), "child got hello");
  // The child switched the end to byte read mode; we hold the same end.
  DWORD mode = 0;
  ASSERT_TRUE(GetNamedPipeHandleStateA(client, &mode, nullptr, nullptr, nullptr, nullptr, 0));
  EXPECT_EQ(mode, static_cast<DWORD>(PIPE_READMODE_BYTE | PIPE_WAIT));
  // The child's exit closed its handle, not the end.
  server_write("still ours");
  char buf[32];
  DWORD n = 0;
  ASSERT_TRUE(ReadFile(client, buf, sizeof buf, &n, nullptr));
  EXPECT_EQ(std::string(buf, n), "still ours");
  CloseHandle(client);
  EXPECT_EQ(server_read(), "error " + std::to_string(ERROR_BROKEN_PIPE));
}

TEST_F(Win32HandleTransfer, AHandleNotMarkedInheritableStaysBehind) {
  HANDLE client = open_client(FALSE);
  ASSERT_NE(client, INVALID_HANDLE_VALUE);
  Child child;
  ASSERT_TRUE(child.start("win32_inherited_pipe_end " + value_of(client))) << GetLastError();
  EXPECT_EQ(child.wait_exit_code(), 3u);  // GetHandleInformation: ERROR_INVALID_HANDLE there
  CloseHandle(client);
}

TEST_F(Win32HandleTransfer, DuplicateHandleIntoAChildGivesItTheEndAndCanCloseTheSource) {
  HANDLE client = open_client(FALSE);
  ASSERT_NE(client, INVALID_HANDLE_VALUE);
  Child child;
  HANDLE in_w = start_duplicate_receiver(child);
  ASSERT_NE(in_w, nullptr) << GetLastError();

  Duplicated d =
      duplicate_into_child(child, in_w, client, DUPLICATE_SAME_ACCESS | DUPLICATE_CLOSE_SOURCE);
  ASSERT_TRUE(d.told);
  ASSERT_TRUE(d.ok) << d.error;
  EXPECT_NE(d.remote, nullptr);
  // DUPLICATE_CLOSE_SOURCE: our handle is gone, the end lives on in the child.
  DWORD flags = 0;
  EXPECT_FALSE(GetHandleInformation(client, &flags));
  server_write("over there");
  EXPECT_EQ(server_read(), "child got over there");
  EXPECT_EQ(child.wait_exit_code(), 0u);
  // The child held the last handle to the client end.
  EXPECT_EQ(server_read(), "error " + std::to_string(ERROR_BROKEN_PIPE));
}

TEST_F(Win32HandleTransfer, AnOverlappedEndDuplicatedIntoAChildKeepsItsAsynchronousIo) {
  HANDLE client = open_client(FALSE, FILE_FLAG_OVERLAPPED);
  ASSERT_NE(client, INVALID_HANDLE_VALUE);
  Child child;
  HANDLE in_w = start_duplicate_receiver(child, "overlapped");
  ASSERT_NE(in_w, nullptr) << GetLastError();
  Duplicated d = duplicate_into_child(child, in_w, client, DUPLICATE_SAME_ACCESS);
  ASSERT_TRUE(d.told);
  ASSERT_TRUE(d.ok) << d.error;
  server_write("async");
  EXPECT_EQ(server_read(), "overlapped got async");
  EXPECT_EQ(child.wait_exit_code(), 0u);
  CloseHandle(client);
  EXPECT_EQ(server_read(), "error " + std::to_string(ERROR_BROKEN_PIPE));
}

TEST_F(Win32HandleTransfer, DuplicateHandleIntoAnotherProcessRefusesWhatCannotTravel) {
  HANDLE client = open_client(FALSE);
  ASSERT_NE(client, INVALID_HANDLE_VALUE);
  Child child;
  HANDLE in_w = start_duplicate_receiver(child);
  ASSERT_NE(in_w, nullptr) << GetLastError();
  HANDLE out = nullptr;
  // Thread and process handles stay with their process (TODO(compat)).
  EXPECT_FALSE(DuplicateHandle(GetCurrentProcess(), child.pi.hThread, child.pi.hProcess, &out, 0,
                               FALSE, DUPLICATE_SAME_ACCESS));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_NOT_SUPPORTED));
  // A thread handle is not a process handle.
  EXPECT_FALSE(DuplicateHandle(GetCurrentProcess(), client, child.pi.hThread, &out, 0, FALSE,
                               DUPLICATE_SAME_ACCESS));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_HANDLE));
  CloseHandle(in_w);  // the child reads nothing and leaves
  EXPECT_EQ(child.wait_exit_code(), 3u);
  CloseHandle(client);
}

TEST(Win32HandleTransferEvents, AnInheritedNamedEventIsTheSameEventInTheChild) {
  std::string name = "Local\\sluice-inherited-event-" + std::to_string(GetCurrentProcessId());
  SECURITY_ATTRIBUTES sa = {sizeof sa, nullptr, TRUE};
  HANDLE event = CreateEventA(&sa, FALSE, FALSE, name.c_str());
  ASSERT_NE(event, nullptr);
  Child child;
  ASSERT_TRUE(child.start("win32_inherited_event " + value_of(event) + " " + name))
      << GetLastError();
  EXPECT_EQ(WaitForSingleObject(event, 20000), WAIT_OBJECT_0);  // set by the child
  EXPECT_EQ(child.wait_exit_code(), 0u);
  CloseHandle(event);
}

TEST(Win32HandleTransferEvents, AnUnnamedEventTravelsTooAndWakesAWaitThatBeganBefore) {
  SECURITY_ATTRIBUTES sa = {sizeof sa, nullptr, TRUE};
  HANDLE event = CreateEventA(&sa, TRUE, FALSE, nullptr);
  ASSERT_NE(event, nullptr);
  // This wait starts while the event is still this process's alone.
  auto waiter = std::async(std::launch::async, [&] { return WaitForSingleObject(event, 20000); });
  Child child;
  ASSERT_TRUE(child.start("win32_set_inherited_event " + value_of(event))) << GetLastError();
  EXPECT_EQ(child.wait_exit_code(), 0u);
  EXPECT_EQ(waiter.get(), WAIT_OBJECT_0);                   // the child's SetEvent reached it
  EXPECT_EQ(WaitForSingleObject(event, 0), WAIT_OBJECT_0);  // manual reset: still set
  ASSERT_TRUE(ResetEvent(event));
  EXPECT_EQ(WaitForSingleObject(event, 0), static_cast<DWORD>(WAIT_TIMEOUT));
  CloseHandle(event);
}

TEST_F(Win32HandleTransfer, ANamedPipeEndIsTheStdinAndStdoutOfAnOrdinaryLinuxProgram) {
  CloseHandle(server);
  server = CreateNamedPipeA(name.c_str(), PIPE_ACCESS_DUPLEX, PIPE_TYPE_BYTE | PIPE_WAIT, 1, 4096,
                            4096, 0, nullptr);
  ASSERT_NE(server, INVALID_HANDLE_VALUE);
  HANDLE client = CreateFileA(name.c_str(), GENERIC_READ | GENERIC_WRITE, 0, nullptr, OPEN_EXISTING,
                              0, nullptr);
  ASSERT_NE(client, INVALID_HANDLE_VALUE);
  STARTUPINFOA si{};
  si.cb = sizeof si;
  si.hStdInput = client;
  si.hStdOutput = client;
  si.hStdError = GetStdHandle(STD_ERROR_HANDLE);
  si.dwFlags = STARTF_USESTDHANDLES;
  Child child;
  char line[] = "head -n 2";
  ASSERT_TRUE(
      CreateProcessA(nullptr, line, nullptr, nullptr, TRUE, 0, nullptr, nullptr, &si, &child.pi))
      << GetLastError();
  CloseHandle(client);  // the child holds the client end now
  server_write("one\ntwo\nthree\n");
  EXPECT_EQ(child.wait_exit_code(), 0u);
  // Its output is in the pipe once its exit is signalled; then the end closes with the child.
  std::string output;
  for (std::string got; (got = server_read()).rfind("error ", 0) != 0;) output += got;
  EXPECT_EQ(output, "one\ntwo\n");
  DWORD n = 0;
  char buf[8];
  EXPECT_FALSE(ReadFile(server, buf, sizeof buf, &n, nullptr));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_BROKEN_PIPE));
}

// The packet of a child's operation that its end cancelled (FALSE, ERROR_OPERATION_ABORTED, 0
// bytes, the association's key, the child's OVERLAPPED), then nothing more: exactly once.
void expect_the_aborted_packet_only(HANDLE port, ULONG_PTR expected_key) {
  DWORD bytes = 99;
  ULONG_PTR key = 0;
  LPOVERLAPPED ov = nullptr;
  EXPECT_FALSE(GetQueuedCompletionStatus(port, &bytes, &key, &ov, 20000));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_OPERATION_ABORTED));
  EXPECT_NE(ov, nullptr);
  EXPECT_EQ(bytes, 0u);
  EXPECT_EQ(key, expected_key);
  EXPECT_FALSE(GetQueuedCompletionStatus(port, &bytes, &key, &ov, 200));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(WAIT_TIMEOUT));
}

// As on Windows: completion packets reach the port associated with the end even when
// the operation was issued in another process that shares the end, and that process's exit
// cancels its pending operations with packets (FALSE, ERROR_OPERATION_ABORTED, 0, the key).
TEST_F(Win32HandleTransfer, OperationsAChildIssuesOnAnEndAssociatedHereCompleteToOurPort) {
  HANDLE client = open_client(TRUE, FILE_FLAG_OVERLAPPED);
  ASSERT_NE(client, INVALID_HANDLE_VALUE);
  constexpr ULONG_PTR kKey = 77;
  HANDLE port = CreateIoCompletionPort(client, nullptr, kKey, 0);
  ASSERT_NE(port, nullptr) << GetLastError();
  Child child;
  ASSERT_TRUE(child.start("win32_io_on_an_end_associated_in_the_parent " + value_of(client)))
      << GetLastError();

  DWORD bytes = 99;
  ULONG_PTR key = 0;
  LPOVERLAPPED ov = nullptr;
  ASSERT_TRUE(GetQueuedCompletionStatus(port, &bytes, &key, &ov, 20000)) << GetLastError();
  EXPECT_EQ(bytes, 10u);  // the child's write
  EXPECT_EQ(key, kKey);
  EXPECT_NE(ov, nullptr);  // the child's OVERLAPPED, as an address of the child
  EXPECT_EQ(server_read(), "from child");

  expect_the_aborted_packet_only(port, kKey);  // the child's exit cancelled its read
  EXPECT_EQ(child.wait_exit_code(), 0u);
  CloseHandle(port);
  CloseHandle(client);
}

TEST(Win32HandleTransferItems, AnAssociationThatDoesNotParseIsRefused) {
  for (const char* flags :
       {"1/0/5/7", "1/12/x/7", "1/12/5", "1/12/5/7/9", "2/12/5/7", "1/-1/5/7"}) {
    auto object = sluice::win32::accept_incoming(nullptr, std::string("n,0,0,") + flags + ",-", {});
    ASSERT_FALSE(object) << flags;
    EXPECT_EQ(object.error(), sluice::errc::kInvalidParameter) << flags;
  }
}

TEST(Win32HandleTransferItems, APacketForAPortThatIsNotOpenGoesNowhere) {
  HANDLE port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, nullptr, 0, 1);
  ASSERT_NE(port, nullptr);
  // Port ids are never reused; this one was never handed out.
  EXPECT_FALSE(sluice::win32::post_to_local_port(~std::uint64_t{0}, sluice::win32::Packet{}));
  DWORD bytes = 0;
  ULONG_PTR key = 0;
  LPOVERLAPPED ov = nullptr;
  EXPECT_FALSE(GetQueuedCompletionStatus(port, &bytes, &key, &ov, 0));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(WAIT_TIMEOUT));
  CloseHandle(port);
}

// The same when the child is killed: its port's process reports what it left pending.
TEST_F(Win32HandleTransfer, AKilledChildsPendingOperationOnAnEndAssociatedHereCompletesAborted) {
  HANDLE client = open_client(TRUE, FILE_FLAG_OVERLAPPED);
  ASSERT_NE(client, INVALID_HANDLE_VALUE);
  constexpr ULONG_PTR kKey = 78;
  HANDLE port = CreateIoCompletionPort(client, nullptr, kKey, 0);
  ASSERT_NE(port, nullptr) << GetLastError();
  SECURITY_ATTRIBUTES sa = {sizeof sa, nullptr, TRUE};
  HANDLE pending = CreateEventA(&sa, TRUE, FALSE, nullptr);
  ASSERT_NE(pending, nullptr);
  Child child;
  ASSERT_TRUE(
      child.start("win32_pending_read_then_killed " + value_of(client) + " " + value_of(pending)))
      << GetLastError();
  ASSERT_EQ(WaitForSingleObject(pending, 20000), WAIT_OBJECT_0);
  ASSERT_TRUE(TerminateProcess(child.pi.hProcess, 9));  // SIGKILL: no exit handlers run
  expect_the_aborted_packet_only(port, kKey);
  EXPECT_EQ(child.wait_exit_code(), 9u);
  CloseHandle(pending);
  CloseHandle(port);
  CloseHandle(client);
}

// Starts a program without sluice and without inherited handles; null handles on failure.
PROCESS_INFORMATION start_program(std::string command) {
  STARTUPINFOA si{};
  si.cb = sizeof si;
  PROCESS_INFORMATION pi{};
  if (!CreateProcessA(nullptr, command.data(), nullptr, nullptr, FALSE, 0, nullptr, nullptr, &si,
                      &pi))
    return {};
  return pi;
}

// Any local process may bind the abstract name of another process's handle inbox before that
// process does (here: a program without sluice, which never binds one). DuplicateHandle must
// send the squatter nothing, neither the request nor the descriptor.
TEST(Win32HandleTransferSpoofing, APreBoundFakeHandleInboxReceivesNothing) {
  PROCESS_INFORMATION pi = start_program("sleep 30");
  ASSERT_NE(pi.hProcess, nullptr) << GetLastError();
  // The inbox's name as handle_transfer.cpp makes it.
  auto fake = sluice::os::listen_abstract("sluice-win32-handles-" + std::to_string(pi.dwProcessId));
  ASSERT_TRUE(fake) << fake.error().message();
  HANDLE r = nullptr, w = nullptr;
  ASSERT_TRUE(CreatePipe(&r, &w, nullptr, 0));

  HANDLE duplicate = nullptr;
  SetLastError(0);
  BOOL sent = DuplicateHandle(GetCurrentProcess(), r, pi.hProcess, &duplicate, 0, FALSE,
                              DUPLICATE_SAME_ACCESS);
  DWORD error = GetLastError();
  // The connection was made (the kernel accepts it for the squatter) and closed unused.
  auto socket = sluice::os::accept_from(fake->get());
  char buffer[256];
  sluice::os::UniqueFd fds[sluice::os::kMaxPassedFds];
  int fd_count = 0;
  sluice::Result<std::size_t> got = std::size_t{0};
  if (socket) {
    got = sluice::os::receive_message(socket->get(), buffer, sizeof buffer, fds,
                                      sluice::os::kMaxPassedFds, &fd_count);
  }
  EXPECT_TRUE(TerminateProcess(pi.hProcess, 9));
  EXPECT_EQ(WaitForSingleObject(pi.hProcess, 10000), WAIT_OBJECT_0);
  DWORD code = 0;
  EXPECT_TRUE(GetExitCodeProcess(pi.hProcess, &code));
  CloseHandle(pi.hProcess);
  CloseHandle(pi.hThread);
  CloseHandle(r);
  CloseHandle(w);

  EXPECT_FALSE(sent);
  EXPECT_EQ(error, static_cast<DWORD>(ERROR_ACCESS_DENIED));
  ASSERT_TRUE(socket) << socket.error().message();
  ASSERT_TRUE(got) << got.error().message();
  EXPECT_EQ(*got, 0u);  // a hang-up: no request
  EXPECT_EQ(fd_count, 0);
  EXPECT_EQ(code, 9u);  // TerminateProcess went through the pidfd
}

// Once the target has exited its pid may be reused by any process, inbox included: the handle
// is refused through the pidfd kept since CreateProcess, as Windows refuses a terminated target.
TEST(Win32HandleTransferSpoofing, NothingIsSentToAProcessThatHasExited) {
  PROCESS_INFORMATION pi = start_program("true");
  ASSERT_NE(pi.hProcess, nullptr) << GetLastError();
  ASSERT_EQ(WaitForSingleObject(pi.hProcess, 10000), WAIT_OBJECT_0);
  HANDLE event = CreateEventA(nullptr, TRUE, FALSE, nullptr);
  HANDLE remote = nullptr;
  SetLastError(0);
  EXPECT_FALSE(DuplicateHandle(GetCurrentProcess(), event, pi.hProcess, &remote, 0, FALSE,
                               DUPLICATE_SAME_ACCESS));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_ACCESS_DENIED));
  CloseHandle(event);
  CloseHandle(pi.hProcess);
  CloseHandle(pi.hThread);
}

}  // namespace
