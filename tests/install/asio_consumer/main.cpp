// Uses only the installed headers, the library and sluice::asio's Asio: a coroutine server and
// a coroutine client echo one message over a message pipe in a private namespace.
#include <sluice/asio.hpp>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/use_awaitable.hpp>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

namespace {

constexpr char kName[] = R"(\\.\pipe\installed-asio-consumer)";
constexpr char kMessage[] = "installed sluice::asio works";

asio::awaitable<void> serve_one(sluice::asio::PipeAcceptor& acceptor) {
  auto stream = co_await acceptor.async_accept(asio::use_awaitable);
  char buffer[64];
  std::size_t n = co_await stream.async_read_some(asio::buffer(buffer), asio::use_awaitable);
  co_await stream.async_write_some(asio::buffer(buffer, n), asio::use_awaitable);
}

asio::awaitable<void> ask(sluice::asio::PipeStream& client, std::string& reply) {
  co_await client.async_write_some(asio::buffer(kMessage, sizeof kMessage), asio::use_awaitable);
  char buffer[64] = {};
  std::size_t n = co_await client.async_read_some(asio::buffer(buffer), asio::use_awaitable);
  reply.assign(buffer, n);
}

}  // namespace

int main() {
  // A private pipe namespace: Registry::open creates the missing directory.
  char scratch[] = "/tmp/sluice-asio-consumer-XXXXXX";
  if (mkdtemp(scratch) == nullptr) {
    std::perror("mkdtemp");
    return 1;
  }
  int status = 1;
  {
    auto registry = sluice::Registry::open(std::string(scratch) + "/pipes");
    if (!registry) {
      std::fprintf(stderr, "Registry::open: %s\n", registry.error().message().c_str());
      return 1;
    }
    sluice::ServerOptions options;
    options.type = sluice::PipeType::kMessage;
    options.read_mode = sluice::ReadMode::kMessage;
    asio::io_context context;
    auto acceptor = sluice::asio::PipeAcceptor::create(context, *registry, kName, options);
    if (!acceptor) {
      std::fprintf(stderr, "PipeAcceptor::create: %s\n", acceptor.error().message().c_str());
      return 1;
    }
    auto end = sluice::ClientEnd::open(*registry, kName);
    if (!end || !end->set_state(sluice::ReadMode::kMessage, sluice::WaitMode::kWait)) {
      std::fprintf(stderr, "ClientEnd::open failed\n");
      return 1;
    }
    sluice::asio::PipeStream client(context, std::move(*end));
    std::string reply;
    asio::co_spawn(context, serve_one(*acceptor), asio::detached);
    asio::co_spawn(context, ask(client, reply), asio::detached);
    context.run();
    if (reply == std::string(kMessage, sizeof kMessage)) {
      std::printf("%s\n", kMessage);
      status = 0;
    } else {
      std::fprintf(stderr, "echoed %zu bytes, not the message\n", reply.size());
    }
  }
  std::filesystem::remove_all(scratch);
  return status;
}
