// A client connection made with the handshake alone, without an end around it: what a hostile
// client process starts from (its own segment is then its to scribble on, see
// hostile_segment.hpp).
#pragma once

#include <chrono>
#include <string>
#include <thread>

#include "os/linux/unix_socket.hpp"
#include "registry/pipe_name.hpp"
#include "registry/pipe_namespace.hpp"
#include "shm/channel.hpp"
#include "sluice/security.hpp"
#include "transport/handshake.hpp"

namespace sluice::testing {

/// A client connection made with the handshake alone: the socket (it carries only doorbells
/// afterwards) and the client's side of the channel, whose own segment the client may write at
/// will.
struct RawClient {
  os::UniqueFd socket;
  shm::Channel channel;
};

/// Connects to a listening instance of `pipe_name` in the namespace at `directory` and does the
/// handshake, as ClientEnd::open does, but without an end around it. Tries every listener until
/// `limit` passes (an instance another client took refuses or answers busy).
inline Result<RawClient> connect_raw(const std::string& directory, const std::string& pipe_name,
                                     std::chrono::milliseconds limit) {
  registry::PipeName parsed;
  if (registry::parse_pipe_name(pipe_name, &parsed) != registry::NameProblem::kNone)
    return errc::kInvalidParameter;
  auto names = registry::PipeNamespace::open(directory, 0);
  if (!names) return names.error();
  auto deadline = std::chrono::steady_clock::now() + limit;
  do {
    auto view = names->find(parsed);
    if (!view) return view.error();
    for (const auto& listener : registry::PipeNamespace::listeners(*view, true)) {
      auto socket = os::connect_at(view->entries.at(listener.entry).dir.get(), listener.file);
      if (!socket) continue;
      auto channel = shm::Channel::create(listener.in_quota);
      if (!channel) return channel.error();
      transport::Hello hello;
      hello.desired_access = rights::kRead | rights::kWrite;
      if (!transport::send_hello(socket->get(), hello, channel->own_fd())) continue;
      if (!os::socket_wait_readable(socket->get(), std::chrono::milliseconds(2000))) continue;
      os::UniqueFd server_segment;
      auto reply = transport::receive_reply(socket->get(), &server_segment);
      if (!reply || reply->status != 0) continue;
      if (!channel->attach_peer(std::move(server_segment))) return errc::kBadPipe;
      return RawClient{std::move(*socket), std::move(*channel)};
    }
    // Every instance is taken: another client frees one soon (the caller bounds how long).
    std::this_thread::yield();
  } while (std::chrono::steady_clock::now() < deadline);
  return errc::kPipeBusy;
}

}  // namespace sluice::testing
