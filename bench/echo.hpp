// sluice-bench — the echo (request/reply) benchmark: one server process, many client processes.
//
// A server kind is a pair of factories: the server (runs in its own process until killed) and
// the client side (one object per client process, any number of connections each). The list
// in echo_server_kinds() is the only place a row is added. echo-asio (sluice::asio) pairs its
// own server with echo-iocp's Win32 pipe clients, so only the server differs between the two.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "transport.hpp"

namespace sluice::bench {

/// What both sides of an echo row agree on (derived from the row alone, so each exec'd process
/// rebuilds it from its command line).
struct EchoConfig {
  /// The row's private directory (socket path / pipe name derive from its name).
  std::string scratch_dir;
  /// Request size; every reply must be the same bytes.
  std::size_t message_bytes = 64;
  /// Per-connection buffer sizes where the transport has them (pipe in/out quotas).
  std::size_t buffer_bytes = 4096;
  /// Connections the server should expect in total (a hint for listen backlogs).
  std::size_t connections = 1;
};

/// The pipe name of a row's pipe servers (echo-iocp, echo-asio): `\\.\pipe\<name of the
/// scratch directory>-echo`, so every process of the row derives it alone.
inline std::string echo_pipe_name(const EchoConfig& config) {
  const std::size_t slash = config.scratch_dir.find_last_of("/\\");
  return "\\\\.\\pipe\\" + config.scratch_dir.substr(slash + 1) + "-echo";
}

/// The serving side. serve() runs on the process's main thread until the process is killed;
/// it calls `ready` once clients may connect. A client that disconnects is normal; anything
/// else (a short or oversized request, an I/O error) throws BenchError.
class EchoServer {
 public:
  virtual ~EchoServer() = default;
  virtual void serve(const std::function<void()>& ready) = 0;
};

/// One client connection, used by one thread.
class EchoConnection {
 public:
  virtual ~EchoConnection() = default;
  /// Sends `request` as one message and receives the reply into `reply` (same size); throws
  /// BenchError on any error, a short reply or a disconnect.
  virtual void round_trip(std::span<const std::byte> request, std::span<std::byte> reply) = 0;
};

/// The client side of one process: opens connections (retrying while the server is busy).
class EchoClient {
 public:
  virtual ~EchoClient() = default;
  virtual std::unique_ptr<EchoConnection> connect() = 0;
};

struct EchoServerKind {
  std::string_view name;
  /// True when the kind uses sluice's Win32 layer (see Transport::needs_fresh_process); every
  /// echo process is exec'd afresh anyway, so this only decides SLUICE_PIPE_DIR.
  bool uses_win32 = false;
  std::unique_ptr<EchoServer> (*make_server)(const EchoConfig&) = nullptr;
  std::unique_ptr<EchoClient> (*make_client)(const EchoConfig&) = nullptr;
};

/// The kinds built into this binary, in report order. A kind whose library is missing is
/// absent here and listed by echo_server_names() with why_not.
std::vector<EchoServerKind> echo_server_kinds();
/// Every row name this binary knows, built or not.
std::vector<std::string> echo_server_names();
/// The kind called `name` into `kind`; false (and `why_not`) when unknown or not built.
bool find_echo_server_kind(std::string_view name, EchoServerKind& kind, std::string& why_not);

// The kinds' factories (echo_iocp.cpp, echo_asio.cpp, echo_epoll_unix.cpp).
std::unique_ptr<EchoServer> make_iocp_echo_server(const EchoConfig& config);
std::unique_ptr<EchoClient> make_iocp_echo_client(const EchoConfig& config);
std::unique_ptr<EchoServer> make_asio_echo_server(const EchoConfig& config);
std::unique_ptr<EchoServer> make_epoll_unix_echo_server(const EchoConfig& config);
std::unique_ptr<EchoClient> make_epoll_unix_echo_client(const EchoConfig& config);

}  // namespace sluice::bench
