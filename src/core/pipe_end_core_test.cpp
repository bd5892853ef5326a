// PipeEndCore by its parts, driven directly rather than through the C++ API: listening and
// accepting (a server end's listener and the server half of the handshake), the asynchronous
// queues (pipe_end_async.cpp) and shared mode (pipe_end_shared.cpp). Real sockets, segments and
// processes; completions are awaited on futures, never on sleeps.
#include "core/pipe_end_core.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <charconv>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "api/engine_access.hpp"
#include "helper_process.hpp"
#include "pipe_fixture.hpp"
#include "sluice/registry.hpp"

namespace sluice::core {
namespace {

using namespace std::chrono_literals;
using testing::bytes;
using testing::text;

constexpr auto kPatience = 10s;  // a completion that takes longer than this is lost

class PipeEndCoreTest : public testing::PipeTest {
 protected:
  std::shared_ptr<PipeEndCore> make_server(const ServerOptions& options = {}) {
    auto s = PipeEndCore::create_server(EngineAccess::engine(registry()), pipe_name(), options);
    EXPECT_TRUE(s) << s.error().message();
    return s ? *s : nullptr;
  }
  Result<std::shared_ptr<PipeEndCore>> open_client() {
    return PipeEndCore::open_client(EngineAccess::engine(registry()), pipe_name(), ClientOptions{});
  }
  static ServerOptions message_pipe() {
    ServerOptions o;
    o.type = PipeType::kMessage;
    o.read_mode = ReadMode::kMessage;
    return o;
  }
  static std::string read_text(PipeEndCore& end) {
    std::byte buf[256];
    auto r = end.read(buf);
    if (!r) return "error " + std::to_string(r.error().value());
    return text(std::span(buf, r->bytes));
  }
};

// An asynchronous operation's completion, awaited by the test thread. The callback owns the
// promise: a test that fails early closes its ends after this is gone, and their pending
// operations still complete.
struct Completion {
  std::shared_ptr<std::promise<PipeEndCore::IoResult>> promise =
      std::make_shared<std::promise<PipeEndCore::IoResult>>();
  std::future<PipeEndCore::IoResult> future = promise->get_future();
  PipeEndCore::IoCallback callback() const {
    return [p = promise](const PipeEndCore::IoResult& r) { p->set_value(r); };
  }
  bool arrives() { return future.wait_for(kPatience) == std::future_status::ready; }
};

// ---- listening and accepting --------------------------------------------------------------------

using PipeEndCoreListening = PipeEndCoreTest;

TEST_F(PipeEndCoreListening, AServerEndListensUntilAClientOpensThenKnowsTheClientsProcess) {
  auto server = make_server();
  ASSERT_TRUE(server);
  EXPECT_EQ(server->write(bytes("early")).error(), errc::kPipeListening);
  auto client = open_client();
  ASSERT_TRUE(client) << client.error().message();
  // The handshake finished before the client's open returned.
  EXPECT_EQ(server->connect(std::nullopt).value(), ConnectStatus::kAlreadyConnected);
  auto id = server->client_identity();
  ASSERT_TRUE(id) << id.error().message();
  EXPECT_EQ(id->pid, static_cast<std::uint32_t>(::getpid()));
  EXPECT_EQ(id->uid, static_cast<std::uint32_t>(::geteuid()));
  ASSERT_TRUE((*client)->write(bytes("hello")));
  EXPECT_EQ(read_text(*server), "hello");
}

TEST_F(PipeEndCoreListening, AConnectedInstanceStopsListeningSoTheNextClientFindsThePipeBusy) {
  ServerOptions o;
  o.max_instances = 1;
  auto server = make_server(o);
  ASSERT_TRUE(server);
  auto first = open_client();
  ASSERT_TRUE(first) << first.error().message();
  auto second = open_client();
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error(), errc::kPipeBusy);
}

// As DisconnectNamedPipe: the instance does not listen again until the next ConnectNamedPipe.
TEST_F(PipeEndCoreListening, AfterADisconnectTheEndListensAgainOnlyOnceAConnectIsStarted) {
  auto server = make_server();
  ASSERT_TRUE(server);
  auto first = open_client();
  ASSERT_TRUE(first) << first.error().message();
  ASSERT_TRUE(server->disconnect());
  std::byte buf[8];
  EXPECT_EQ((*first)->read(buf).error(), errc::kPipeNotConnected);
  EXPECT_EQ(server->write(bytes("x")).error(), errc::kPipeNotConnected);
  auto refused = open_client();
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error(), errc::kPipeBusy);

  Completion connect;
  ASSERT_FALSE(server->start_connect(connect.callback()).now);
  auto second = open_client();
  ASSERT_TRUE(second) << second.error().message();
  ASSERT_TRUE(connect.arrives());
  EXPECT_FALSE(connect.future.get().error);
  ASSERT_TRUE((*second)->write(bytes("second")));
  EXPECT_EQ(read_text(*server), "second");
}

// args: registry directory, pipe name. Opens a client end, writes "hi", and waits for "bye".
SLUICE_TEST_HELPER(core_client) {
  auto reg = Registry::open(args.at(0));
  if (!reg) return 10;
  auto client = PipeEndCore::open_client(EngineAccess::engine(*reg), args.at(1), ClientOptions{});
  if (!client) return 11;
  if (!(*client)->write(bytes("hi"))) return 12;
  std::byte buf[8];
  auto r = (*client)->read(buf);
  if (!r || text(std::span(buf, r->bytes)) != "bye") return 13;
  return 0;
}

TEST_F(PipeEndCoreListening, AConnectWaitsForAClientFromAnotherProcessAndKnowsItsProcessId) {
  auto server = make_server();
  ASSERT_TRUE(server);
  auto child = testing::spawn_helper("core_client", {directory(), pipe_name()});
  ASSERT_TRUE(child) << child.error().message();
  testing::KillOnExit guard(*child);
  auto connected = server->connect(std::chrono::steady_clock::now() + kPatience);
  ASSERT_TRUE(connected) << connected.error().message();
  auto id = server->client_identity();
  ASSERT_TRUE(id) << id.error().message();
  EXPECT_EQ(id->pid, child->pid());
  EXPECT_EQ(read_text(*server), "hi");
  ASSERT_TRUE(server->write(bytes("bye")));
  EXPECT_EQ(child->wait(kPatience).value(), 0);
}

// ---- asynchronous queues ------------------------------------------------------------------------

using PipeEndCoreAsync = PipeEndCoreTest;

TEST_F(PipeEndCoreAsync, AConnectStartedOnAListeningEndCompletesWhenAClientOpens) {
  auto server = make_server();
  ASSERT_TRUE(server);
  Completion connect;
  auto started = server->start_connect(connect.callback());
  ASSERT_FALSE(started.now) << "no client yet, so the connect must be pending";
  auto client = open_client();
  ASSERT_TRUE(client) << client.error().message();
  ASSERT_TRUE(connect.arrives());
  EXPECT_FALSE(connect.future.get().error);
}

TEST_F(PipeEndCoreAsync, PendingReadsCompleteInTheOrderTheyWereStarted) {
  // Declared before the ends: after a failed assertion the ends close first, and the callbacks
  // that closing runs still find these.
  std::mutex mu;
  std::vector<int> order;
  std::byte first_buf[16], second_buf[16];
  std::promise<void> both;
  auto server = make_server(message_pipe());
  ASSERT_TRUE(server);
  auto client = open_client();
  ASSERT_TRUE(client) << client.error().message();
  auto record = [&](int which) {
    return [&, which](const PipeEndCore::IoResult& r) {
      EXPECT_FALSE(r.error) << which << ": " << r.error.message();
      std::lock_guard lock(mu);
      order.push_back(which);
      if (order.size() == 2) both.set_value();
    };
  };
  auto first = server->start_read(first_buf, record(1));
  auto second = server->start_read(second_buf, record(2));
  ASSERT_FALSE(first.now);
  ASSERT_FALSE(second.now);
  EXPECT_NE(first.id, second.id);
  ASSERT_TRUE((*client)->write(bytes("one")));
  ASSERT_TRUE((*client)->write(bytes("two")));
  ASSERT_EQ(both.get_future().wait_for(kPatience), std::future_status::ready);
  std::lock_guard lock(mu);
  EXPECT_EQ(order, (std::vector<int>{1, 2}));
  EXPECT_EQ(text(std::span(first_buf, 3)), "one");
  EXPECT_EQ(text(std::span(second_buf, 3)), "two");
}

TEST_F(PipeEndCoreAsync, CancellingOneReadAbortsOnlyItAndTheNextReadTakesTheData) {
  auto server = make_server(message_pipe());
  ASSERT_TRUE(server);
  auto client = open_client();
  ASSERT_TRUE(client) << client.error().message();
  std::byte first_buf[16], second_buf[16];
  Completion first, second;
  auto started = server->start_read(first_buf, first.callback());
  ASSERT_FALSE(server->start_read(second_buf, second.callback()).now);
  ASSERT_FALSE(started.now);
  EXPECT_EQ(server->cancel(started.id), 1u);
  ASSERT_TRUE(first.arrives());
  EXPECT_EQ(first.future.get().error, errc::kOperationAborted);
  EXPECT_EQ(second.future.wait_for(0s), std::future_status::timeout) << "cancelled as well";
  ASSERT_TRUE((*client)->write(bytes("data")));
  ASSERT_TRUE(second.arrives());
  auto r = second.future.get();
  EXPECT_FALSE(r.error);
  EXPECT_EQ(r.bytes, 4u);
  EXPECT_EQ(text(std::span(second_buf, 4)), "data");
}

TEST_F(PipeEndCoreAsync, AReadThatFindsDataFinishesAtOnceAndItsCallbackNeverRuns) {
  std::atomic<bool> ran{false};
  auto server = make_server(message_pipe());
  ASSERT_TRUE(server);
  auto client = open_client();
  ASSERT_TRUE(client) << client.error().message();
  ASSERT_TRUE((*client)->write(bytes("now")));
  std::byte buf[16];
  auto started = server->start_read(buf, [&](const PipeEndCore::IoResult&) { ran = true; });
  ASSERT_TRUE(started.now);
  EXPECT_FALSE(started.now->error);
  EXPECT_EQ(started.now->bytes, 3u);
  EXPECT_EQ(text(std::span(buf, 3)), "now");
  // A later pending read completes through the same queue; the first callback still has not run.
  Completion later;
  std::byte later_buf[16];
  ASSERT_FALSE(server->start_read(later_buf, later.callback()).now);
  ASSERT_TRUE((*client)->write(bytes("later")));
  ASSERT_TRUE(later.arrives());
  EXPECT_FALSE(ran);
}

// ---- shared mode --------------------------------------------------------------------------------

using PipeEndCoreShared = PipeEndCoreTest;

TEST_F(PipeEndCoreShared, OnlyAConnectedEndWithNoPendingOperationsCanBeShared) {
  auto server = make_server();
  ASSERT_TRUE(server);
  EXPECT_EQ(server->share().error(), errc::kPipeListening);
  auto client = open_client();
  ASSERT_TRUE(client) << client.error().message();
  std::byte buf[8];
  Completion pending;
  auto started = (*client)->start_read(buf, pending.callback());
  ASSERT_FALSE(started.now);
  EXPECT_EQ((*client)->share().error(), errc::kNotSupported);
  EXPECT_FALSE((*client)->is_shared());
  EXPECT_EQ((*client)->cancel(started.id), 1u);
  ASSERT_TRUE(pending.arrives());
  auto exported = (*client)->share();
  ASSERT_TRUE(exported) << exported.error().message();
  EXPECT_TRUE((*client)->is_shared());
  EXPECT_FALSE(exported->fds.empty());
  // A shared end still carries data both ways in the process that shared it.
  ASSERT_TRUE(server->write(bytes("to client")));
  EXPECT_EQ(read_text(**client), "to client");
  ASSERT_TRUE((*client)->write(bytes("to server")));
  EXPECT_EQ(read_text(*server), "to server");
}

// args: registry directory, the end's description, its descriptors ("3:4:5"). Adopts the end,
// reads one message and answers it.
SLUICE_TEST_HELPER(core_shared_holder) {
  auto reg = Registry::open(args.at(0));
  if (!reg) return 10;
  std::vector<os::UniqueFd> fds;
  for (std::string_view rest = args.at(2); !rest.empty();) {
    std::size_t colon = std::min(rest.find(':'), rest.size());
    int fd = -1;
    if (std::from_chars(rest.data(), rest.data() + colon, fd).ec != std::errc()) return 11;
    fds.emplace_back(fd);
    rest.remove_prefix(std::min(colon + 1, rest.size()));
  }
  auto end = PipeEndCore::adopt(EngineAccess::engine(*reg), args.at(1), std::move(fds));
  if (!end) return 12;
  if (!(*end)->is_shared()) return 13;
  std::byte buf[32];
  auto r = (*end)->read(buf);
  if (!r) return 14;
  std::string reply = "child:" + text(std::span(buf, r->bytes));
  return (*end)->write(bytes(reply)) ? 0 : 15;
}

TEST_F(PipeEndCoreShared, AnotherProcessAdoptsTheEndAndItOutlivesThatProcess) {
  auto server = make_server(message_pipe());
  ASSERT_TRUE(server);
  auto client = open_client();
  ASSERT_TRUE(client) << client.error().message();
  auto exported = (*client)->share();
  ASSERT_TRUE(exported) << exported.error().message();
  SpawnOptions options;
  std::string fd_list;
  for (const auto& fd : exported->fds) {
    options.pass_descriptors.push_back(fd.get());
    fd_list += (fd_list.empty() ? "" : ":") + std::to_string(fd.get());
  }
  auto child = testing::spawn_helper("core_shared_holder",
                                     {directory(), exported->description, fd_list}, options);
  ASSERT_TRUE(child) << child.error().message();
  testing::KillOnExit guard(*child);
  exported->fds.clear();  // the child has its copies

  ASSERT_TRUE(server->write(bytes("ping")));
  EXPECT_EQ(read_text(*server), "child:ping");
  EXPECT_EQ(child->wait(kPatience).value(), 0);
  // The child's exit let go of its hold only: this process's end is still connected.
  ASSERT_TRUE(server->write(bytes("after")));
  EXPECT_EQ(read_text(**client), "after");
  // Its close is the end's last: the server sees the client gone.
  (*client)->close();
  std::byte buf[8];
  EXPECT_EQ(server->read(buf).error(), errc::kBrokenPipe);
}

}  // namespace
}  // namespace sluice::core
