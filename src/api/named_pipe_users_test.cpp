// Named pipes across users: the descriptor checked with the kernel's credentials of real
// processes running as other uids (root runs the test; skipped, saying why, otherwise).
#include <gtest/gtest.h>
#include <unistd.h>

#include "helper_process.hpp"
#include "other_user.hpp"
#include "pipe_fixture.hpp"
#include "sluice/named_pipe.hpp"

namespace sluice {
namespace {

using namespace std::chrono_literals;
using testing::kAlice;
using testing::kBob;
using testing::kCarol;
using testing::kStaffGroup;
using testing::spawn_helper_as;

std::uint32_t access_from(const std::string& text) {
  std::uint32_t access = 0;
  if (text.find('r') != std::string::npos) access |= rights::kRead;
  if (text.find('w') != std::string::npos) access |= rights::kWrite;
  return access;
}

// args: directory, pipe name, "r" / "w" / "rw" / "-". Runs the documented client loop (open;
// on busy, wait for an instance; again) for at most 5 s and exits with the Win32 error it
// ended with (0: opened, and the server's "hello" arrived when reading was asked for).
SLUICE_TEST_HELPER(client_loop) {
  auto reg = Registry::open(args.at(0));
  if (!reg) return 100;
  ClientOptions options;
  options.desired_access = access_from(args.at(2));
  auto deadline = std::chrono::steady_clock::now() + 5s;
  auto c = ClientEnd::open(*reg, args.at(1), options);
  while (!c && c.error() == errc::kPipeBusy && std::chrono::steady_clock::now() < deadline) {
    (void)wait_for_instance(*reg, args.at(1), 1000ms);
    c = ClientEnd::open(*reg, args.at(1), options);
  }
  if (!c) return c.error().value();
  if (options.desired_access & rights::kReadData) {
    std::byte buf[16];
    auto got = c->read(buf);
    if (!got) return 101;
    if (testing::text(std::span(buf, got->bytes)) != "hello") return 102;
  }
  return 0;
}

class NamedPipeUsers : public testing::MultiUserPipeTest {
 protected:
  // Runs the client loop as `user` against a fresh instance that greets its client; the
  // helper's exit status (0 or a Win32 error).
  int open_as(const testing::TestUser& user, const SecurityDescriptor& security,
              const std::string& access) {
    ServerOptions options;
    options.security = security;
    auto server = ServerEnd::create(registry(), pipe_name(), options);
    if (!server) {
      ADD_FAILURE() << server.error().message();
      return -1;
    }
    auto child = spawn_helper_as(user, "client_loop", {directory(), pipe_name(), access});
    if (!child) {
      ADD_FAILURE() << child.error().message();
      return -1;
    }
    testing::KillOnExit reap(*child);
    // One thread serves: greet the client once it connects, or stop when it is gone (a
    // refused client never connects).
    Result<int> status = errc::kWaitTimeout;
    auto deadline = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < deadline) {
      if (server->connect_for(50ms)) {
        (void)server->write(testing::bytes("hello"));
        status = child->wait(20s);
        break;
      }
      status = child->wait(0ms);
      if (status || status.error() != errc::kWaitTimeout) break;
    }
    if (!status) {
      ADD_FAILURE() << "helper: " << status.error().message();
      return -1;
    }
    return *status;
  }
};

constexpr int kDenied = static_cast<int>(errc::kAccessDenied);

TEST_F(NamedPipeUsers, TheCppDefaultKeepsOtherUsersOutAtOnce) {
  SLUICE_SKIP_UNLESS_ROOT();
  EXPECT_EQ(open_as(kAlice, ServerOptions{}.security, "r"), kDenied);
  EXPECT_EQ(open_as(kAlice, ServerOptions{}.security, "-"), kDenied);
}

TEST_F(NamedPipeUsers, WindowsDefaultLetsAnotherUserReadButNotWrite) {
  SLUICE_SKIP_UNLESS_ROOT();
  auto sd = SecurityDescriptor::windows_default();
  EXPECT_EQ(open_as(kAlice, sd, "r"), 0);
  // Refused at once: the documented client loop ends instead of waiting on a busy pipe.
  EXPECT_EQ(open_as(kAlice, sd, "rw"), kDenied);
  EXPECT_EQ(open_as(kAlice, sd, "w"), kDenied);
}

TEST_F(NamedPipeUsers, ANullDaclLetsEveryUserInForEverything) {
  SLUICE_SKIP_UNLESS_ROOT();
  EXPECT_EQ(open_as(kBob, SecurityDescriptor::unrestricted(), "rw"), 0);
}

TEST_F(NamedPipeUsers, AGrantToAGroupLetsItsMembersInAndNobodyElse) {
  SLUICE_SKIP_UNLESS_ROOT();
  auto sd = SecurityDescriptor::owner_only().allow(Trustee::group(kStaffGroup),
                                                   rights::kRead | rights::kWrite);
  EXPECT_EQ(open_as(kCarol, sd, "rw"), 0);  // staff as a supplementary group (SO_PEERGROUPS)
  EXPECT_EQ(open_as(kAlice, sd, "rw"), kDenied);
}

TEST_F(NamedPipeUsers, AWriteGrantWithoutTheRightToAddInstancesAdmitsGenericWriteClients) {
  SLUICE_SKIP_UNLESS_ROOT();
  // Microsoft's advice for a pipe others may write: FILE_GENERIC_WRITE without
  // FILE_CREATE_PIPE_INSTANCE. A client's GENERIC_WRITE never asks for that bit.
  auto sd = SecurityDescriptor::owner_only().allow(
      Trustee::everyone(), rights::kRead | (rights::kWrite & ~rights::kCreatePipeInstance));
  EXPECT_EQ(open_as(kAlice, sd, "rw"), 0);
}

TEST_F(NamedPipeUsers, ADenyForOneUserWinsOverALaterGrantToEveryone) {
  SLUICE_SKIP_UNLESS_ROOT();
  auto sd = SecurityDescriptor::owner_only()
                .deny(Trustee::user(kBob.uid), rights::kWriteData)
                .allow(Trustee::everyone(), rights::kRead | rights::kWrite);
  EXPECT_EQ(open_as(kBob, sd, "rw"), kDenied);
  EXPECT_EQ(open_as(kBob, sd, "r"), 0);
  EXPECT_EQ(open_as(kAlice, sd, "rw"), 0);
}

TEST_F(NamedPipeUsers, TheServerSeesTheClientsUidGidAndGroups) {
  SLUICE_SKIP_UNLESS_ROOT();
  ServerOptions options;
  options.security = SecurityDescriptor::unrestricted();
  auto server = ServerEnd::create(registry(), pipe_name(), options).value();
  auto child = spawn_helper_as(kCarol, "client_loop", {directory(), pipe_name(), "r"}).value();
  testing::KillOnExit reap(child);
  ASSERT_TRUE(server.connect_for(10s));
  auto who = server.client_credentials().value();
  EXPECT_EQ(who.uid, kCarol.uid);
  EXPECT_EQ(who.gid, kCarol.gid);
  EXPECT_EQ(who.groups, std::vector<std::uint32_t>{kStaffGroup});
  EXPECT_EQ(who.qos.level, ImpersonationLevel::kImpersonation);
  ASSERT_TRUE(server.write(testing::bytes("hello")));
  EXPECT_EQ(child.wait(10s).value(), 0);
}

}  // namespace
}  // namespace sluice
