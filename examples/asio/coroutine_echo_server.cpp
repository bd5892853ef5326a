// An echo server on a message pipe, written with Asio coroutines over sluice::asio.
//
//   coroutine_echo_server [--dir DIR] [--clients N] [NAME]
//
// Serves every client in its own coroutine on one thread: each message a client sends comes
// back as one message, until the client closes its end. With --clients N it exits once N
// clients have come and gone (tests use that); otherwise it runs until SIGINT or SIGTERM.
// DIR is the pipe namespace (default: $SLUICE_PIPE_DIR, else the machine's).
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "sluice/asio.hpp"

namespace {

using asio::awaitable;
using asio::use_awaitable;
using asio::experimental::as_tuple;

struct Counts {
  long wanted = -1;  // clients to serve before exiting; -1: until a signal
  long done = 0;
};

// One client: echo whole messages until it closes (eof) or the pipe breaks.
awaitable<void> echo(sluice::asio::PipeStream stream, Counts& counts, asio::io_context& context) {
  std::vector<std::byte> message(64 * 1024);
  for (;;) {
    auto [error, n] =
        co_await stream.async_read_some(asio::buffer(message), as_tuple(use_awaitable));
    if (error == asio::error::eof) break;  // the client closed its end
    if (error) {
      std::fprintf(stderr, "coroutine_echo_server: read: %s\n", error.message().c_str());
      break;
    }
    // One write of the whole buffer: one message back, whatever its size.
    auto [write_error, written] =
        co_await stream.async_write_some(asio::buffer(message.data(), n), as_tuple(use_awaitable));
    if (write_error) {
      std::fprintf(stderr, "coroutine_echo_server: write: %s\n", write_error.message().c_str());
      break;
    }
  }
  if (++counts.done == counts.wanted) context.stop();
}

awaitable<void> accept_loop(sluice::asio::PipeAcceptor& acceptor, Counts& counts,
                            asio::io_context& context) {
  for (long accepted = 0; counts.wanted < 0 || accepted < counts.wanted; ++accepted) {
    auto [error, stream] = co_await acceptor.async_accept(as_tuple(use_awaitable));
    if (error) {
      std::fprintf(stderr, "coroutine_echo_server: accept: %s\n", error.message().c_str());
      context.stop();
      co_return;
    }
    asio::co_spawn(context, echo(std::move(stream), counts, context), asio::detached);
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir, name = R"(\\.\pipe\sluice-asio-echo)";
  Counts counts;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--dir") == 0 && i + 1 < argc) {
      dir = argv[++i];
    } else if (std::strcmp(argv[i], "--clients") == 0 && i + 1 < argc) {
      counts.wanted = std::strtol(argv[++i], nullptr, 10);
    } else if (argv[i][0] != '-') {
      name = argv[i];
    } else {
      std::fprintf(stderr, "usage: %s [--dir DIR] [--clients N] [NAME]\n", argv[0]);
      return 2;
    }
  }

  auto registry = sluice::Registry::open(dir);
  if (!registry) {
    std::fprintf(stderr, "coroutine_echo_server: %s\n", registry.error().message().c_str());
    return 1;
  }
  sluice::ServerOptions options;
  options.type = sluice::PipeType::kMessage;
  options.read_mode = sluice::ReadMode::kMessage;

  // One thread runs it, and says so: sluice then wakes the clients of a batch of replies together.
  asio::io_context context(1);
  auto acceptor = sluice::asio::PipeAcceptor::create(context, *registry, name, options);
  if (!acceptor) {
    std::fprintf(stderr, "coroutine_echo_server: %s: %s\n", name.c_str(),
                 acceptor.error().message().c_str());
    return 1;
  }
  asio::signal_set signals(context, SIGINT, SIGTERM);
  signals.async_wait([&](std::error_code, int) { context.stop(); });
  asio::co_spawn(context, accept_loop(*acceptor, counts, context), asio::detached);
  std::printf("coroutine_echo_server: listening on %s\n", name.c_str());
  std::fflush(stdout);
  context.run();
  std::printf("coroutine_echo_server: served %ld clients\n", counts.done);
  return 0;
}
