// A pipe name with this computer's own name, `localhost` or a loopback address reaches the local
// pipe, and the server treats that client as Windows treats one that came through the network
// redirector: PIPE_REJECT_REMOTE_CLIENTS refuses it, GetNamedPipeClientComputerName names it.
// The clients are other processes (helpers), so the "came remotely" word travels in the
// connection handshake.
#include <windows.h>

#include <gtest/gtest.h>

#include <string>

#include "helper_process.hpp"
#include "win32/win32_test_util.hpp"

namespace {

using namespace sluice::win32::testing;

// Opens args[0] (a pipe name) as the documented client does (a busy instance, one the server
// has not called ConnectNamedPipe on again yet, is waited for with WaitNamedPipe), writes
// "hello" and waits for the server's one-byte answer; exits with 0, or with the last error of
// the call that failed.
SLUICE_TEST_HELPER(win32_client_by_name) {
  HANDLE pipe = INVALID_HANDLE_VALUE;
  for (int attempt = 0; attempt < 100; ++attempt) {
    pipe = CreateFileA(args.at(0).c_str(), GENERIC_READ | GENERIC_WRITE, 0, nullptr, OPEN_EXISTING,
                       0, nullptr);
    if (pipe != INVALID_HANDLE_VALUE || GetLastError() != ERROR_PIPE_BUSY) break;
    WaitNamedPipeA(args.at(0).c_str(), 200);
  }
  if (pipe == INVALID_HANDLE_VALUE) return static_cast<int>(GetLastError());
  DWORD n = 0;
  char answer = 0;
  if (!WriteFile(pipe, "hello", 5, &n, nullptr) || !ReadFile(pipe, &answer, 1, &n, nullptr))
    return static_cast<int>(GetLastError());
  CloseHandle(pipe);
  return 0;
}

// `\\<server>\pipe\<name>` for the test's pipe `\\.\pipe\<name>`.
std::string through(const std::string& server, const std::string& local_name) {
  return "\\\\" + server + local_name.substr(3);
}

std::string netbios_name() {
  char name[MAX_COMPUTERNAME_LENGTH + 1];
  DWORD size = sizeof name;
  EXPECT_TRUE(GetComputerNameA(name, &size)) << GetLastError();
  return name;
}

std::string dns_host_name() {
  char name[256];
  DWORD size = sizeof name;
  EXPECT_TRUE(GetComputerNameExA(ComputerNameDnsHostname, name, &size)) << GetLastError();
  return name;
}

HANDLE make_server(const std::string& name, DWORD remote_mode) {
  HANDLE h = CreateNamedPipeA(name.c_str(), PIPE_ACCESS_DUPLEX, PIPE_TYPE_BYTE | remote_mode, 1,
                              4096, 4096, 0, nullptr);
  EXPECT_NE(h, INVALID_HANDLE_VALUE) << GetLastError();
  return h;
}

// Serves one client of `server`: waits for it, reads its "hello", answers, disconnects.
void serve_one(HANDLE server) {
  BOOL connected = ConnectNamedPipe(server, nullptr);
  EXPECT_TRUE(connected || GetLastError() == ERROR_PIPE_CONNECTED) << GetLastError();
  char buffer[16] = {};
  DWORD n = 0;
  EXPECT_TRUE(ReadFile(server, buffer, sizeof buffer, &n, nullptr)) << GetLastError();
  EXPECT_EQ(std::string(buffer, n), "hello");
  EXPECT_TRUE(WriteFile(server, "!", 1, &n, nullptr)) << GetLastError();
  EXPECT_TRUE(FlushFileBuffers(server)) << GetLastError();
  DisconnectNamedPipe(server);
}

TEST(RemoteClient, EveryNameOfThisComputerReachesTheLocalPipe) {
  std::string name = unique_pipe_name();
  HANDLE server = make_server(name, PIPE_ACCEPT_REMOTE_CLIENTS);
  for (const std::string& host : {std::string("localhost"), std::string("127.0.0.1"),
                                  std::string("::1"), netbios_name(), dns_host_name()}) {
    HANDLE client = start_helper("win32_client_by_name", "\"" + through(host, name) + "\"");
    serve_one(server);
    EXPECT_EQ(exit_code_after(client), 0u) << through(host, name);
  }
  CloseHandle(server);
}

TEST(RemoteClient, WaitNamedPipeThroughThisComputersNameSeesTheLocalInstance) {
  std::string name = unique_pipe_name();
  HANDLE server = make_server(name, PIPE_ACCEPT_REMOTE_CLIENTS);
  EXPECT_TRUE(WaitNamedPipeA(through("localhost", name).c_str(), 1000)) << GetLastError();
  EXPECT_TRUE(WaitNamedPipeA(through(netbios_name(), name).c_str(), 1000)) << GetLastError();
  EXPECT_FALSE(WaitNamedPipeA(through("no-such-computer", name).c_str(), 0));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_BAD_NETPATH));
  CloseHandle(server);
}

TEST(RemoteClient, RejectRemoteClientsRefusesAClientThroughThisComputersName) {
  std::string name = unique_pipe_name();
  HANDLE server = make_server(name, PIPE_REJECT_REMOTE_CLIENTS);
  for (const std::string& host :
       {std::string("localhost"), std::string("127.0.0.1"), netbios_name()}) {
    HANDLE refused = start_helper("win32_client_by_name", "\"" + through(host, name) + "\"");
    EXPECT_EQ(exit_code_after(refused), static_cast<DWORD>(ERROR_ACCESS_DENIED)) << host;
  }
  // The instance is still there for a local client.
  HANDLE local = start_helper("win32_client_by_name", "\"" + name + "\"");
  serve_one(server);
  EXPECT_EQ(exit_code_after(local), 0u);
  CloseHandle(server);
}

TEST(RemoteClient, ClientComputerNameNamesAClientThroughThisComputersName) {
  std::string name = unique_pipe_name();
  HANDLE server = make_server(name, PIPE_ACCEPT_REMOTE_CLIENTS);
  HANDLE client = start_helper("win32_client_by_name", "\"" + through("localhost", name) + "\"");
  BOOL connected = ConnectNamedPipe(server, nullptr);
  ASSERT_TRUE(connected || GetLastError() == ERROR_PIPE_CONNECTED) << GetLastError();
  const std::string expected = netbios_name();
  char narrow[64] = {};
  SetLastError(kSentinel);
  ASSERT_TRUE(GetNamedPipeClientComputerNameA(server, narrow, sizeof narrow)) << GetLastError();
  EXPECT_EQ(std::string(narrow), expected);
  EXPECT_EQ(GetLastError(), kSentinel);
  WCHAR wide[64] = {};
  ASSERT_TRUE(GetNamedPipeClientComputerNameW(server, wide, sizeof wide)) << GetLastError();
  EXPECT_EQ(std::wstring(wide), std::wstring(expected.begin(), expected.end()));
  // The length counts bytes, the NUL included.
  EXPECT_FALSE(
      GetNamedPipeClientComputerNameA(server, narrow, static_cast<ULONG>(expected.size())));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INSUFFICIENT_BUFFER));
  EXPECT_FALSE(GetNamedPipeClientComputerNameW(
      server, wide, static_cast<ULONG>(expected.size() * sizeof(WCHAR))));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INSUFFICIENT_BUFFER));
  EXPECT_TRUE(
      GetNamedPipeClientComputerNameA(server, narrow, static_cast<ULONG>(expected.size() + 1)));
  char buffer[16];
  DWORD n = 0;
  EXPECT_TRUE(ReadFile(server, buffer, sizeof buffer, &n, nullptr)) << GetLastError();
  EXPECT_TRUE(WriteFile(server, "!", 1, &n, nullptr)) << GetLastError();
  EXPECT_EQ(exit_code_after(client), 0u);
  DisconnectNamedPipe(server);

  // The next client names the pipe with `.`: a local client.
  client = start_helper("win32_client_by_name", "\"" + name + "\"");
  connected = ConnectNamedPipe(server, nullptr);
  ASSERT_TRUE(connected || GetLastError() == ERROR_PIPE_CONNECTED) << GetLastError();
  EXPECT_FALSE(GetNamedPipeClientComputerNameA(server, narrow, sizeof narrow));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_PIPE_LOCAL));
  EXPECT_TRUE(ReadFile(server, buffer, sizeof buffer, &n, nullptr)) << GetLastError();
  EXPECT_TRUE(WriteFile(server, "!", 1, &n, nullptr)) << GetLastError();
  EXPECT_EQ(exit_code_after(client), 0u);
  CloseHandle(server);
}

TEST(RemoteClient, AServerCannotCreateAPipeThroughThisComputersName) {
  std::string name = unique_pipe_name();
  EXPECT_EQ(CreateNamedPipeA(through("localhost", name).c_str(), PIPE_ACCESS_DUPLEX, PIPE_TYPE_BYTE,
                             1, 4096, 4096, 0, nullptr),
            INVALID_HANDLE_VALUE);
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_NAME));
}

}  // namespace
