// Per-thread credential switches, read back from the kernel (/proc/thread-self/status). Root
// only: switching to another uid needs CAP_SETUID and CAP_SETGID.
#include "os/linux/thread_credentials.hpp"

#include <gtest/gtest.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <future>
#include <string>
#include <thread>

#include "thread_ids.hpp"

namespace sluice::os {
namespace {

using testing::KernelIds;
using testing::thread_ids;

const KernelIds kSomeone{1001, 1001, {1500}};

#define SKIP_UNLESS_ROOT() \
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (CAP_SETUID, CAP_SETGID) to switch"

TEST(ThreadCredentials, ActingAsSomeoneChangesTheCallingThreadAloneAndEndsCleanly) {
  SKIP_UNLESS_ROOT();
  KernelIds main_before = thread_ids();
  KernelIds during, after, main_during;
  std::promise<void> switched, looked;
  std::thread worker([&] {
    ASSERT_TRUE(act_as(kSomeone.uid, kSomeone.gid, kSomeone.groups));
    during = thread_ids();
    switched.set_value();
    looked.get_future().wait();
    ASSERT_TRUE(end_acting_as());
    after = thread_ids();
  });
  switched.get_future().wait();
  main_during = thread_ids();
  looked.set_value();
  worker.join();
  EXPECT_EQ(during, kSomeone);
  EXPECT_EQ(main_during, main_before);  // glibc's setresuid would have changed this thread too
  EXPECT_EQ(after, main_before);
}

TEST(ThreadCredentials, ThreadsStartedInsideAnOwnCredentialsScopeStartAsTheProcess) {
  SKIP_UNLESS_ROOT();
  KernelIds own = thread_ids();
  KernelIds inherited, started_as_process, in_scope, after_scope;
  std::thread([&] {
    ASSERT_TRUE(act_as(kSomeone.uid, kSomeone.gid, kSomeone.groups));
    std::thread([&] { inherited = thread_ids(); }).join();  // what the kernel does
    {
      OwnCredentialsScope as_process;
      in_scope = thread_ids();
      std::thread([&] { started_as_process = thread_ids(); }).join();
    }
    after_scope = thread_ids();
    ASSERT_TRUE(end_acting_as());
  }).join();
  EXPECT_EQ(inherited, kSomeone);
  EXPECT_EQ(in_scope, own);
  EXPECT_EQ(started_as_process, own);
  EXPECT_EQ(after_scope, kSomeone);
}

// Made before the thread switches, so destroyed after the switch's own thread-local state.
struct ExitProbe {
  std::promise<KernelIds>* at_exit = nullptr;
  ~ExitProbe() {
    if (at_exit) at_exit->set_value(thread_ids());
  }
};

TEST(ThreadCredentials, AThreadThatEndsActingAsSomeoneIsItselfAgainBeforeItsLastDestructors) {
  SKIP_UNLESS_ROOT();
  KernelIds own = thread_ids();
  std::promise<KernelIds> at_exit;
  std::thread([&] {
    thread_local ExitProbe probe;
    probe.at_exit = &at_exit;
    ASSERT_TRUE(act_as(kSomeone.uid, kSomeone.gid, kSomeone.groups));
  }).join();
  EXPECT_EQ(at_exit.get_future().get(), own);
}

TEST(ThreadCredentials, WithoutThePrivilegeToSwitchNothingChanges) {
  SKIP_UNLESS_ROOT();
  std::error_code refused;
  KernelIds before, after;
  std::thread([&] {
    // Become 1002 for real (no way back in this thread), then try to act as 1001.
    ASSERT_TRUE(switch_thread_credentials(1002, 1002, {}));
    ASSERT_EQ(::syscall(SYS_setresuid, 1002, 1002, 1002), 0);
    before = thread_ids();
    auto acted = act_as(kSomeone.uid, kSomeone.gid, kSomeone.groups);
    if (!acted) refused = acted.error();
    after = thread_ids();
  }).join();
  EXPECT_EQ(refused, errc::kAccessDenied);
  EXPECT_EQ(after, before);
}

}  // namespace
}  // namespace sluice::os
