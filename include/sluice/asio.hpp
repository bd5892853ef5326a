// sluice — the Asio adapter (target sluice::asio): pipe ends as Asio streams, servers as acceptors.
//
//   asio::io_context context;
//   auto acceptor = sluice::asio::PipeAcceptor::create(context, registry, name).value();
//   asio::co_spawn(context, [&]() -> asio::awaitable<void> {
//     auto stream = co_await acceptor.async_accept(asio::use_awaitable);
//     std::byte buf[256];
//     auto n = co_await stream.async_read_some(asio::buffer(buf), asio::use_awaitable);
//     co_await asio::async_write(stream, asio::buffer(buf, n), asio::use_awaitable);
//   }, asio::detached);
//   context.run();
//
// Needs standalone Asio (Debian: libasio-dev). See pipe_stream.hpp for the completion, error and
// cancellation rules.
#pragma once

#include "sluice/asio/pipe_acceptor.hpp"
#include "sluice/asio/pipe_stream.hpp"
