// The shortest complete sluice program: a named pipe server thread echoes one message back to a
// client. Errors throw here (Result::value()); real code checks the Result instead.
#include <sluice/named_pipe.hpp>

#include <cstdio>
#include <string_view>
#include <thread>

int main() {
  using namespace std::literals;
  auto registry = sluice::Registry::open().value();  // the machine's pipe namespace
  auto name = R"(\\.\pipe\hello-sluice)"sv;

  sluice::ServerOptions message_pipe;
  message_pipe.type = sluice::PipeType::kMessage;
  message_pipe.read_mode = sluice::ReadMode::kMessage;
  auto server = sluice::ServerEnd::create(registry, name, message_pipe).value();

  std::thread echo([&] {
    server.connect().value();  // waits for a client (or finds it already there)
    std::byte buffer[256];
    auto got = server.read(buffer).value();  // one whole message
    server.write(std::span(buffer, got.bytes)).value();
  });

  auto client = sluice::ClientEnd::open(registry, name).value();
  client.set_state(sluice::ReadMode::kMessage, sluice::WaitMode::kWait).value();
  char reply[256];
  auto got = client
                 .transact(std::as_bytes(std::span("hello, pipe"sv)),
                           std::as_writable_bytes(std::span(reply)))
                 .value();
  echo.join();
  std::printf("server echoed: %.*s\n", static_cast<int>(got.bytes), reply);
}
