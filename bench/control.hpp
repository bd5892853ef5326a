// sluice-bench — the side channel between leader and follower (commands, checksums) and from
// both to the runner (results). Kept apart from the transport under test.
#pragma once

#include <cstdint>
#include <string_view>

#include "job.hpp"
#include "unique_fd.hpp"

namespace sluice::bench {

/// kConnect: the follower may open its end (or, connect test, start dialling). kConnectRound:
/// open `count` connections one after another, one round trip of `size_bytes` each.
enum class Op : std::uint32_t { kConnect = 1, kThroughput, kPingPong, kQuit, kConnectRound };

/// Leader → follower.
struct Command {
  Op op = Op::kQuit;
  std::uint32_t size_bytes = 0;
  std::uint64_t count = 0;
};

/// Follower → leader, after a command finished.
struct Reply {
  std::uint64_t checksum = 0;
  /// kConnectRound: the client's time per connection over the round, in microseconds.
  double p50_us = 0;
  double p99_us = 0;
  double p999_us = 0;
  double max_us = 0;
};

/// A SOCK_SEQPACKET socketpair end: each struct is one packet.
class ControlLink {
 public:
  ControlLink() = default;
  explicit ControlLink(UniqueFd fd) : fd_(std::move(fd)) {}

  void send(const Command& command) { send_raw(&command, sizeof command); }
  void send(const Reply& reply) { send_raw(&reply, sizeof reply); }
  /// Throw BenchError when the peer has gone.
  Command receive_command();
  Reply receive_reply();
  /// The descriptor, for a runner that passes the link across exec.
  int fd() const noexcept { return fd_.get(); }

 private:
  void send_raw(const void* data, std::size_t size);
  void receive_raw(void* data, std::size_t size);
  UniqueFd fd_;
};

/// Makes a connected pair of links (close-on-exec).
void make_control_pair(ControlLink& leader, ControlLink& follower);

/// Who wrote a result record.
enum class Reporter : std::uint32_t { kLeader = 1, kFollower = 2 };

/// Writes one result record to the runner's pipe. One write() of less than PIPE_BUF, so records
/// from the leader and the follower never interleave. Async-signal-safe apart from formatting.
void report_result(int fd, Reporter who, const JobResult& result);
/// Same, for an error.
void report_error(int fd, Reporter who, std::string_view message);

/// Reads one record; false at end of file or on a short read.
bool read_result(int fd, Reporter& who, JobResult& result);

}  // namespace sluice::bench
