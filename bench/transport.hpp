// sluice-bench — the transport interface: one connection between a leader and a follower process.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::bench {

class Checksum;

/// Any failure inside a benchmark run (setup, I/O, a checksum mismatch). Caught per job and
/// reported as an error row; never crosses a process boundary as an exception.
class BenchError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Throws BenchError with `what` and strerror(errno).
[[noreturn]] void throw_errno(std::string_view what);

/// What a transport needs to know before the connection is made.
struct TransportConfig {
  /// A private directory (made with mkdtemp by the runner, removed after the job).
  std::string scratch_dir;
  /// The largest message either side will send; sizes buffers and quotas.
  std::size_t max_message_bytes = 0;
  /// Connect test: the in and out buffer sizes a server gives each instance it makes.
  std::size_t buffer_bytes = 4096;
};

/// One end of an established connection, used by one thread of one process.
class Channel {
 public:
  virtual ~Channel() = default;
  /// Sends `data` as one message (byte transports: loops until every byte is written).
  virtual void send(std::span<const std::byte> data) = 0;
  /// Receives exactly one whole message of `buffer.size()` bytes (byte transports loop until
  /// every byte is there; message transports fail unless one read returns exactly that size).
  virtual void receive(std::span<std::byte> buffer) = 0;
  /// Receives one message of `buffer.size()` bytes and adds it to `checksum` (the throughput
  /// follower's work). The default receives into `buffer` and checksums it there; a transport
  /// that can checksum the bytes where they arrive, without a copy, overrides it.
  virtual void receive_checksummed(std::span<std::byte> buffer, Checksum& checksum);
  /// Connect test, server side: waits until the peer has closed its end (end of stream, broken
  /// pipe), as a server does before it closes a finished conversation; data instead throws.
  /// The default throws: only transports with connect rows have it.
  virtual void wait_for_close();
};

/// Connect test, in the leader: the server, accepting one client after another as a server
/// process would. One thread.
class Listener {
 public:
  virtual ~Listener() = default;
  /// Waits for the next client and returns the server's end of its connection. A listener
  /// that needs to (sluice: an instance per client) makes the next client's place before it
  /// returns, so that client never finds the name busy.
  virtual std::unique_ptr<Channel> accept() = 0;
};

/// A way of connecting two processes. The sequence, driven by the job runner, is:
/// prepare() in the leader; fork; open_leader() in the leader and open_follower() in the follower
/// (the follower waits until the leader calls `follower_may_connect`). Each process makes its own
/// objects after the fork: nothing but inherited file descriptors crosses it.
class Transport {
 public:
  virtual ~Transport() = default;
  virtual std::string_view name() const = 0;
  /// True when the transport's library keeps per-process state that a forked child cannot use
  /// (sluice's Win32 layer: a default Registry and its agent thread, made by a static
  /// initialiser). The runner then starts the leader and the follower as fresh executions of
  /// this binary (fork + exec) with SLUICE_PIPE_DIR=<scratch_dir>/pipes, and calls prepare()
  /// again in the follower after its exec, so prepare() must depend on its config alone.
  virtual bool needs_fresh_process() const { return false; }
  /// In the leader, before the fork (and, see needs_fresh_process, in the follower after its
  /// exec). Errors throw BenchError.
  virtual void prepare(const TransportConfig& config) = 0;
  /// In the leader, after the fork; calls `follower_may_connect` once the follower may open its
  /// end, then returns the leader's end of the connection.
  virtual std::unique_ptr<Channel> open_leader(
      const std::function<void()>& follower_may_connect) = 0;
  /// In the follower, after the fork and after the leader's signal.
  virtual std::unique_ptr<Channel> open_follower() = 0;

  /// Whether the transport has connect rows (listen() and dial()); the defaults throw.
  virtual bool supports_connect() const { return false; }
  /// Connect test, in the leader after the fork (instead of open_leader): starts listening
  /// with `config.buffer_bytes` buffers, calls `follower_may_connect`, returns the listener.
  virtual std::unique_ptr<Listener> listen(const TransportConfig& config,
                                           const std::function<void()>& follower_may_connect);
  /// Connect test, in the follower (instead of open_follower): a new connection to the leader's
  /// listener per call; destroying it closes it.
  virtual std::unique_ptr<Channel> dial();
};

/// Not a transport: the throughput reader's work alone, in one process (reader_alone.cpp). Listed
/// with the transports so that --transports selects it; the job runner runs it without one.
inline constexpr std::string_view kReaderAloneName = "reader-alone";

/// The transports built into this binary, in report order (pipe first: it is the reference),
/// with kReaderAloneName among them.
std::vector<std::string> transport_names();

/// Makes the transport called `name`, or nullptr if there is none; `why_not` says why when the
/// name is known but the transport was not built.
std::unique_ptr<Transport> make_transport(std::string_view name, std::string& why_not);

/// Whether `name` is a transport built here that has connect rows.
bool has_connect_rows(std::string_view name);

// Factories of the transport files (kernel_transports.cpp, shm_ring_transport.cpp,
// sluice_transport.cpp, win32_transport.cpp).
std::unique_ptr<Transport> make_pipe_transport();
std::unique_ptr<Transport> make_unix_stream_transport();
std::unique_ptr<Transport> make_unix_seqpacket_transport();
/// The reference ring (the ceiling of a shared-memory pipe between the two processes).
std::unique_ptr<Transport> make_shm_ring_transport();
/// sluice-byte, sluice-msg, or with `in_place` sluice-view: sluice-msg whose reader takes each
/// message where it lies (PipeEnd::read_in_place) instead of copying it.
std::unique_ptr<Transport> make_sluice_transport(bool message_mode, std::string& why_not,
                                                 bool in_place = false);
std::unique_ptr<Transport> make_win32_transport(bool message_mode, std::string& why_not);

}  // namespace sluice::bench
