// What each operation does in each instance state (listening, connected, disconnected, closing),
// pinned as call → result tables: every cell builds a fresh instance in its state and makes one
// call. Ends are in no-wait mode so that "would wait" shows as a result (kNoData, kPipeListening).
#include <gtest/gtest.h>

#include <functional>

#include "pipe_fixture.hpp"
#include "sluice/named_pipe.hpp"

namespace sluice {
namespace {

using testing::bytes;
constexpr errc kOk = errc::kSuccess;

enum class ServerState { kListening, kConnected, kClosing, kDisconnected };
enum class ClientState { kConnected, kClosing, kDisconnected };

using Call = std::function<std::error_code(PipeEnd&)>;

template <class T>
std::error_code outcome(const Result<T>& r) {
  return r ? std::error_code(kOk) : r.error();
}

const std::vector<std::pair<const char*, Call>>& calls() {
  static const std::vector<std::pair<const char*, Call>> table = {
      {"read",
       [](PipeEnd& e) {
         std::byte b[8];
         return outcome(e.read(b));
       }},
      {"write", [](PipeEnd& e) { return outcome(e.write(bytes("x"))); }},
      {"peek",
       [](PipeEnd& e) {
         std::byte b[8];
         return outcome(e.peek(b));
       }},
      {"flush", [](PipeEnd& e) { return outcome(e.flush()); }},
      {"info", [](PipeEnd& e) { return outcome(e.info()); }},
      {"state", [](PipeEnd& e) { return outcome(e.state()); }},
      {"set_state",
       [](PipeEnd& e) { return outcome(e.set_state(ReadMode::kMessage, WaitMode::kNoWait)); }},
      {"client_process_id", [](PipeEnd& e) { return outcome(e.client_process_id()); }},
      {"server_process_id", [](PipeEnd& e) { return outcome(e.server_process_id()); }},
      {"connect",
       [](PipeEnd& e) {
         auto r = static_cast<ServerEnd&>(e).connect();
         if (r && *r == ConnectStatus::kAlreadyConnected)
           return std::error_code(errc::kPipeConnected);
         return outcome(r);
       }},
      {"disconnect", [](PipeEnd& e) { return outcome(static_cast<ServerEnd&>(e).disconnect()); }},
      {"transact",
       [](PipeEnd& e) {
         std::byte b[8];
         return outcome(e.transact(bytes("q"), b));
       }},
  };
  return table;
}

class StateTable : public testing::PipeTest {
 protected:
  static ServerOptions options() {
    ServerOptions o;
    o.type = PipeType::kMessage;
    o.read_mode = ReadMode::kMessage;
    o.wait_mode = WaitMode::kNoWait;
    return o;
  }

  std::error_code server_call(ServerState state, const Call& call) {
    auto s = ServerEnd::create(registry(), pipe_name(), options());
    EXPECT_TRUE(s);
    std::optional<ClientEnd> c;
    if (state != ServerState::kListening)
      c.emplace(ClientEnd::open(registry(), pipe_name()).value());
    if (state == ServerState::kClosing) c.reset();
    if (state == ServerState::kDisconnected) {
      EXPECT_TRUE(s->disconnect());
    }
    return call(*s);
  }

  std::error_code client_call(ClientState state, const Call& call) {
    auto s = ServerEnd::create(registry(), pipe_name(), options());
    EXPECT_TRUE(s);
    auto c = ClientEnd::open(registry(), pipe_name());
    EXPECT_TRUE(c);
    EXPECT_TRUE(c->set_state(ReadMode::kMessage, WaitMode::kNoWait));
    if (state == ClientState::kClosing) s->close();
    if (state == ClientState::kDisconnected) {
      EXPECT_TRUE(s->disconnect());
    }
    return call(*c);
  }
};

const Call& call_named(const char* name) {
  for (const auto& [n, call] : calls())
    if (std::string(n) == name) return call;
  throw std::logic_error(name);
}

TEST_F(StateTable, ServerEndMatchesTheSpecInEveryState) {
  struct Row {
    const char* call;
    errc listening, connected, closing, disconnected;
  };
  // Connected means a client is there and nothing is queued (so a no-wait read is kNoData).
  const Row rows[] = {
      {"read", errc::kPipeListening, errc::kNoData, errc::kBrokenPipe, errc::kPipeNotConnected},
      {"write", errc::kPipeListening, kOk, errc::kNoData, errc::kPipeNotConnected},
      {"peek", errc::kBadPipe, kOk, errc::kBrokenPipe, errc::kBadPipe},
      {"flush", kOk, kOk, kOk, kOk},
      {"connect", errc::kPipeListening, errc::kPipeConnected, errc::kNoData, errc::kPipeListening},
      {"disconnect", kOk, kOk, kOk, errc::kPipeNotConnected},
      {"transact", errc::kBadPipe, kOk, errc::kBadPipe, errc::kBadPipe},
      {"info", kOk, kOk, kOk, kOk},
      {"state", kOk, kOk, kOk, kOk},
      {"set_state", kOk, kOk, kOk, kOk},
      {"client_process_id", errc::kNotFound, kOk, kOk, errc::kNotFound},
      {"server_process_id", kOk, kOk, kOk, kOk},
  };
  for (const Row& row : rows) {
    const ServerState states[] = {ServerState::kListening, ServerState::kConnected,
                                  ServerState::kClosing, ServerState::kDisconnected};
    const errc expected[] = {row.listening, row.connected, row.closing, row.disconnected};
    const char* names[] = {"LISTENING", "CONNECTED", "CLOSING", "DISCONNECTED"};
    for (int i = 0; i < 4; ++i) {
      if (std::string(row.call) == "transact" && states[i] == ServerState::kConnected)
        continue;  // a transaction waits for its reply: covered by the transact tests
      EXPECT_EQ(server_call(states[i], call_named(row.call)), expected[i])
          << row.call << " on a server end in " << names[i];
    }
  }
}

TEST_F(StateTable, ClientEndMatchesTheSpecInEveryState) {
  struct Row {
    const char* call;
    errc connected, closing, disconnected;
  };
  const Row rows[] = {
      {"read", errc::kNoData, errc::kBrokenPipe, errc::kPipeNotConnected},
      {"write", kOk, errc::kNoData, errc::kPipeNotConnected},
      {"peek", kOk, errc::kBrokenPipe, errc::kPipeNotConnected},
      {"flush", kOk, kOk, errc::kPipeNotConnected},
      {"transact", kOk, errc::kBadPipe, errc::kPipeNotConnected},
      {"connect", errc::kInvalidFunction, errc::kInvalidFunction, errc::kInvalidFunction},
      {"disconnect", errc::kInvalidFunction, errc::kInvalidFunction, errc::kInvalidFunction},
      {"info", kOk, kOk, errc::kPipeNotConnected},
      {"state", kOk, kOk, errc::kPipeNotConnected},
      {"set_state", kOk, kOk, errc::kPipeNotConnected},
      {"client_process_id", kOk, kOk, errc::kPipeNotConnected},
      {"server_process_id", kOk, kOk, errc::kPipeNotConnected},
  };
  for (const Row& row : rows) {
    const ClientState states[] = {ClientState::kConnected, ClientState::kClosing,
                                  ClientState::kDisconnected};
    const errc expected[] = {row.connected, row.closing, row.disconnected};
    const char* names[] = {"CONNECTED", "CLOSING", "DISCONNECTED"};
    for (int i = 0; i < 3; ++i) {
      if (std::string(row.call) == "transact" && states[i] == ClientState::kConnected) continue;
      EXPECT_EQ(client_call(states[i], call_named(row.call)), expected[i])
          << row.call << " on a client end in " << names[i];
    }
  }
}

}  // namespace
}  // namespace sluice
