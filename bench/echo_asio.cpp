// sluice-bench — echo server written with Asio C++20 coroutines over sluice::asio, one thread.
//
// The shape of examples/asio/coroutine_echo_server.cpp: a PipeAcceptor hands out connected
// message-mode streams and each connection is one coroutine (read a request, write it back).
// The pipe is the one echo-iocp serves (same name, message mode, PIPE_UNLIMITED_INSTANCES,
// EchoConfig::buffer_bytes quotas) and the clients are echo-iocp's Win32 clients, so only the
// server differs between the two rows. Like echo-iocp, kListening accepts are pending at any time
// (each owns a listening instance), so a burst of connects mostly finds an instance free.
//
// The server opens its own sluice::Registry on $SLUICE_PIPE_DIR, the namespace the runner gives
// every echo process of a row (the clients' Win32 layer opens the same directory).
#include <asio/co_spawn.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/use_awaitable.hpp>

#include <exception>
#include <string>
#include <vector>

#include "echo.hpp"
#include "sluice/asio.hpp"

namespace sluice::bench {
namespace {

using ::asio::awaitable;
using ::asio::use_awaitable;
using ::asio::experimental::as_tuple;

constexpr int kListening = 4;

[[noreturn]] void throw_sluice(const char* what, const std::error_code& error) {
  throw BenchError(std::string(what) + " failed: " + error.message());
}

// A client that went away: eof (sluice's broken pipe), or the instance already disconnected or
// closing when the reply goes out.
bool client_left(const std::error_code& error) {
  return error == ::asio::error::eof || error == make_error_code(errc::kBrokenPipe) ||
         error == make_error_code(errc::kPipeNotConnected) ||
         error == make_error_code(errc::kNoData);
}

class AsioEchoServer final : public EchoServer {
 public:
  explicit AsioEchoServer(const EchoConfig& config) : config_(config) {}

  void serve(const std::function<void()>& ready) override {
    auto registry = Registry::open();
    if (!registry) throw_sluice("Registry::open", registry.error());
    ServerOptions options;
    options.type = PipeType::kMessage;
    options.read_mode = ReadMode::kMessage;
    options.in_buffer_size = static_cast<std::uint32_t>(config_.buffer_bytes);
    options.out_buffer_size = static_cast<std::uint32_t>(config_.buffer_bytes);
    ::asio::io_context context(1);  // one thread runs it
    auto acceptor =
        sluice::asio::PipeAcceptor::create(context, *registry, echo_pipe_name(config_), options);
    if (!acceptor) throw_sluice("PipeAcceptor::create", acceptor.error());
    // An exception in any coroutine leaves run() and so serve(): the server process reports it.
    auto rethrow = [](const std::exception_ptr& error) {
      if (error) std::rethrow_exception(error);
    };
    for (int i = 0; i < kListening; ++i) {
      ::asio::co_spawn(context, accept_loop(*acceptor), rethrow);
    }
    ready();
    context.run();
    throw BenchError("io_context::run returned");
  }

 private:
  awaitable<void> accept_loop(sluice::asio::PipeAcceptor& acceptor) {
    for (;;) {
      auto [error, stream] = co_await acceptor.async_accept(as_tuple(use_awaitable));
      if (error) throw_sluice("async_accept", error);
      auto executor = co_await ::asio::this_coro::executor;
      ::asio::co_spawn(executor, echo(std::move(stream)), [](const std::exception_ptr& e) {
        if (e) std::rethrow_exception(e);
      });
    }
  }

  awaitable<void> echo(sluice::asio::PipeStream stream) {
    std::vector<std::byte> message(config_.message_bytes + 1);  // +1: an oversized one shows
    for (;;) {
      auto [error, n] =
          co_await stream.async_read_some(::asio::buffer(message), as_tuple(use_awaitable));
      if (error && client_left(error)) co_return;
      if (error) throw_sluice("async_read_some", error);
      if (n != config_.message_bytes) {
        throw BenchError("request of " + std::to_string(n) + " bytes");
      }
      // One write of the whole request: one message back.
      auto [write_error, written] = co_await stream.async_write_some(
          ::asio::buffer(message.data(), n), as_tuple(use_awaitable));
      if (write_error && client_left(write_error)) co_return;
      if (write_error) throw_sluice("async_write_some", write_error);
      if (written != n) throw BenchError("wrote " + std::to_string(written) + " bytes");
    }
  }

  EchoConfig config_;
};

}  // namespace

std::unique_ptr<EchoServer> make_asio_echo_server(const EchoConfig& config) {
  return std::make_unique<AsioEchoServer>(config);
}

}  // namespace sluice::bench
