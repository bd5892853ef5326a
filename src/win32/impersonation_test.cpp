// ImpersonateNamedPipeClient and RevertToSelf with real users: root serves, a helper running as
// Carol (uid 1003, supplementary group 1500) is the client. What the thread is, is read back
// from the kernel (/proc/thread-self/status), never from sluice's own bookkeeping.
#include <windows.h>

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

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
  ASSERT_TRUE(RevertToSelf());
  KernelIds after = thread_ids();
  EXPECT_EQ(name_as_client, "1003");  // Carol has no entry in the user database
  EXPECT_EQ(user_name(), "root");

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
  BOOL started = CreateProcessA(nullptr, line, nullptr, nullptr, TRUE, 0, nullptr, nullptr, &si,
                                &pi);
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
  };
  const Row rows[] = {
      {SECURITY_SQOS_PRESENT | SECURITY_IDENTIFICATION, sluice::ImpersonationLevel::kIdentification,
       kCarol.uid, "1003"},
      {SECURITY_SQOS_PRESENT | SECURITY_ANONYMOUS, sluice::ImpersonationLevel::kAnonymous, 65534u,
       "nobody"},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.flags);
    connect_carol(row.flags);
    ASSERT_TRUE(ImpersonateNamedPipeClient(server_)) << GetLastError();
    KernelIds ids = thread_ids();
    auto marked = sluice::Impersonation::current();
    DWORD refused = open_secret();
    std::string name = user_name();
    ASSERT_TRUE(RevertToSelf());
    EXPECT_EQ(name, row.name);  // identity queries report the client at every level

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

// CreateFile's SQOS flags as the server sees them (spec/security.md A4.1), in one process.
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
      {SECURITY_SQOS_PRESENT | SECURITY_DELEGATION | SECURITY_EFFECTIVE_ONLY, L::kDelegation,
       false, true},
      // Without SECURITY_SQOS_PRESENT the level bits mean nothing.
      {SECURITY_IDENTIFICATION, L::kImpersonation, true, true},
  };
  for (const Row& row : rows) {
    std::string name = unique_pipe_name(std::to_string(row.flags).c_str());
    HANDLE server = CreateNamedPipeA(name.c_str(), PIPE_ACCESS_DUPLEX, PIPE_TYPE_BYTE, 1, 0, 0, 0,
                                     nullptr);
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

}  // namespace
