// Handing pipe ends to other running processes (sluice/transfer.hpp), with real processes.
#include "sluice/transfer.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <future>
#include <string>
#include <vector>

#include "helper_process.hpp"
#include "objects/inbox.hpp"
#include "other_user.hpp"
#include "pipe_fixture.hpp"
#include "sluice/anonymous_pipe.hpp"
#include "sluice/process.hpp"
#include "sluice/registry.hpp"

namespace sluice {
namespace {

using namespace std::chrono_literals;
using testing::KillOnExit;

// args: directory, what to expect. Opens its inbox, takes the next object and uses it:
//   "server": a connected server end: reads the client's "hello", answers "hello back";
//   "anon-write": a write end of an anonymous pipe: writes "via the inbox";
//   "nothing": nothing may arrive within 3 s.
SLUICE_TEST_HELPER(transfer_receiver) {
  auto reg = Registry::open(args.at(0));
  if (!reg) return 10;
  if (!open_inbox(*reg)) return 11;
  const std::string& mode = args.at(1);
  if (mode == "nothing") {
    auto got = receive_from_inbox(3s);
    return !got && got.error() == errc::kWaitTimeout ? 0 : 12;
  }
  auto got = receive_from_inbox(20s);
  if (!got) return 13;
  if (got->sender_pid != static_cast<std::uint32_t>(::getppid())) return 14;
  if (mode == "server") {
    if (got->kind != TransferKind::kServerEnd) return 15;
    auto end = take_from_inbox<ServerEnd>(got->token);
    if (!end) return 16;
    std::byte buf[16];
    auto r = end->read(buf);
    if (!r || testing::text(std::span(buf, r->bytes)) != "hello") return 17;
    if (!end->write(testing::bytes("hello back"))) return 18;
    if (!end->flush()) return 19;
    return 0;
  }
  if (mode == "anon-write") {
    if (got->kind != TransferKind::kAnonWriteEnd) return 20;
    auto end = take_from_inbox<AnonWriteEnd>(got->token);
    if (!end) return 21;
    if (!end->write(testing::bytes("via the inbox"))) return 22;
    return 0;
  }
  return 99;
}

// args: target pid. As another user: sending to the target must be refused before anything
// is sent.
SLUICE_TEST_HELPER(transfer_sender_refused) {
  auto pipe = AnonymousPipe::create();
  if (!pipe) return 10;
  auto token = send_to_process(static_cast<std::uint32_t>(std::stoul(args.at(0))),
                               std::move(pipe->write), 2s);
  if (token) return 11;
  if (token.error() != errc::kAccessDenied) return 12;
  if (!pipe->write.is_open()) return 13;  // a failed send leaves the end here
  return 0;
}

// The process's inbox lives as long as the process: it starts before the fixture counts the
// descriptors it checks for leaks.
class Transfer : public testing::PipeTest {
 protected:
  void SetUp() override {
    ASSERT_TRUE(objects::start_inbox());
    PipeTest::SetUp();
  }
};

TEST_F(Transfer, AServerHandsAConnectedEndToAnotherProcessThatTalksOnIt) {
  auto server = ServerEnd::create(registry(), pipe_name());
  ASSERT_TRUE(server) << server.error().message();
  auto client = ClientEnd::open(registry(), pipe_name());
  ASSERT_TRUE(client) << client.error().message();
  ASSERT_TRUE(server->connect());
  auto child = testing::spawn_helper("transfer_receiver", {directory(), "server"});
  ASSERT_TRUE(child) << child.error().message();
  KillOnExit kill(*child);

  // The receiver may not have opened its inbox yet: the send waits for it.
  auto token = send_to_process(child->pid(), std::move(*server), 20s);
  ASSERT_TRUE(token) << token.error().message();
  EXPECT_NE(*token, 0u);
  EXPECT_FALSE(server->is_open());  // handed over: closed here

  ASSERT_TRUE(client->write(testing::bytes("hello")));
  std::byte buf[32];
  auto r = client->read(buf);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(testing::text(std::span(buf, r->bytes)), "hello back");
  EXPECT_EQ(child->wait(20s).value_or(-1), 0);
  // Its last holder has gone with the process: the client sees the end closed.
  auto after = client->read(buf);
  ASSERT_FALSE(after);
  EXPECT_EQ(after.error(), errc::kBrokenPipe);
}

TEST_F(Transfer, AnAnonymousWriteEndReachesAnotherProcess) {
  auto pipe = AnonymousPipe::create();
  ASSERT_TRUE(pipe);
  auto child = testing::spawn_helper("transfer_receiver", {directory(), "anon-write"});
  ASSERT_TRUE(child) << child.error().message();
  KillOnExit kill(*child);
  auto token = send_to_process(child->pid(), std::move(pipe->write), 20s);
  ASSERT_TRUE(token) << token.error().message();
  EXPECT_FALSE(pipe->write.is_open());
  EXPECT_EQ(child->wait(20s).value_or(-1), 0);
  // The child wrote and exited: the only write end was its.
  std::string all;
  std::byte buf[64];
  for (;;) {
    auto n = pipe->read.read(buf);
    if (!n) {
      EXPECT_EQ(n.error(), errc::kBrokenPipe);
      break;
    }
    all += testing::text(std::span(buf, *n));
  }
  EXPECT_EQ(all, "via the inbox");
}

TEST_F(Transfer, AProcessWithoutAnInboxIsNotSupportedAfterThePatience) {
  auto child = Process::spawn({{"sleep", "30"}});
  ASSERT_TRUE(child) << child.error().message();
  KillOnExit kill(*child);
  auto pipe = AnonymousPipe::create();
  ASSERT_TRUE(pipe);
  auto token = send_to_process(child->pid(), std::move(pipe->write), 300ms);
  ASSERT_FALSE(token);
  EXPECT_EQ(token.error(), errc::kNotSupported);
  EXPECT_TRUE(pipe->write.is_open());
}

TEST_F(Transfer, AProcessThatIsGoneOrAClosedEndIsInvalidParameter) {
  auto child = Process::spawn({{"true"}});
  ASSERT_TRUE(child);
  ASSERT_EQ(child->wait(10s).value_or(-1), 0);  // reaped: its pid names nothing now
  auto pipe = AnonymousPipe::create();
  ASSERT_TRUE(pipe);
  auto token = send_to_process(child->pid(), std::move(pipe->write), 100ms);
  ASSERT_FALSE(token);
  EXPECT_EQ(token.error(), errc::kInvalidParameter);
  AnonReadEnd closed;
  token = send_to_process(current_process_id(), std::move(closed), 100ms);
  ASSERT_FALSE(token);
  EXPECT_EQ(token.error(), errc::kInvalidParameter);
}

// In one process (its own inbox): a token names one object of one kind, taken once.
TEST_F(Transfer, ATokenIsTakenOnceAndOnlyAsItsKind) {
  ASSERT_TRUE(open_inbox(registry()));
  auto pipe = AnonymousPipe::create();
  ASSERT_TRUE(pipe);
  auto token = send_to_process(current_process_id(), std::move(pipe->write), 5s);
  ASSERT_TRUE(token) << token.error().message();

  auto wrong = take_from_inbox<AnonReadEnd>(*token);
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error(), errc::kInvalidHandle);
  EXPECT_EQ(take_from_inbox<AnonWriteEnd>(*token + 1000).error(), errc::kInvalidHandle);
  auto got = receive_from_inbox(5s);
  ASSERT_TRUE(got) << got.error().message();
  EXPECT_EQ(got->token, *token);
  EXPECT_EQ(got->kind, TransferKind::kAnonWriteEnd);
  EXPECT_EQ(got->sender_pid, current_process_id());
  auto end = take_from_inbox<AnonWriteEnd>(*token);
  ASSERT_TRUE(end) << end.error().message();
  ASSERT_TRUE(end->write(testing::bytes("x")));
  EXPECT_EQ(take_from_inbox<AnonWriteEnd>(*token).error(), errc::kInvalidHandle);
  EXPECT_EQ(receive_from_inbox(0ms).error(), errc::kWaitTimeout);

  close_inbox();
  EXPECT_EQ(receive_from_inbox(0ms).error(), errc::kInvalidHandle);
  auto another = AnonymousPipe::create();
  ASSERT_TRUE(another);
  auto refused = send_to_process(current_process_id(), std::move(another->write), 1s);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error(), errc::kNotSupported);
  EXPECT_TRUE(another->write.is_open());
}

class TransferUsers : public testing::MultiUserPipeTest {
 protected:
  void SetUp() override {
    ASSERT_TRUE(objects::start_inbox());
    MultiUserPipeTest::SetUp();
  }
};

// Same user only, as DuplicateHandle needs PROCESS_DUP_HANDLE on the target: another user's
// process cannot send into ours, and cannot be sent to.
TEST_F(TransferUsers, AnotherUsersProcessCannotSendToUsNorBeSentTo) {
  SLUICE_SKIP_UNLESS_ROOT();
  ASSERT_TRUE(open_inbox(registry()));
  // Alice (uid 1001) sends to us (root).
  auto alice = testing::spawn_helper_as(testing::kAlice, "transfer_sender_refused",
                                        {std::to_string(current_process_id())});
  ASSERT_TRUE(alice) << alice.error().message();
  KillOnExit kill_alice(*alice);
  EXPECT_EQ(alice->wait(20s).value_or(-1), 0);
  auto got = receive_from_inbox(0ms);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error(), errc::kWaitTimeout);

  // Bob (1002) sends to Alice's process, which has an inbox open.
  auto receiver =
      testing::spawn_helper_as(testing::kAlice, "transfer_receiver", {directory(), "nothing"});
  ASSERT_TRUE(receiver) << receiver.error().message();
  KillOnExit kill_receiver(*receiver);
  auto bob = testing::spawn_helper_as(testing::kBob, "transfer_sender_refused",
                                      {std::to_string(receiver->pid())});
  ASSERT_TRUE(bob) << bob.error().message();
  KillOnExit kill_bob(*bob);
  EXPECT_EQ(bob->wait(20s).value_or(-1), 0);
  EXPECT_EQ(receiver->wait(20s).value_or(-1), 0);  // nothing arrived
}

}  // namespace
}  // namespace sluice
