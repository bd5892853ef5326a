// ImpersonateNamedPipeClient and RevertToSelf with real users: root serves, a helper running as
// Carol (uid 1003, supplementary group 1500) is the client. What the thread is, is read back
// from the kernel (/proc/thread-self/status), never from sluice's own bookkeeping.
#include <windows.h>
// (windows.h first: sddl.h builds on it)
#include <sddl.h>

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <future>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "helper_process.hpp"
#include "other_user.hpp"
#include "sluice/impersonation.hpp"
#include "thread_ids.hpp"
#include "win32/objects.hpp"
#include "win32/win32_test_util.hpp"

namespace {

using namespace std::chrono_literals;
using sluice::testing::kCarol;
using sluice::testing::kStaffGroup;
using sluice::win32::testing::unique_pipe_name;

using sluice::testing::KernelIds;
using sluice::testing::thread_ids;

// args: pipe name, CreateFile flags (decimal). Opens the pipe with those flags, writes "hi",
// then waits for one byte from the server (so it stays connected while the server looks) and
// exits 0; or exits with the Win32 error that stopped it.
SLUICE_TEST_HELPER(win32_sqos_client) {
  DWORD flags = static_cast<DWORD>(std::stoul(args.at(1)));
  HANDLE pipe = CreateFileA(args.at(0).c_str(), GENERIC_READ | GENERIC_WRITE, 0, nullptr,
                            OPEN_EXISTING, flags, nullptr);
  if (pipe == INVALID_HANDLE_VALUE) return static_cast<int>(GetLastError());
  DWORD n = 0;
  if (!WriteFile(pipe, "hi", 2, &n, nullptr)) return static_cast<int>(GetLastError());
  char byte = 0;
  if (!ReadFile(pipe, &byte, 1, &n, nullptr)) return static_cast<int>(GetLastError());
  CloseHandle(pipe);
  return 0;
}

// GetUserNameA's answer for the calling thread, and GetUserNameW's (they must agree).
std::string user_name() {
  char name[256];
  DWORD size = sizeof name;
  if (!GetUserNameA(name, &size)) return "error " + std::to_string(GetLastError());
  std::string a(name, size - 1);
  wchar_t wide[256];
  DWORD wide_size = 256;
  if (!GetUserNameW(wide, &wide_size)) return "error " + std::to_string(GetLastError());
  if (wide_size != size || std::wstring(wide, wide_size - 1) != std::wstring(a.begin(), a.end()))
    return "A and W differ";
  return a;
}

// A SID as text ("S-1-22-1-0").
std::string sid_text(PSID sid) {
  LPSTR text = nullptr;
  if (!ConvertSidToStringSidA(sid, &text)) return "error " + std::to_string(GetLastError());
  std::string result = text;
  LocalFree(text);
  return result;
}

// GetTokenInformation asked twice, as programs do: for the size, then for the data.
std::vector<BYTE> token_information(HANDLE token, TOKEN_INFORMATION_CLASS what) {
  DWORD needed = 0;
  if (GetTokenInformation(token, what, nullptr, 0, &needed)) return {};
  std::vector<BYTE> data(needed);
  if (!GetTokenInformation(token, what, data.data(), needed, &needed)) return {};
  return data;
}

// The user SID, the group SIDs and, for an impersonation token, the level of `token`.
struct TokenView {
  std::string user;
  std::vector<std::string> groups;
  int level = -1;
};

TokenView view_token(HANDLE token) {
  TokenView view;
  auto user = token_information(token, TokenUser);
  if (!user.empty()) view.user = sid_text(reinterpret_cast<TOKEN_USER*>(user.data())->User.Sid);
  auto groups = token_information(token, TokenGroups);
  if (!groups.empty()) {
    auto* list = reinterpret_cast<TOKEN_GROUPS*>(groups.data());
    auto* entries =
        reinterpret_cast<SID_AND_ATTRIBUTES*>(groups.data() + offsetof(TOKEN_GROUPS, Groups));
    for (DWORD i = 0; i < list->GroupCount; ++i) view.groups.push_back(sid_text(entries[i].Sid));
  }
  SECURITY_IMPERSONATION_LEVEL level{};
  DWORD size = 0;
  if (GetTokenInformation(token, TokenImpersonationLevel, &level, sizeof level, &size))
    view.level = level;
  return view;
}

// A root server, a client helper running as Carol, and a file only root may read.
class Win32Impersonation : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to run the client as another user";
    char dir[] = "/tmp/sluice-imp-XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    dir_ = dir;
    ASSERT_EQ(::chmod(dir, 0755), 0);  // Carol may look in; the file itself refuses her
    secret_ = dir_ + "/root-only";
    int fd = ::open(secret_.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::write(fd, "secret", 6), 6);
    ::close(fd);
  }

  void TearDown() override {
    finish_client();
    if (!secret_.empty()) ::unlink(secret_.c_str());
    if (!dir_.empty()) ::rmdir(dir_.c_str());
  }

  // Lets the client go, expects it to exit 0 and closes the instance.
  void finish_client() {
    if (child_) {
      if (server_ != INVALID_HANDLE_VALUE) {
        OVERLAPPED ov{};
        ov.hEvent = CreateEventA(nullptr, TRUE, FALSE, nullptr);
        DWORD n = 0;
        if (!WriteFile(server_, "!", 1, &n, &ov) && GetLastError() == ERROR_IO_PENDING)
          (void)GetOverlappedResult(server_, &ov, &n, TRUE);  // the client may go
        CloseHandle(ov.hEvent);
      }
      auto code = child_->wait(10s);
      EXPECT_TRUE(code && *code == 0) << (code ? *code : -1);
      (void)child_->kill();
      child_.reset();
    }
    if (server_ != INVALID_HANDLE_VALUE) CloseHandle(server_);
    server_ = INVALID_HANDLE_VALUE;
  }

  // Serves one client started as Carol with CreateFile `flags` and reads its "hi".
  void connect_carol(DWORD flags) {
    std::string name = unique_pipe_name();
    // Windows' default descriptor lets other users only read, and the server must read from
    // the client before it may impersonate it: a NULL DACL lets Carol write. Overlapped, so
    // that a client that never comes fails the test instead of hanging it.
    SECURITY_DESCRIPTOR sd;
    ASSERT_TRUE(InitializeSecurityDescriptor(&sd, SECURITY_DESCRIPTOR_REVISION));
    ASSERT_TRUE(SetSecurityDescriptorDacl(&sd, TRUE, nullptr, FALSE));
    SECURITY_ATTRIBUTES sa = {sizeof sa, &sd, FALSE};
    server_ = CreateNamedPipeA(name.c_str(), PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED,
                               PIPE_TYPE_BYTE | PIPE_WAIT, 1, 4096, 4096, 0, &sa);
    ASSERT_NE(server_, INVALID_HANDLE_VALUE) << GetLastError();
    auto child = sluice::testing::spawn_helper_as(kCarol, "win32_sqos_client",
                                                  {name, std::to_string(flags)});
    ASSERT_TRUE(child) << child.error().message();
    child_.emplace(std::move(*child));
    OVERLAPPED ov{};
    ov.hEvent = CreateEventA(nullptr, TRUE, FALSE, nullptr);
    DWORD n = 0;
    if (!ConnectNamedPipe(server_, &ov) && GetLastError() == ERROR_IO_PENDING) {
      if (WaitForSingleObject(ov.hEvent, 10000) != WAIT_OBJECT_0) {
        CancelIo(server_);
        (void)GetOverlappedResult(server_, &ov, &n, TRUE);
        auto code = child_->wait(1s);
        CloseHandle(ov.hEvent);
        FAIL() << "no client; the helper exited with " << (code ? *code : -1);
      }
    }
    char hi[2];
    ResetEvent(ov.hEvent);
    BOOL read = ReadFile(server_, hi, 2, &n, &ov);
    if (!read && GetLastError() == ERROR_IO_PENDING)
      read = GetOverlappedResult(server_, &ov, &n, TRUE);
    CloseHandle(ov.hEvent);
    ASSERT_TRUE(read) << GetLastError();
    ASSERT_EQ(n, 2u);
  }

  // Opens the root-only file for reading; the Win32 error (0: opened).
  DWORD open_secret() {
    HANDLE h = CreateFileA(secret_.c_str(), GENERIC_READ, 0, nullptr, OPEN_EXISTING, 0, nullptr);
    if (h == INVALID_HANDLE_VALUE) return GetLastError();
    CloseHandle(h);
    return 0;
  }

  HANDLE server_ = INVALID_HANDLE_VALUE;
  std::optional<sluice::Process> child_;
  std::string dir_;
  std::string secret_;
};

TEST_F(Win32Impersonation, TheThreadTakesTheClientsUidGidAndGroupsAndRevertsToRoot) {
  connect_carol(0);
  ASSERT_TRUE(ImpersonateNamedPipeClient(server_)) << GetLastError();
  KernelIds as_client = thread_ids();
  DWORD refused = open_secret();
  std::string name_as_client = user_name();
  HANDLE thread_token = nullptr, process_token = nullptr;
  EXPECT_TRUE(OpenThreadToken(GetCurrentThread(), TOKEN_QUERY, FALSE, &thread_token));
  EXPECT_TRUE(OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &process_token));
  ASSERT_TRUE(RevertToSelf());
  KernelIds after = thread_ids();
  EXPECT_EQ(name_as_client, "1003");  // Carol has no entry in the user database
  EXPECT_EQ(user_name(), "root");
  // The thread's token is Carol's and stays so (a snapshot); the process's is root's.
  TokenView carol = view_token(thread_token);
  EXPECT_EQ(carol.user, "S-1-22-1-1003");
  EXPECT_EQ(carol.groups, (std::vector<std::string>{"S-1-22-2-1003", "S-1-22-2-1500", "S-1-1-0"}));
  EXPECT_EQ(carol.level, SecurityImpersonation);
  TokenView root = view_token(process_token);
  EXPECT_EQ(root.user, "S-1-22-1-0");
  EXPECT_EQ(root.level, -1);  // a primary token has no impersonation level
  CloseHandle(thread_token);
  CloseHandle(process_token);
  HANDLE none = nullptr;
  EXPECT_FALSE(OpenThreadToken(GetCurrentThread(), TOKEN_QUERY, FALSE, &none));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_NO_TOKEN));

  EXPECT_EQ(as_client.uid, kCarol.uid);
  EXPECT_EQ(as_client.gid, kCarol.gid);
  EXPECT_EQ(as_client.groups, std::vector<std::uint32_t>{kStaffGroup});
  EXPECT_EQ(refused, static_cast<DWORD>(ERROR_ACCESS_DENIED));
  EXPECT_EQ(after.uid, 0u);
  EXPECT_EQ(after.gid, 0u);
  EXPECT_EQ(open_secret(), 0u);
}

TEST_F(Win32Impersonation, OtherThreadsRunAsTheProcessMeanwhile) {
  connect_carol(0);
  std::promise<void> impersonating;
  std::promise<KernelIds> seen;
  std::thread other([&] {
    impersonating.get_future().wait();
    seen.set_value(thread_ids());
  });
  ASSERT_TRUE(ImpersonateNamedPipeClient(server_)) << GetLastError();
  impersonating.set_value();
  auto future = seen.get_future();
  ASSERT_EQ(future.wait_for(10s), std::future_status::ready);
  KernelIds mine = thread_ids();
  EXPECT_TRUE(RevertToSelf());
  other.join();
  EXPECT_EQ(mine.uid, kCarol.uid);
  EXPECT_EQ(future.get().uid, 0u);
}

TEST_F(Win32Impersonation, ThreadsAndChildrenCreatedWhileImpersonatingRunAsTheProcess) {
  connect_carol(0);
  SECURITY_ATTRIBUTES sa = {sizeof sa, nullptr, TRUE};
  HANDLE out_r = nullptr, out_w = nullptr;
  ASSERT_TRUE(CreatePipe(&out_r, &out_w, &sa, 0));
  ASSERT_TRUE(SetHandleInformation(out_r, HANDLE_FLAG_INHERIT, 0));

  ASSERT_TRUE(ImpersonateNamedPipeClient(server_)) << GetLastError();
  KernelIds creator = thread_ids();
  static KernelIds in_thread;
  HANDLE thread = CreateThread(
      nullptr, 0,
      [](LPVOID) -> DWORD {
        in_thread = thread_ids();
        return 0;
      },
      nullptr, 0, nullptr);
  STARTUPINFOA si{};
  si.cb = sizeof si;
  si.hStdOutput = out_w;
  si.hStdError = out_w;
  si.dwFlags = STARTF_USESTDHANDLES;
  PROCESS_INFORMATION pi{};
  char line[] = "sh -c \"id -u; id -G\"";
  BOOL started =
      CreateProcessA(nullptr, line, nullptr, nullptr, TRUE, 0, nullptr, nullptr, &si, &pi);
  KernelIds creator_after = thread_ids();
  ASSERT_TRUE(RevertToSelf());
  CloseHandle(out_w);

  ASSERT_NE(thread, nullptr) << GetLastError();
  EXPECT_EQ(WaitForSingleObject(thread, 10000), WAIT_OBJECT_0);
  CloseHandle(thread);
  ASSERT_TRUE(started) << GetLastError();
  std::string output;
  char buf[256];
  DWORD n = 0;
  while (ReadFile(out_r, buf, sizeof buf, &n, nullptr) && n > 0) output.append(buf, n);
  EXPECT_EQ(WaitForSingleObject(pi.hProcess, 10000), WAIT_OBJECT_0);
  CloseHandle(pi.hProcess);
  CloseHandle(pi.hThread);
  CloseHandle(out_r);

  EXPECT_EQ(creator.uid, kCarol.uid);
  EXPECT_EQ(creator_after.uid, kCarol.uid);  // still impersonating after creating them
  EXPECT_EQ(creator_after.groups, std::vector<std::uint32_t>{kStaffGroup});
  EXPECT_EQ(in_thread.uid, 0u);
  EXPECT_EQ(in_thread.gid, 0u);
  // The uid, then the groups: root's, not Carol's.
  EXPECT_EQ(output.substr(0, 2), "0\n") << output;
  EXPECT_EQ(output.find(std::to_string(kStaffGroup)), std::string::npos) << output;
}

// The target's handle inbox accepts only its own user (or root): a DuplicateHandle made while
// the thread impersonates must still come from the process, as Windows checks the process
// handle's access and not the thread's token.
TEST_F(Win32Impersonation, DuplicateHandleWhileImpersonatingReachesTheTargetAsTheProcess) {
  connect_carol(0);
  SECURITY_ATTRIBUTES sa = {sizeof sa, nullptr, TRUE};
  HANDLE in_r = nullptr, in_w = nullptr;
  ASSERT_TRUE(CreatePipe(&in_r, &in_w, &sa, 0));
  ASSERT_TRUE(SetHandleInformation(in_w, HANDLE_FLAG_INHERIT, 0));
  STARTUPINFOA si{};
  si.cb = sizeof si;
  si.hStdInput = in_r;
  si.dwFlags = STARTF_USESTDHANDLES;
  PROCESS_INFORMATION pi{};
  // win32_read_stdin (handles_test.cpp) reads until its stdin closes.
  std::string line =
      "\"" + sluice::win32::testing::self_path() + "\" --sluice-helper win32_read_stdin";
  ASSERT_TRUE(
      CreateProcessA(nullptr, line.data(), nullptr, nullptr, TRUE, 0, nullptr, nullptr, &si, &pi))
      << GetLastError();
  CloseHandle(in_r);
  HANDLE event = CreateEventA(nullptr, TRUE, FALSE, nullptr);

  ASSERT_TRUE(ImpersonateNamedPipeClient(server_)) << GetLastError();
  HANDLE remote = nullptr;
  BOOL sent = DuplicateHandle(GetCurrentProcess(), event, pi.hProcess, &remote, 0, FALSE,
                              DUPLICATE_SAME_ACCESS);
  DWORD error = sent ? 0 : GetLastError();
  KernelIds after = thread_ids();
  ASSERT_TRUE(RevertToSelf());
  CloseHandle(in_w);
  EXPECT_EQ(WaitForSingleObject(pi.hProcess, 10000), WAIT_OBJECT_0);
  CloseHandle(pi.hProcess);
  CloseHandle(pi.hThread);
  CloseHandle(event);

  EXPECT_TRUE(sent) << error;
  EXPECT_EQ(after.uid, kCarol.uid);  // and the thread impersonates again afterwards
}

// Records the thread's ids when the thread's thread-local objects are destroyed; made before the
// thread impersonates, so destroyed after whatever the impersonation keeps per thread.
struct ExitProbe {
  std::promise<KernelIds>* at_exit = nullptr;
  ~ExitProbe() {
    if (at_exit) at_exit->set_value(thread_ids());
  }
};

TEST_F(Win32Impersonation, AThreadThatExitsImpersonatingIsSwitchedBackFirst) {
  connect_carol(0);
  std::promise<KernelIds> at_exit;
  std::promise<KernelIds> during;
  std::thread([&] {
    thread_local ExitProbe probe;
    probe.at_exit = &at_exit;
    if (!ImpersonateNamedPipeClient(server_)) return during.set_value({});
    during.set_value(thread_ids());  // and exits without RevertToSelf
  }).join();
  EXPECT_EQ(during.get_future().get().uid, kCarol.uid);
  KernelIds last = at_exit.get_future().get();
  EXPECT_EQ(last.uid, 0u);
  EXPECT_EQ(last.gid, 0u);
  EXPECT_TRUE(last.groups.empty() || last.groups != std::vector<std::uint32_t>{kStaffGroup});
}

// What a thread impersonating below impersonation level looks like: its kernel ids, the mark,
// and CreateFile's answer for the root-only file (table row: level, who, ids kept, error).
TEST_F(Win32Impersonation, BelowImpersonationLevelTheThreadIsMarkedKeepsItsIdsAndCannotOpen) {
  struct Row {
    DWORD flags;
    sluice::ImpersonationLevel level;
    unsigned client_uid;
    const char* name;
    DWORD token_error;  // OpenThreadToken's (Windows will not open an anonymous token)
  };
  const Row rows[] = {
      {SECURITY_SQOS_PRESENT | SECURITY_IDENTIFICATION, sluice::ImpersonationLevel::kIdentification,
       kCarol.uid, "1003", 0},
      {SECURITY_SQOS_PRESENT | SECURITY_ANONYMOUS, sluice::ImpersonationLevel::kAnonymous, 65534u,
       "nobody", ERROR_CANT_OPEN_ANONYMOUS},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.flags);
    connect_carol(row.flags);
    ASSERT_TRUE(ImpersonateNamedPipeClient(server_)) << GetLastError();
    KernelIds ids = thread_ids();
    auto marked = sluice::Impersonation::current();
    DWORD refused = open_secret();
    std::string name = user_name();
    HANDLE token = nullptr;
    BOOL opened = OpenThreadToken(GetCurrentThread(), TOKEN_QUERY, TRUE, &token);
    DWORD open_error = opened ? 0 : GetLastError();
    ASSERT_TRUE(RevertToSelf());
    EXPECT_EQ(name, row.name);  // identity queries report the client at every level
    EXPECT_EQ(open_error, row.token_error);
    if (opened) {
      EXPECT_EQ(view_token(token).user, "S-1-22-1-" + std::to_string(row.client_uid));
      EXPECT_EQ(view_token(token).level, SecurityIdentification);
      CloseHandle(token);
    }

    EXPECT_EQ(ids.uid, 0u);
    ASSERT_TRUE(marked);
    EXPECT_EQ(marked->level, row.level);
    EXPECT_EQ(marked->client.uid, row.client_uid);
    EXPECT_FALSE(marked->acts_as_client);
    EXPECT_EQ(refused, static_cast<DWORD>(ERROR_BAD_IMPERSONATION_LEVEL));
    EXPECT_FALSE(sluice::Impersonation::current());
    EXPECT_EQ(open_secret(), 0u);
    finish_client();
  }
}

TEST_F(Win32Impersonation, ASecondImpersonationReplacesTheFirstAndOneRevertEndsIt) {
  connect_carol(0);
  ASSERT_TRUE(ImpersonateNamedPipeClient(server_)) << GetLastError();
  ASSERT_TRUE(ImpersonateNamedPipeClient(server_)) << GetLastError();
  EXPECT_EQ(thread_ids().uid, kCarol.uid);
  ASSERT_TRUE(RevertToSelf());
  EXPECT_EQ(thread_ids().uid, 0u);
  EXPECT_EQ(open_secret(), 0u);
}

// CreateFile's SQOS flags as the server sees them ("Impersonation Levels"), in one process.
TEST(Win32Sqos, CreateFileFlagsReachTheServerAsTheClientsQualityOfService) {
  struct Row {
    DWORD flags;
    sluice::ImpersonationLevel level;
    bool dynamic;
    bool effective_only;
  };
  using L = sluice::ImpersonationLevel;
  const Row rows[] = {
      {0, L::kImpersonation, true, true},  // no SQOS: Windows' defaults
      {SECURITY_SQOS_PRESENT, L::kAnonymous, false, false},
      {SECURITY_SQOS_PRESENT | SECURITY_IDENTIFICATION, L::kIdentification, false, false},
      {SECURITY_SQOS_PRESENT | SECURITY_IMPERSONATION | SECURITY_CONTEXT_TRACKING,
       L::kImpersonation, true, false},
      {SECURITY_SQOS_PRESENT | SECURITY_DELEGATION | SECURITY_EFFECTIVE_ONLY, L::kDelegation, false,
       true},
      // Without SECURITY_SQOS_PRESENT the level bits mean nothing.
      {SECURITY_IDENTIFICATION, L::kImpersonation, true, true},
  };
  for (const Row& row : rows) {
    std::string name = unique_pipe_name(std::to_string(row.flags).c_str());
    HANDLE server =
        CreateNamedPipeA(name.c_str(), PIPE_ACCESS_DUPLEX, PIPE_TYPE_BYTE, 1, 0, 0, 0, nullptr);
    ASSERT_NE(server, INVALID_HANDLE_VALUE) << GetLastError();
    HANDLE client = CreateFileA(name.c_str(), GENERIC_READ | GENERIC_WRITE, 0, nullptr,
                                OPEN_EXISTING, row.flags, nullptr);
    ASSERT_NE(client, INVALID_HANDLE_VALUE) << GetLastError();
    auto object = sluice::win32::globals().handles.get(server);
    ASSERT_TRUE(object);
    auto creds = static_cast<sluice::win32::NamedPipeObject&>(*object).end().client_credentials();
    ASSERT_TRUE(creds);
    EXPECT_EQ(creds->qos.level, row.level) << std::hex << row.flags;
    EXPECT_EQ(creds->qos.dynamic_tracking, row.dynamic) << std::hex << row.flags;
    EXPECT_EQ(creds->qos.effective_only, row.effective_only) << std::hex << row.flags;
    CloseHandle(client);
    CloseHandle(server);
  }
}

TEST(Win32UserName, ASmallBufferGetsTheSizeNeededAndNoBufferIsAnError) {
  char name[256];
  DWORD size = sizeof name;
  ASSERT_TRUE(GetUserNameA(name, &size)) << GetLastError();
  DWORD needed = size;  // with the terminator
  EXPECT_EQ(std::strlen(name) + 1, needed);
  char small[1];
  size = 1;
  SetLastError(0);
  EXPECT_FALSE(GetUserNameA(small, &size));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INSUFFICIENT_BUFFER));
  EXPECT_EQ(size, needed);
  SetLastError(0);
  EXPECT_FALSE(GetUserNameA(name, nullptr));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_PARAMETER));
}

// Token calls pinned by a table: call, return, last error (no impersonation needed).
TEST(Win32Tokens, TheProcessTokenAndTheErrorsOfTheTokenCalls) {
  HANDLE token = nullptr;
  ASSERT_TRUE(OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &token)) << GetLastError();
  EXPECT_EQ(view_token(token).user, "S-1-22-1-" + std::to_string(::geteuid()));
  HANDLE unqueryable = nullptr;
  ASSERT_TRUE(OpenProcessToken(GetCurrentProcess(), TOKEN_DUPLICATE, &unqueryable));
  HANDLE none = nullptr;
  BYTE small[4];
  TOKEN_TYPE type{};
  DWORD size = 0;
  auto row = [](BOOL ok) { return ok ? DWORD{0} : GetLastError(); };
  // A value asked for with a short buffer, a block asked for with none, and the sizes given.
  EXPECT_EQ(row(GetTokenInformation(token, TokenType, small, 2, &size)),
            static_cast<DWORD>(ERROR_BAD_LENGTH));
  EXPECT_EQ(size, sizeof(TOKEN_TYPE));
  EXPECT_EQ(row(GetTokenInformation(token, TokenType, &type, sizeof type, &size)), 0u);
  EXPECT_EQ(type, TokenPrimary);
  EXPECT_EQ(row(GetTokenInformation(token, TokenUser, nullptr, 0, &size)),
            static_cast<DWORD>(ERROR_INSUFFICIENT_BUFFER));
  EXPECT_EQ(size, sizeof(TOKEN_USER) + 16u);  // S-1-22-1-uid: 8 bytes and 2 sub-authorities
  EXPECT_EQ(row(GetTokenInformation(token, TokenImpersonationLevel, small, 4, &size)),
            static_cast<DWORD>(ERROR_INVALID_PARAMETER));
  EXPECT_EQ(row(GetTokenInformation(token, TokenPrivileges, small, 4, &size)),
            static_cast<DWORD>(ERROR_NOT_SUPPORTED));
  EXPECT_EQ(row(GetTokenInformation(token, MaxTokenInfoClass, small, 4, &size)),
            static_cast<DWORD>(ERROR_INVALID_PARAMETER));
  EXPECT_EQ(row(GetTokenInformation(unqueryable, TokenUser, nullptr, 0, &size)),
            static_cast<DWORD>(ERROR_ACCESS_DENIED));
  EXPECT_EQ(row(GetTokenInformation(GetCurrentProcess(), TokenUser, nullptr, 0, &size)),
            static_cast<DWORD>(ERROR_INVALID_HANDLE));
  EXPECT_EQ(row(OpenThreadToken(GetCurrentThread(), TOKEN_QUERY, FALSE, &none)),
            static_cast<DWORD>(ERROR_NO_TOKEN));
  EXPECT_EQ(row(OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, nullptr)),
            static_cast<DWORD>(ERROR_NOACCESS));
  EXPECT_TRUE(CloseHandle(token));
  EXPECT_TRUE(CloseHandle(unqueryable));
}

}  // namespace
