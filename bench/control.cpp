// sluice-bench — the side channel between leader and follower, and the result records.
#include "control.hpp"

#include <limits.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "transport.hpp"

namespace sluice::bench {
namespace {

/// The result record on the runner's pipe. Plain data: both ends are this same binary.
struct WireResult {
  Reporter who;
  JobStatus status;
  double mb_per_s, msgs_per_s, p50_us, p99_us, p999_us, max_us;
  std::uint64_t messages_per_round;
  char error[1024];
};
static_assert(sizeof(WireResult) <= PIPE_BUF, "one atomic pipe write");

void write_record(int fd, const WireResult& record) {
  // A short or failed write leaves the runner with end of file: it then reports how the
  // process ended, which is the best we can do.
  ssize_t n;
  do {
    n = ::write(fd, &record, sizeof record);
  } while (n < 0 && errno == EINTR);
}

}  // namespace

void ControlLink::send_raw(const void* data, std::size_t size) {
  for (;;) {
    const ssize_t n = ::send(fd_.get(), data, size, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw_errno("control send");
    return;
  }
}

void ControlLink::receive_raw(void* data, std::size_t size) {
  for (;;) {
    const ssize_t n = ::recv(fd_.get(), data, size, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw_errno("control recv");
    if (n == 0) throw BenchError("the other process closed the control link (did it fail?)");
    if (static_cast<std::size_t>(n) != size) throw BenchError("control recv: short packet");
    return;
  }
}

Command ControlLink::receive_command() {
  Command command;
  receive_raw(&command, sizeof command);
  return command;
}

Reply ControlLink::receive_reply() {
  Reply reply;
  receive_raw(&reply, sizeof reply);
  return reply;
}

void make_control_pair(ControlLink& leader, ControlLink& follower) {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) != 0) {
    throw_errno("socketpair(control)");
  }
  leader = ControlLink(UniqueFd(fds[0]));
  follower = ControlLink(UniqueFd(fds[1]));
}

void report_result(int fd, Reporter who, const JobResult& result) {
  WireResult record{};
  record.who = who;
  record.status = result.status;
  record.mb_per_s = result.mb_per_s;
  record.msgs_per_s = result.msgs_per_s;
  record.p50_us = result.p50_us;
  record.p99_us = result.p99_us;
  record.p999_us = result.p999_us;
  record.max_us = result.max_us;
  record.messages_per_round = result.messages_per_round;
  const std::size_t n = std::min(result.error.size(), sizeof record.error - 1);
  std::memcpy(record.error, result.error.data(), n);
  write_record(fd, record);
}

void report_error(int fd, Reporter who, std::string_view message) {
  JobResult result;
  result.status = JobStatus::kError;
  result.error = std::string(message);
  report_result(fd, who, result);
}

bool read_result(int fd, Reporter& who, JobResult& result) {
  WireResult record;
  ssize_t n;
  do {
    n = ::read(fd, &record, sizeof record);
  } while (n < 0 && errno == EINTR);
  if (n != static_cast<ssize_t>(sizeof record)) return false;
  record.error[sizeof record.error - 1] = '\0';
  who = record.who;
  result.status = record.status;
  result.error = record.error;
  result.mb_per_s = record.mb_per_s;
  result.msgs_per_s = record.msgs_per_s;
  result.p50_us = record.p50_us;
  result.p99_us = record.p99_us;
  result.p999_us = record.p999_us;
  result.max_us = record.max_us;
  result.messages_per_round = record.messages_per_round;
  return true;
}

}  // namespace sluice::bench
