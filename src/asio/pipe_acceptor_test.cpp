// The Asio adapter's acceptor: accepting, a coroutine echo server for threads and processes,
// cancellation, close, and the example server run end to end against client processes.
#include "sluice/asio/pipe_acceptor.hpp"

#include <gtest/gtest.h>

#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/read.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "asio_fixture.hpp"
#include "helper_process.hpp"

namespace sluice::asio {
namespace {

using namespace std::chrono_literals;
using ::asio::awaitable;
using ::asio::use_awaitable;
using sluice::testing::bytes;
using sluice::testing::text;
using testing::AsioPipeTest;

class AsioAcceptor : public AsioPipeTest {
 protected:
  // Echoes whole messages until the client closes; counts finished sessions.
  static awaitable<void> echo(PipeStream stream, int& sessions) {
    std::vector<std::byte> buf(4096);
    for (;;) {
      auto [e, n] = co_await stream.async_read_some(::asio::buffer(buf),
                                                    ::asio::experimental::as_tuple(use_awaitable));
      if (e == ::asio::error::eof) break;
      if (e) throw std::system_error(e);
      co_await stream.async_write_some(::asio::buffer(buf.data(), n), use_awaitable);
    }
    ++sessions;
  }
  // Accepts `clients` clients and serves each in its own coroutine.
  static awaitable<void> serve(PipeAcceptor& acceptor, int clients, int& sessions) {
    auto executor = co_await ::asio::this_coro::executor;
    for (int i = 0; i < clients; ++i) {
      PipeStream stream = co_await acceptor.async_accept(use_awaitable);
      ::asio::co_spawn(executor, echo(std::move(stream), sessions), ::asio::detached);
    }
  }
};

TEST_F(AsioAcceptor, AcceptHandsOutAConnectedStreamAndKeepsAnInstanceListening) {
  auto acceptor = PipeAcceptor::create(context, registry(), pipe_name());
  ASSERT_TRUE(acceptor) << acceptor.error().message();
  // The first instance exists before any accept: a client can connect now.
  auto first = ClientEnd::open(registry(), pipe_name());
  ASSERT_TRUE(first) << first.error().message();
  std::optional<PipeStream> accepted;
  acceptor->async_accept([&](std::error_code e, PipeStream s) {
    EXPECT_FALSE(e) << e.message();
    accepted.emplace(std::move(s));
  });
  run_until([&] { return accepted.has_value(); });
  ASSERT_TRUE(accepted->is_open());
  // The next instance was created on accepting: a second client needs no accept to connect.
  auto second = ClientEnd::open(registry(), pipe_name());
  EXPECT_TRUE(second) << second.error().message();
  // The accepted stream is the first client's.
  ASSERT_TRUE(first->write(bytes("from the first")));
  char buf[32];
  std::optional<std::size_t> got;
  accepted->async_read_some(::asio::buffer(buf), [&](std::error_code e, std::size_t n) {
    EXPECT_FALSE(e);
    got = n;
  });
  run_until([&] { return got.has_value(); });
  EXPECT_EQ(std::string(buf, *got), "from the first");
  EXPECT_EQ(accepted->with_end([](PipeEnd& e) { return e.info()->server_end; }), true);
}

TEST_F(AsioAcceptor, ACoroutineEchoServerServesSeveralConcurrentClients) {
  constexpr int kClients = 6, kRounds = 50;
  auto acceptor = PipeAcceptor::create(context, registry(), pipe_name(), message_pipe());
  ASSERT_TRUE(acceptor);
  int sessions = 0;
  ::asio::co_spawn(context, serve(*acceptor, kClients, sessions), ::asio::detached);
  int clients_done = 0;
  for (int i = 0; i < kClients; ++i) {
    auto client = open_client(ReadMode::kMessage);
    ASSERT_TRUE(client) << client.error().message();
    ::asio::co_spawn(
        context,
        [](PipeStream stream, int id, int& done) -> awaitable<void> {
          char buf[64];
          for (int r = 0; r < kRounds; ++r) {
            std::string msg = "client " + std::to_string(id) + " round " + std::to_string(r);
            co_await stream.async_write_some(::asio::buffer(msg), use_awaitable);
            auto n = co_await stream.async_read_some(::asio::buffer(buf), use_awaitable);
            EXPECT_EQ(std::string(buf, n), msg);
          }
          ++done;
        }(PipeStream(context, std::move(*client)), i, clients_done),
        ::asio::detached);
  }
  run_until([&] { return sessions == kClients && clients_done == kClients; });
}

// args: directory, pipe name, rounds, id. Exchanges `rounds` messages with an echo server; the
// server may not exist yet (it is another process starting) or have no free instance.
SLUICE_TEST_HELPER(asio_echo_client) {
  auto reg = Registry::open(args.at(0));
  if (!reg) return 10;
  auto deadline = std::chrono::steady_clock::now() + 30s;
  auto c = ClientEnd::open(*reg, args.at(1));
  while (!c && std::chrono::steady_clock::now() < deadline) {
    if (c.error() == errc::kFileNotFound) {
      std::this_thread::sleep_for(5ms);
    } else if (c.error() == errc::kPipeBusy) {
      (void)wait_for_instance(*reg, args.at(1), 1s);
    } else {
      return 11;
    }
    c = ClientEnd::open(*reg, args.at(1));
  }
  if (!c) return 12;
  if (!c->set_state(ReadMode::kMessage, WaitMode::kWait)) return 13;
  int rounds = std::stoi(args.at(2));
  for (int r = 0; r < rounds; ++r) {
    std::string msg = "client " + args.at(3) + " round " + std::to_string(r);
    char buf[128];
    auto got = c->transact(bytes(msg), std::as_writable_bytes(std::span(buf)));
    if (!got) return 14;
    if (std::string(buf, got->bytes) != msg) return 15;
  }
  return 0;
}

TEST_F(AsioAcceptor, ACoroutineEchoServerServesClientProcesses) {
  constexpr int kClients = 4;
  auto acceptor = PipeAcceptor::create(context, registry(), pipe_name(), message_pipe());
  ASSERT_TRUE(acceptor);
  std::vector<Process> children;
  for (int i = 0; i < kClients; ++i) {
    auto child = sluice::testing::spawn_helper(
        "asio_echo_client", {directory(), pipe_name(), "100", std::to_string(i)});
    ASSERT_TRUE(child) << child.error().message();
    children.push_back(std::move(*child));
  }
  std::vector<std::unique_ptr<sluice::testing::KillOnExit>> guards;
  for (auto& child : children)
    guards.push_back(std::make_unique<sluice::testing::KillOnExit>(child));
  int sessions = 0;
  ::asio::co_spawn(context, serve(*acceptor, kClients, sessions), ::asio::detached);
  run_until([&] { return sessions == kClients; });
  for (auto& child : children) EXPECT_EQ(child.wait(10s).value_or(-1), 0);
}

TEST_F(AsioAcceptor, ACancellationSignalAbortsOnlyThatAccept) {
  auto acceptor = PipeAcceptor::create(context, registry(), pipe_name());
  ASSERT_TRUE(acceptor);
  ::asio::cancellation_signal signal;
  std::optional<std::error_code> cancelled, other;
  std::optional<PipeStream> accepted;
  acceptor->async_accept(::asio::bind_cancellation_slot(
      signal.slot(), [&](std::error_code e, PipeStream) { cancelled = e; }));
  acceptor->async_accept([&](std::error_code e, PipeStream s) {
    other = e;
    accepted.emplace(std::move(s));
  });
  EXPECT_EQ(context.poll(), 0u);
  signal.emit(::asio::cancellation_type::terminal);
  run_until([&] { return cancelled.has_value(); });
  EXPECT_EQ(*cancelled, ::asio::error::operation_aborted);
  EXPECT_FALSE(other);
  auto client = ClientEnd::open(registry(), pipe_name());
  ASSERT_TRUE(client) << client.error().message();
  run_until([&] { return other.has_value(); });
  EXPECT_FALSE(*other);
  EXPECT_TRUE(accepted->is_open());
}

TEST_F(AsioAcceptor, CloseAbortsPendingAcceptsAndLaterAcceptsFail) {
  auto acceptor = PipeAcceptor::create(context, registry(), pipe_name());
  ASSERT_TRUE(acceptor);
  std::optional<std::error_code> pending, later;
  acceptor->async_accept([&](std::error_code e, PipeStream s) {
    pending = e;
    EXPECT_FALSE(s.is_open());
  });
  EXPECT_EQ(context.poll(), 0u);
  acceptor->close();
  run_until([&] { return pending.has_value(); });
  EXPECT_EQ(*pending, ::asio::error::operation_aborted);
  // The pipe name is gone with its last instance.
  EXPECT_EQ(ClientEnd::open(registry(), pipe_name()).error(), errc::kFileNotFound);
  acceptor->async_accept([&](std::error_code e, PipeStream) { later = e; });
  EXPECT_FALSE(later);
  run_until([&] { return later.has_value(); });
  EXPECT_EQ(*later, errc::kInvalidHandle);
}

TEST_F(AsioAcceptor, DestroyingTheAcceptorAbortsAPendingAccept) {
  std::optional<std::error_code> pending;
  {
    auto acceptor = PipeAcceptor::create(context, registry(), pipe_name());
    ASSERT_TRUE(acceptor);
    acceptor->async_accept([&](std::error_code e, PipeStream) { pending = e; });
    EXPECT_EQ(context.poll(), 0u);
  }
  run_until([&] { return pending.has_value(); });
  EXPECT_EQ(*pending, ::asio::error::operation_aborted);
}

// Failed before: every instance after the first was created with first_instance too, so the
// second accept failed with kAccessDenied and the accept loop died.
TEST_F(AsioAcceptor, FirstInstanceAppliesToTheAcceptorsFirstInstanceOnly) {
  ServerOptions o;
  o.first_instance = true;
  auto acceptor = PipeAcceptor::create(context, registry(), pipe_name(), o);
  ASSERT_TRUE(acceptor) << acceptor.error().message();
  // The option still protects the name: a second acceptor cannot take it over.
  auto rival = PipeAcceptor::create(context, registry(), pipe_name(), o);
  ASSERT_FALSE(rival);
  EXPECT_EQ(rival.error(), errc::kAccessDenied);
  std::vector<PipeStream> accepted;
  std::vector<ClientEnd> clients;
  for (int i = 0; i < 3; ++i) {
    auto client = ClientEnd::open(registry(), pipe_name());
    ASSERT_TRUE(client) << "client " << i << ": " << client.error().message();
    clients.push_back(std::move(*client));
    std::optional<std::error_code> result;
    acceptor->async_accept([&](std::error_code e, PipeStream s) {
      result = e;
      if (!e) accepted.push_back(std::move(s));
    });
    run_until([&] { return result.has_value(); });
    ASSERT_FALSE(*result) << "accept " << i << ": " << result->message();
  }
  EXPECT_EQ(accepted.size(), 3u);
}

TEST_F(AsioAcceptor, AcceptAtTheInstanceLimitFailsWithPipeBusy) {
  ServerOptions o;
  o.max_instances = 1;
  auto acceptor = PipeAcceptor::create(context, registry(), pipe_name(), o);
  ASSERT_TRUE(acceptor);
  auto client = ClientEnd::open(registry(), pipe_name());
  ASSERT_TRUE(client);
  std::optional<PipeStream> accepted;
  acceptor->async_accept([&](std::error_code e, PipeStream s) {
    EXPECT_FALSE(e);
    accepted.emplace(std::move(s));
  });
  run_until([&] { return accepted.has_value(); });
  std::optional<std::error_code> second;
  acceptor->async_accept([&](std::error_code e, PipeStream) { second = e; });
  run_until([&] { return second.has_value(); });
  EXPECT_EQ(*second, errc::kPipeBusy);
}

TEST_F(AsioAcceptor, AReadRacingATimerIsCancelledByTheAwaitableOperators) {
  using namespace ::asio::experimental::awaitable_operators;
  auto acceptor = PipeAcceptor::create(context, registry(), pipe_name());
  ASSERT_TRUE(acceptor);
  auto client = ClientEnd::open(registry(), pipe_name());
  ASSERT_TRUE(client);
  std::optional<std::size_t> winner;
  std::string after;
  ::asio::co_spawn(
      context,
      [&]() -> awaitable<void> {
        PipeStream stream = co_await acceptor->async_accept(use_awaitable);
        ::asio::steady_timer timer(co_await ::asio::this_coro::executor, 30ms);
        char buf[16];
        auto result = co_await (stream.async_read_some(::asio::buffer(buf), use_awaitable) ||
                                timer.async_wait(use_awaitable));
        winner = result.index();
        // The cancelled read left the stream usable.
        (void)client->write(bytes("later"));
        auto n = co_await stream.async_read_some(::asio::buffer(buf), use_awaitable);
        after.assign(buf, n);
      },
      ::asio::detached);
  run_until([&] { return !after.empty(); });
  EXPECT_EQ(winner, 1u);  // the timer
  EXPECT_EQ(after, "later");
}

#ifdef SLUICE_ASIO_ECHO_SERVER
TEST_F(AsioAcceptor, TheExampleServerEchoesForClientProcessesAndExits) {
  constexpr int kClients = 3;
  SpawnOptions server_options;
  server_options.argv = {SLUICE_ASIO_ECHO_SERVER,  "--dir",    directory(), "--clients",
                         std::to_string(kClients), pipe_name()};
  auto server = Process::spawn(server_options);
  ASSERT_TRUE(server) << server.error().message();
  sluice::testing::KillOnExit server_guard(*server);
  std::vector<Process> children;
  for (int i = 0; i < kClients; ++i) {
    auto child = sluice::testing::spawn_helper(
        "asio_echo_client", {directory(), pipe_name(), "200", std::to_string(i)});
    ASSERT_TRUE(child);
    children.push_back(std::move(*child));
  }
  std::vector<std::unique_ptr<sluice::testing::KillOnExit>> guards;
  for (auto& child : children)
    guards.push_back(std::make_unique<sluice::testing::KillOnExit>(child));
  for (auto& child : children) EXPECT_EQ(child.wait(60s).value_or(-1), 0);
  EXPECT_EQ(server->wait(60s).value_or(-1), 0);
}
#else
TEST_F(AsioAcceptor, TheExampleServerEchoesForClientProcessesAndExits) {
  GTEST_SKIP() << "examples are not built (SLUICE_BUILD_EXAMPLES=OFF)";
}
#endif

}  // namespace
}  // namespace sluice::asio
