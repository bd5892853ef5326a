// One pipe end held by several processes (PipeEnd::share() and adopt()): Windows' inherited and
// duplicated handles. Every test uses a real second process that adopts the end.
#include <gtest/gtest.h>
#include <unistd.h>

#include <future>
#include <optional>
#include <thread>

#include "helper_process.hpp"
#include "pipe_fixture.hpp"
#include "sluice/io_context.hpp"
#include "sluice/named_pipe.hpp"

namespace sluice {
namespace {

using namespace std::chrono_literals;
using testing::bytes;
using testing::spawn_helper;
using testing::text;

// args: directory, the end (PortableEnd::to_text()), mode. Adopts the end it was handed and does
// what `mode` says; the exit code tells the parent how far it got.
SLUICE_TEST_HELPER(shared_end_holder) {
  auto reg = Registry::open(args.at(0));
  if (!reg) return 10;
  auto parsed = PortableEnd::from_text(args.at(1));
  if (!parsed) return 9;
  PortableEnd portable = std::move(*parsed);
  const std::string& mode = args.at(2);
  if (mode == "continue-message") {  // a client end whose owner read part of a message
    auto c = ClientEnd::adopt(*reg, std::move(portable));
    if (!c) return 11;
    std::byte buf[64];
    auto r = c->read(buf);
    if (!r || r->more_data) return 12;
    std::string reply = "child read:" + text(std::span(buf, r->bytes));
    if (!c->write(bytes(reply))) return 13;
    if (!c->set_state(ReadMode::kByte, WaitMode::kNoWait)) return 14;
    return 0;
  }
  if (mode == "echo-once") {  // a server end: echo one message, then close it
    auto s = ServerEnd::adopt(*reg, std::move(portable));
    if (!s) return 21;
    std::byte buf[64];
    auto r = s->read(buf);
    if (!r) return 22;
    if (!s->write(std::span(buf, r->bytes))) return 23;
    return 0;
  }
  if (mode == "security") {  // a server end: the name's descriptor and instance count came along
    auto s = ServerEnd::adopt(*reg, std::move(portable));
    if (!s) return 31;
    auto sd = s->security();
    if (!sd || sd->to_text() != args.at(3)) return 32;
    auto state = s->state();
    if (!state || state->current_instances != 1) return 33;
    return 0;
  }
  if (mode == "async-echo") {  // a client end: one asynchronous read, one asynchronous write
    auto c = ClientEnd::adopt(*reg, std::move(portable));
    if (!c) return 41;
    IoContext context;
    std::byte buf[64];
    std::optional<Result<ReadResult>> got;
    if (!c->async_read(buf, context.executor(), [&](Result<ReadResult> r) { got = r; })) return 42;
    if (!c->write(bytes("ready"))) return 43;
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!got && std::chrono::steady_clock::now() < deadline) context.run_one_for(50ms);
    if (!got || !*got) return 44;
    std::string reply = "async:" + text(std::span(buf, (*got)->bytes));
    std::optional<Result<std::size_t>> sent;
    if (!c->async_write(bytes(reply), context.executor(), [&](Result<std::size_t> r) { sent = r; }))
      return 45;
    while (!sent && std::chrono::steady_clock::now() < deadline) context.run_one_for(50ms);
    return sent && *sent ? 0 : 46;
  }
  if (mode == "ready-then-read") {  // a client end: say so, then block in a read until killed
    auto c = ClientEnd::adopt(*reg, std::move(portable));
    if (!c) return 31;
    if (!c->write(bytes("ready"))) return 32;
    std::byte buf[64];
    (void)c->read(buf);
    return 33;
  }
  return 2;
}

class SharedEnd : public testing::PipeTest {
 protected:
  void SetUp() override {
    PipeTest::SetUp();
    ServerOptions o;
    o.type = PipeType::kMessage;
    o.read_mode = ReadMode::kMessage;
    auto s = ServerEnd::create(registry(), pipe_name(), o);
    ASSERT_TRUE(s);
    server = std::move(*s);
    auto c = ClientEnd::open(registry(), pipe_name());
    ASSERT_TRUE(c);
    client = std::move(*c);
    ASSERT_EQ(server.connect().value(), ConnectStatus::kAlreadyConnected);
    ASSERT_TRUE(client.set_state(ReadMode::kMessage, WaitMode::kWait));
  }
  void TearDown() override {
    server.close();
    client.close();
    PipeTest::TearDown();
  }

  // Starts a holder of `end` in a new process; our copies of its descriptors close here.
  Result<Process> hand_over(PortableEnd end, const std::string& mode,
                            const std::string& extra = {}) {
    SpawnOptions options;
    options.pass_descriptors = end.descriptors();
    std::vector<std::string> args = {directory(), end.to_text(), mode};
    if (!extra.empty()) args.push_back(extra);
    return spawn_helper("shared_end_holder", args, std::move(options));
  }

  std::string read_text(PipeEnd& end) {
    std::byte buf[256];
    auto r = end.read(buf);
    if (!r) return "error " + std::to_string(r.error().value());
    return text(std::span(buf, r->bytes));
  }

  ServerEnd server;
  ClientEnd client;
};

TEST_F(SharedEnd, AnotherProcessContinuesAMessageReadInPartAndSeesOneSetOfModes) {
  ASSERT_TRUE(server.write(bytes("hello world")));
  std::byte head[5];
  auto r = client.read(head);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->more_data);
  EXPECT_EQ(text(head), "hello");

  auto portable = client.share();
  ASSERT_TRUE(portable) << portable.error().message();
  auto child = hand_over(std::move(*portable), "continue-message");
  ASSERT_TRUE(child);
  testing::KillOnExit guard(*child);

  ASSERT_EQ(child->wait(10s).value(), 0);
  EXPECT_EQ(read_text(server), "child read: world");  // the rest of the message, not a new one
  // The child changed the end's modes; we hold the same end.
  auto state = client.state();
  ASSERT_TRUE(state);
  EXPECT_EQ(state->read_mode, ReadMode::kByte);
  EXPECT_EQ(state->wait_mode, WaitMode::kNoWait);
  // The child's close was not the end's: the pipe still works both ways.
  ASSERT_TRUE(server.write(bytes("after")));
  EXPECT_EQ(read_text(client), "after");
  ASSERT_TRUE(client.write(bytes("still here")));
  EXPECT_EQ(read_text(server), "still here");
  client.close();
  std::byte buf[8];
  EXPECT_EQ(server.read(buf).error(), errc::kBrokenPipe);
}

TEST_F(SharedEnd, AServerEndInAnotherProcessKnowsItsNamesDescriptorAndInstances) {
  auto expected = server.security().value().to_text();
  auto portable = server.share();
  ASSERT_TRUE(portable) << portable.error().message();
  auto child = hand_over(std::move(*portable), "security", expected).value();
  EXPECT_EQ(child.wait(10s).value(), 0);
}

TEST_F(SharedEnd, TheEndClosesForThePeerOnlyWithItsLastHolder) {
  auto portable = server.share();
  ASSERT_TRUE(portable) << portable.error().message();
  auto child = hand_over(std::move(*portable), "echo-once");
  ASSERT_TRUE(child);
  testing::KillOnExit guard(*child);
  server.close();  // the child still holds the server end

  ASSERT_TRUE(client.write(bytes("ping")));
  ASSERT_EQ(child->wait(10s).value(), 0);
  EXPECT_EQ(read_text(client), "ping");
  std::byte buf[8];
  EXPECT_EQ(client.read(buf).error(), errc::kBrokenPipe);
}

TEST_F(SharedEnd, AHolderKilledInsideABlockingReadLeavesTheEndToTheOthers) {
  auto portable = client.share();
  ASSERT_TRUE(portable);
  auto child = hand_over(std::move(*portable), "ready-then-read");
  ASSERT_TRUE(child);
  testing::KillOnExit guard(*child);
  ASSERT_EQ(read_text(server), "ready");

  // The child blocks in a read now (or is about to), holding the end lock while it waits, as
  // a synchronous handle does on Windows. Ours queues behind it until the child dies.
  auto ours = std::async(std::launch::async, [&] { return read_text(client); });
  ASSERT_TRUE(child->kill());
  EXPECT_EQ(child->wait(10s).value(), 128 + 9);
  ASSERT_TRUE(server.write(bytes("for the survivor")));
  ASSERT_EQ(ours.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(ours.get(), "for the survivor");
}

TEST_F(SharedEnd, OnlyAConnectedEndCanBeShared) {
  auto second = ServerEnd::create(registry(), pipe_name());
  ASSERT_TRUE(second);
  EXPECT_EQ(second->share().error(), errc::kPipeListening);
  ASSERT_TRUE(server.disconnect());
  EXPECT_EQ(server.share().error(), errc::kPipeNotConnected);
  EXPECT_EQ(PipeEnd().share().error(), errc::kInvalidHandle);
}

TEST_F(SharedEnd, SharingWaitsOnlyAMomentForAReadThatHoldsTheEnd) {
  auto reader = std::async(std::launch::async, [&] { return read_text(client); });
  // Until the read holds the end, share() succeeds (the end is then shared, which changes
  // nothing here) and we try again; once it does, share() must come back with kBusy instead of
  // waiting for the read.
  auto started = std::chrono::steady_clock::now();
  Result<PortableEnd> shared = errc::kInvalidHandle;
  do {
    shared = client.share();
    if (!shared) break;
    shared = errc::kInvalidHandle;  // the read had not started yet: try again
    std::this_thread::sleep_for(10ms);
  } while (std::chrono::steady_clock::now() - started < 5s);
  ASSERT_FALSE(shared);
  EXPECT_EQ(shared.error(), errc::kBusy);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
  ASSERT_TRUE(server.write(bytes("wake")));
  EXPECT_EQ(reader.get(), "wake");
}

TEST_F(SharedEnd, AdoptRefusesWhatIsNotAnEndOfItsKind) {
  auto portable = client.share();
  ASSERT_TRUE(portable);
  // A client end is not a server end.
  std::string description = portable->description();
  std::vector<int> fds = portable->release();
  auto copy = [&] {
    std::vector<int> dups;
    for (int fd : fds) dups.push_back(::dup(fd));
    return dups;
  };
  EXPECT_EQ(ServerEnd::adopt(registry(), PortableEnd::from(description, copy())).error(),
            errc::kInvalidParameter);
  EXPECT_EQ(ClientEnd::adopt(registry(), PortableEnd::from("C.1.2.3", copy())).error(),
            errc::kInvalidParameter);
  EXPECT_EQ(ClientEnd::adopt(registry(), PortableEnd::from(description, {})).error(),
            errc::kInvalidParameter);
  EXPECT_EQ(PortableEnd::from_text("no slash").error(), errc::kInvalidParameter);
  EXPECT_EQ(PortableEnd::from_text("C.1/3:x").error(), errc::kInvalidParameter);
  EXPECT_EQ(PortableEnd::from_text("C.1/-3").error(), errc::kInvalidParameter);
  // The ring descriptors in the place of the end segment: not an end segment.
  auto swapped = copy();
  std::swap(swapped[1], swapped[3]);
  EXPECT_FALSE(ClientEnd::adopt(registry(), PortableEnd::from(description, swapped)));
  // The real thing, in this very process, is the same end.
  auto again = ClientEnd::adopt(registry(), PortableEnd::from(description, fds));
  ASSERT_TRUE(again) << again.error().message();
  ASSERT_TRUE(server.write(bytes("either")));
  EXPECT_EQ(read_text(*again), "either");
}

TEST_F(SharedEnd, AnotherProcessServesTheEndWithAsynchronousOperations) {
  auto portable = client.share();
  ASSERT_TRUE(portable);
  auto child = hand_over(std::move(*portable), "async-echo");
  ASSERT_TRUE(child);
  testing::KillOnExit guard(*child);
  ASSERT_EQ(read_text(server), "ready");  // its read is pending now, or about to be
  ASSERT_TRUE(server.write(bytes("ping")));
  EXPECT_EQ(read_text(server), "async:ping");
  EXPECT_EQ(child->wait(10s).value(), 0);
}

TEST_F(SharedEnd, PendingOperationsOfTwoHoldersCompleteAndCancel) {
  auto portable = client.share();
  ASSERT_TRUE(portable);
  auto again = ClientEnd::adopt(registry(), std::move(*portable));  // a second holder, here
  ASSERT_TRUE(again);
  IoContext context;
  std::byte buf[16];
  std::optional<Result<ReadResult>> got;
  ASSERT_TRUE(again->async_read(buf, context.executor(), [&](Result<ReadResult> r) { got = r; }));
  ASSERT_TRUE(server.write(bytes("to either")));
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!got && std::chrono::steady_clock::now() < deadline) context.run_one_for(50ms);
  ASSERT_TRUE(got);
  ASSERT_TRUE(*got);
  EXPECT_EQ(text(std::span(buf, (*got)->bytes)), "to either");
  // A pending read on the first holder, cancelled.
  std::optional<Result<ReadResult>> cancelled;
  ASSERT_TRUE(
      client.async_read(buf, context.executor(), [&](Result<ReadResult> r) { cancelled = r; }));
  EXPECT_EQ(client.cancel(), 1u);
  deadline = std::chrono::steady_clock::now() + 10s;
  while (!cancelled && std::chrono::steady_clock::now() < deadline) context.run_one_for(50ms);
  ASSERT_TRUE(cancelled);
  EXPECT_EQ(cancelled->error(), errc::kOperationAborted);
}

}  // namespace
}  // namespace sluice
