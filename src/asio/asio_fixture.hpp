// Test support for the Asio adapter: a PipeTest with an io_context and connected streams.
#pragma once

#include <gtest/gtest.h>

#include <asio/io_context.hpp>

#include <chrono>
#include <functional>
#include <optional>
#include <utility>

#include "pipe_fixture.hpp"
#include "sluice/asio.hpp"

namespace sluice::asio::testing {

using namespace std::chrono_literals;

class AsioPipeTest : public sluice::testing::PipeTest {
 protected:
  static ServerOptions message_pipe() {
    ServerOptions o;
    o.type = PipeType::kMessage;
    o.read_mode = ReadMode::kMessage;
    return o;
  }

  /// A server end and a client end of one instance.
  std::pair<ServerEnd, ClientEnd> connected_ends(ServerOptions o = {}) {
    auto s = ServerEnd::create(registry(), pipe_name(), o);
    EXPECT_TRUE(s) << s.error().message();
    auto c = ClientEnd::open(registry(), pipe_name());
    EXPECT_TRUE(c) << c.error().message();
    if (c && o.type == PipeType::kMessage) {
      EXPECT_TRUE(c->set_state(ReadMode::kMessage, WaitMode::kWait));
    }
    return {s ? std::move(*s) : ServerEnd(), c ? std::move(*c) : ClientEnd()};
  }

  /// A server stream and a client stream of one instance, on `context`.
  std::pair<PipeStream, PipeStream> connected(ServerOptions o = {}) {
    auto [s, c] = connected_ends(o);
    return {PipeStream(context, std::move(s)), PipeStream(context, std::move(c))};
  }

  /// Runs handlers until `done` or 10 s pass.
  void run_until(const std::function<bool()>& done) {
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      context.restart();
      context.run_one_for(20ms);
    }
    ASSERT_TRUE(done()) << "timed out waiting for completions";
  }

  /// Destroys the context first: coroutines it still holds (after a failed assertion) free
  /// their pipe ends before the leak check.
  void TearDown() override {
    context_holder_.reset();
    PipeTest::TearDown();
  }

  /// Opens a client of pipe_name(), running handlers while every instance is busy (an
  /// acceptor makes the next instance when it hands out the previous one).
  Result<ClientEnd> open_client(ReadMode mode = ReadMode::kByte) {
    auto deadline = std::chrono::steady_clock::now() + 10s;
    auto c = ClientEnd::open(registry(), pipe_name());
    while (!c && c.error() == errc::kPipeBusy && std::chrono::steady_clock::now() < deadline) {
      context.restart();
      context.run_one_for(5ms);
      c = ClientEnd::open(registry(), pipe_name());
    }
    if (c && mode == ReadMode::kMessage) {
      if (auto set = c->set_state(mode, WaitMode::kWait); !set) return set.error();
    }
    return c;
  }

 private:
  std::optional<::asio::io_context> context_holder_{std::in_place};

 protected:
  ::asio::io_context& context = *context_holder_;
};

}  // namespace sluice::asio::testing
