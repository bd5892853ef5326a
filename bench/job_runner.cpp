// sluice-bench — runs one job in its own process group: runner → leader → follower.
//
//   runner (main)          leader (fork)                  follower (fork of the leader)
//   mkdtemp scratch  ───►  prepare transport, fork  ───►  pin, wait for kConnect
//   poll result pipe       pin, open_leader ── kConnect ─► open_follower
//   with a deadline        lead_*: commands, timing  ◄──► follow_*: read / echo / checksum
//   kill(-pgid) on expiry  report result, kQuit    ───►  close, exit
//
// The runner never touches a transport itself, so a crash, an abort or a hang in one (say a
// sluice engine still being written) costs one error row, not the run.
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>

#include "control.hpp"
#include "job.hpp"
#include "measure.hpp"
#include "transport.hpp"

namespace sluice::bench {
namespace {

// After the leader's result, how long it may take to shut down; after a follower's error, how
// long the leader gets to say what it saw.
constexpr std::int64_t kExitGraceNs = 2'000'000'000;
constexpr std::int64_t kErrorGraceNs = 500'000'000;

void pin_to(const JobSpec& spec, std::size_t which) {
  if (spec.cpus.size() <= which) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(spec.cpus[which], &set);
  if (::sched_setaffinity(0, sizeof set, &set) != 0) throw_errno("sched_setaffinity");
}

/// A backstop in case the runner itself is gone: SIGALRM's default action ends the process.
void arm_alarm(const JobSpec& spec) {
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(spec.timeout).count();
  ::alarm(static_cast<unsigned>(seconds + 5));
}

std::string describe_exit(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    return std::string("killed by signal ") + std::to_string(WTERMSIG(status)) + " (" +
           ::strsignal(WTERMSIG(status)) + ")";
  }
  return "ended with wait status " + std::to_string(status);
}

/// " (follower killed by signal 6 (Aborted))" when the follower ended within a moment, else "".
std::string follower_fate(pid_t follower) {
  constexpr int kPolls = 20;  // 20 × 10 ms
  for (int i = 0; i < kPolls; ++i) {
    int status;
    const pid_t pid = ::waitpid(follower, &status, WNOHANG);
    if (pid == follower) return " (follower " + describe_exit(status) + ")";
    if (pid < 0 && errno != EINTR) return "";
    ::usleep(10'000);
  }
  return "";
}

int follower_main(const JobSpec& spec, Transport& transport, ControlLink link, int result_fd) {
  try {
    pin_to(spec, 1);
    if (link.receive_command().op != Op::kConnect) throw BenchError("expected kConnect");
    const std::unique_ptr<Channel> channel = transport.open_follower();
    for (;;) {
      const Command command = link.receive_command();
      switch (command.op) {
        case Op::kThroughput:
          follow_throughput(*channel, link, command);
          break;
        case Op::kPingPong:
          follow_pingpong(*channel, link, command);
          break;
        case Op::kQuit:
          return 0;
        case Op::kConnect:
          throw BenchError("unexpected kConnect");
      }
    }
  } catch (const std::exception& e) {
    report_error(result_fd, Reporter::kFollower, e.what());
    return 1;
  }
}

int leader_main(const JobSpec& spec, Transport& transport, const std::string& scratch,
                int result_fd) {
  ControlLink link;
  std::unique_ptr<Channel> channel;  // outlives the catch: our error is reported before the
                                     // follower sees the connection drop and reports its own
  pid_t follower = -1;
  try {
    transport.prepare(TransportConfig{scratch, spec.size_bytes});
    ControlLink follower_link;
    make_control_pair(link, follower_link);
    const pid_t leader = ::getpid();
    follower = ::fork();
    if (follower < 0) throw_errno("fork");
    if (follower == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != leader) ::_exit(1);
      link = ControlLink();
      ::_exit(follower_main(spec, transport, std::move(follower_link), result_fd));
    }
    follower_link = ControlLink();
    pin_to(spec, 0);
    channel = transport.open_leader([&] { link.send(Command{Op::kConnect, 0, 0}); });
    const JobResult result = spec.test == TestKind::kThroughput
                                 ? lead_throughput(*channel, link, spec)
                                 : lead_pingpong(*channel, link, spec);
    report_result(result_fd, Reporter::kLeader, result);
    link.send(Command{Op::kQuit, 0, 0});
  } catch (const std::exception& e) {
    // Often the follower's death is the cause (a broken pipe here); say how it ended.
    std::string message = e.what();
    if (follower > 0) message += follower_fate(follower);
    report_error(result_fd, Reporter::kLeader, message);
    return 1;  // the runner kills the group
  }
  channel.reset();
  int status;
  while (::waitpid(follower, &status, 0) < 0 && errno == EINTR) {
  }
  return 0;
}

JobResult error_result(std::string message) {
  JobResult result;
  result.status = JobStatus::kError;
  result.error = std::move(message);
  return result;
}

}  // namespace

JobResult run_job(const JobSpec& spec) {
  std::string why_not;
  const std::unique_ptr<Transport> transport = make_transport(spec.transport, why_not);
  if (!transport) {
    JobResult result;
    result.status = JobStatus::kSkipped;
    result.error = why_not;
    return result;
  }

  std::string scratch = (std::filesystem::temp_directory_path() / "sluice-bench-XXXXXX").string();
  if (::mkdtemp(scratch.data()) == nullptr) {
    return error_result(std::string("mkdtemp: ") + std::strerror(errno));
  }
  int result_pipe[2];
  if (::pipe2(result_pipe, O_CLOEXEC) != 0) {
    return error_result(std::string("pipe2: ") + std::strerror(errno));
  }
  // Forked children must not flush a copy of our buffered output.
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t leader = ::fork();
  if (leader < 0) {
    ::close(result_pipe[0]);
    ::close(result_pipe[1]);
    return error_result(std::string("fork: ") + std::strerror(errno));
  }
  if (leader == 0) {
    ::setpgid(0, 0);
    ::close(result_pipe[0]);
    arm_alarm(spec);
    ::_exit(leader_main(spec, *transport, scratch, result_pipe[1]));
  }
  ::setpgid(leader, leader);  // also done by the child; whichever runs first wins the race
  ::close(result_pipe[1]);

  const std::int64_t start = monotonic_ns();
  const std::int64_t deadline =
      start + std::chrono::duration_cast<std::chrono::nanoseconds>(spec.timeout).count();
  std::optional<JobResult> leader_result;
  std::optional<JobResult> follower_result;
  std::int64_t leader_at = 0;
  std::int64_t follower_at = 0;
  bool end_of_file = false;
  bool timed_out = false;
  while (!end_of_file) {
    std::int64_t until = deadline;
    if (leader_result) until = std::min(until, leader_at + kExitGraceNs);
    if (follower_result && !leader_result) until = std::min(until, follower_at + kErrorGraceNs);
    const std::int64_t now = monotonic_ns();
    if (now >= until) {
      timed_out = !leader_result && !follower_result;
      break;
    }
    pollfd pfd{result_pipe[0], POLLIN, 0};
    const int ready = ::poll(&pfd, 1, static_cast<int>((until - now) / 1'000'000 + 1));
    if (ready < 0 && errno != EINTR) break;
    if (ready <= 0) continue;
    Reporter who;
    JobResult record;
    if (!read_result(result_pipe[0], who, record)) {
      end_of_file = true;
    } else if (who == Reporter::kLeader && !leader_result) {
      leader_result = std::move(record);
      leader_at = monotonic_ns();
    } else if (who == Reporter::kFollower && !follower_result) {
      follower_result = std::move(record);
      follower_at = monotonic_ns();
    }
  }
  ::close(result_pipe[0]);

  // Whatever is left of the group goes now. The leader stays a zombie until reaped below, so
  // its process-group id cannot have been reused. Orphaned followers come back to us (we are a
  // child subreaper, see main) and are reaped with the group.
  ::kill(-leader, SIGKILL);
  int status = 0;
  int leader_status = 0;
  for (;;) {
    const pid_t pid = ::waitpid(-leader, &status, 0);
    if (pid < 0 && errno == EINTR) continue;
    if (pid < 0) break;
    if (pid == leader) leader_status = status;
  }
  std::error_code ignored;
  std::filesystem::remove_all(scratch, ignored);

  if (leader_result && leader_result->status == JobStatus::kOk) return *leader_result;
  if (leader_result && follower_result) {
    return error_result(leader_result->error + " [follower: " + follower_result->error + "]");
  }
  if (leader_result) return *leader_result;
  if (follower_result) return error_result("follower: " + follower_result->error);
  if (timed_out) {
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(spec.timeout).count();
    return error_result("timed out after " + std::to_string(seconds) + " s; killed");
  }
  return error_result("leader " + describe_exit(leader_status) + " without a result");
}

}  // namespace sluice::bench
