// sluice::Impersonation with real users: a root server acting as Carol (uid 1003, group 1500),
// and a server running as Alice that may not switch. The thread's ids are read back from the
// kernel (/proc/thread-self/status).
#include "sluice/impersonation.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <future>
#include <optional>
#include <thread>

#include "helper_process.hpp"
#include "other_user.hpp"
#include "pipe_fixture.hpp"
#include "sluice/accounts.hpp"
#include "sluice/anonymous_pipe.hpp"
#include "sluice/event.hpp"
#include "sluice/named_pipe.hpp"
#include "thread_ids.hpp"

namespace sluice {
namespace {

using namespace std::chrono_literals;
using testing::kAlice;
using testing::kCarol;
using testing::kStaffGroup;

using testing::KernelIds;
using testing::thread_ids;

// Exits 0 when it runs as root without the staff group (the process's identity, not Carol's).
SLUICE_TEST_HELPER(runs_as_root) {
  KernelIds ids = thread_ids();
  bool staff = std::find(ids.groups.begin(), ids.groups.end(), kStaffGroup) != ids.groups.end();
  return ids.uid == 0 && !staff ? 0 : 1;
}

// args: directory, pipe name. A server (run as a non-root user) that impersonates its first
// client; says "r" on stdout once the instance exists. Exits with the level it got, plus 10 if
// it acts as the client, plus 20 if its thread's uid changed; 100+ on errors.
SLUICE_TEST_HELPER(impersonating_server) {
  auto reg = Registry::open(args.at(0));
  if (!reg) return 100;
  ServerOptions options;
  options.security = SecurityDescriptor::unrestricted();
  auto server = ServerEnd::create(*reg, args.at(1), options);
  if (!server) return 101;
  if (::write(1, "r", 1) != 1) return 102;
  if (!server->connect_for(10s)) return 103;
  std::uint32_t own = thread_ids().uid;
  auto as_client = Impersonation::of(*server);
  if (!as_client) return 104;
  int code = static_cast<int>(as_client->level());
  if (as_client->acts_as_client()) code += 10;
  if (thread_ids().uid != own) code += 20;
  return code;
}

class Impersonating : public testing::MultiUserPipeTest {
 protected:
  // An instance anyone may open, connected to Carol's client (`carol`, which reads one
  // greeting and exits).
  ServerEnd server_for_carol() {
    ServerOptions options;
    options.security = SecurityDescriptor::unrestricted();
    auto server = ServerEnd::create(registry(), pipe_name(), options).value();
    carol.emplace(
        testing::spawn_helper_as(kCarol, "client_loop", {directory(), pipe_name(), "r"}).value());
    EXPECT_TRUE(server.connect_for(10s));
    return server;
  }
  void TearDown() override {
    if (carol) {  // a failed test must not leave the helper running
      (void)carol->kill();
      (void)carol->wait(5s);
      carol.reset();
    }
    MultiUserPipeTest::TearDown();
  }
  std::optional<Process> carol;
};

TEST_F(Impersonating, TheGuardActsAsTheClientUntilItEndsAndChildrenStillStartAsTheProcess) {
  SLUICE_SKIP_UNLESS_ROOT();
  ServerEnd server = server_for_carol();
  ASSERT_FALSE(HasFailure());

  KernelIds during;
  Result<int> spawned_child = errc::kInvalidHandle;
  std::error_code second;
  ImpersonationLevel level = ImpersonationLevel::kAnonymous;
  bool acts = false;
  std::error_code in_scope;
  {
    // Inside a ProcessIdentityScope the thread must stay itself: refused, not downgraded.
    ProcessIdentityScope as_process;
    auto refused = Impersonation::of(server);
    if (!refused) in_scope = refused.error();
  }
  {
    auto as_client = Impersonation::of(server);
    ASSERT_TRUE(as_client) << as_client.error().message();
    level = as_client->level();
    acts = as_client->acts_as_client();
    during = thread_ids();
    auto helper = testing::spawn_helper("runs_as_root");
    if (helper) spawned_child = helper->wait(10s);
    auto again = Impersonation::of(server);
    if (!again) second = again.error();
  }
  KernelIds after = thread_ids();
  ASSERT_TRUE(server.write(testing::bytes("hello")));
  EXPECT_EQ(carol->wait(10s).value_or(-1), 0);

  EXPECT_EQ(level, ImpersonationLevel::kImpersonation);
  EXPECT_TRUE(acts);
  EXPECT_EQ(during.uid, kCarol.uid);
  EXPECT_EQ(during.groups, std::vector<std::uint32_t>{kStaffGroup});
  EXPECT_EQ(spawned_child.value_or(-1), 0);     // Process::spawn started it as root
  EXPECT_EQ(second, errc::kCannotImpersonate);  // one impersonation per thread
  EXPECT_EQ(in_scope, errc::kCannotImpersonate);
  EXPECT_EQ(after.uid, 0u);
  EXPECT_FALSE(Impersonation::current());
}

// Made first in its thread, so destroyed last: sees what the thread's exit left.
struct ExitProbe {
  std::promise<KernelIds>* at_exit = nullptr;
  ~ExitProbe() {
    if (at_exit) at_exit->set_value(thread_ids());
  }
};

TEST_F(Impersonating, AGuardKeptInAThreadLocalOutlivingTheSwitchStateEndsQuietlyAtThreadExit) {
  SLUICE_SKIP_UNLESS_ROOT();
  ServerEnd server = server_for_carol();
  ASSERT_FALSE(HasFailure());
  std::promise<KernelIds> at_exit;
  KernelIds during;
  std::thread([&] {
    thread_local ExitProbe probe;
    probe.at_exit = &at_exit;
    (void)Impersonation::current();  // the impersonation state exists before the guard's home
    thread_local std::optional<Impersonation> kept;
    auto as_client = Impersonation::of(server);
    if (as_client) kept = std::move(*as_client);
    during = thread_ids();
  }).join();  // exits impersonating: the switch state goes first, then `kept`
  KernelIds last = at_exit.get_future().get();
  ASSERT_TRUE(server.write(testing::bytes("hello")));
  EXPECT_EQ(carol->wait(10s).value_or(-1), 0);
  EXPECT_EQ(during.uid, kCarol.uid);
  EXPECT_EQ(last.uid, 0u);
  EXPECT_TRUE(last.groups != std::vector<std::uint32_t>{kStaffGroup});
}

TEST_F(Impersonating, AServerThatMayNotSwitchGetsIdentificationLevelAndKeepsItsIds) {
  SLUICE_SKIP_UNLESS_ROOT();
  auto ready = AnonymousPipe::create().value();
  SpawnOptions base;
  base.stdout_fd = ready.write.native_handle();
  auto server =
      testing::spawn_helper_as(kAlice, "impersonating_server", {directory(), pipe_name()}, base)
          .value();
  testing::KillOnExit reap(server);
  ready.write.close();
  std::byte r[1];
  auto got = ready.read.read(r);
  ASSERT_TRUE(got && *got == 1) << "the server helper did not start";
  auto client = ClientEnd::open(registry(), pipe_name());  // root, impersonation level asked
  ASSERT_TRUE(client) << client.error().message();
  // Identification level, not acting as root, uid unchanged.
  EXPECT_EQ(server.wait(10s).value_or(-1), static_cast<int>(ImpersonationLevel::kIdentification));
}

TEST_F(Impersonating, TheThreadsCurrentIdsAreTheClientsWhileTheProcessIdentityStaysItsOwn) {
  SLUICE_SKIP_UNLESS_ROOT();
  ServerEnd server = server_for_carol();
  ASSERT_FALSE(HasFailure());
  KernelIds before = thread_ids();
  std::uint32_t uid_during = 0, gid_during = 0;
  Result<Identity> process_during = errc::kInvalidHandle;
  {
    auto as_client = Impersonation::of(server);
    ASSERT_TRUE(as_client) << as_client.error().message();
    uid_during = current_user_id();
    gid_during = current_group_id();
    process_during = process_identity();
  }
  KernelIds after = thread_ids();
  ASSERT_TRUE(server.write(testing::bytes("hello")));
  EXPECT_EQ(carol->wait(10s).value_or(-1), 0);

  EXPECT_EQ(uid_during, kCarol.uid);
  EXPECT_EQ(gid_during, kCarol.gid);
  ASSERT_TRUE(process_during) << process_during.error().message();
  EXPECT_EQ(process_during->uid, before.uid);
  EXPECT_EQ(process_during->gid, before.gid);
  EXPECT_EQ(process_during->groups, before.groups);
  EXPECT_EQ(after, before);  // process_identity() left the impersonation as it found it
  EXPECT_EQ(current_user_id(), before.uid);
}

TEST(ProcessIdentity, IsTheThreadsOwnIdsOutsideAnImpersonation) {
  auto own = process_identity();
  ASSERT_TRUE(own) << own.error().message();
  KernelIds ids = thread_ids();
  EXPECT_EQ(own->uid, ids.uid);
  EXPECT_EQ(own->gid, ids.gid);
  EXPECT_EQ(own->groups, ids.groups);
}

TEST_F(Impersonating, AnEndWithoutAClientCannotBeImpersonated) {
  auto server = ServerEnd::create(registry(), pipe_name()).value();
  auto as_client = Impersonation::of(server);
  ASSERT_FALSE(as_client);
  EXPECT_EQ(as_client.error(), errc::kNotFound);
  EXPECT_EQ(Impersonation::of(ServerEnd{}).error(), errc::kInvalidHandle);
  EXPECT_FALSE(Impersonation::current());
}

}  // namespace
}  // namespace sluice

namespace sluice {
namespace {

// uid of `path`, or -1.
long owner_of(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<long>(st.st_uid) : -1;
}

// The folders named events share are the namespace's, not the first creator's: a thread that
// makes the first named event while it acts as a client must not hand them to that client
// (who could then lock every other user out of named events).
TEST_F(Impersonating, ANamedEventMadeWhileImpersonatingLeavesTheSharedFoldersToTheProcess) {
  SLUICE_SKIP_UNLESS_ROOT();
  ASSERT_EQ(owner_of(directory() + "/events"), -1) << "the namespace is not fresh";
  ServerEnd server = server_for_carol();
  ASSERT_FALSE(HasFailure());
  Result<Event> made = errc::kInvalidHandle;
  {
    auto as_client = Impersonation::of(server);
    ASSERT_TRUE(as_client) << as_client.error().message();
    made = Event::create(registry(), "Global\\made-as-carol");
  }
  ASSERT_TRUE(server.write(testing::bytes("hello")));
  EXPECT_EQ(carol->wait(10s).value_or(-1), 0);
  ASSERT_TRUE(made) << made.error().message();
  EXPECT_EQ(owner_of(directory() + "/events"), 0);
  EXPECT_EQ(owner_of(directory() + "/events/global"), 0);
}

}  // namespace
}  // namespace sluice
