// sluice-bench — runs one job in its own process group: runner → leader → follower.
//
//   runner (main)          leader (fork)                  follower (fork of the leader)
//   mkdtemp scratch  ───►  prepare transport, fork  ───►  pin, wait for kConnect
//   poll result pipe       pin, open_leader ── kConnect ─► open_follower
//   with a deadline        lead_*: commands, timing  ◄──► follow_*: read / echo / checksum
//   kill(-pgid) on expiry  report result, kQuit    ───►  close, exit
//
// reader-alone has no transport and no follower: the leader does the reader's work alone.
//
// The runner never touches a transport itself, so a crash, an abort or a hang in one (say a
// sluice engine still being written) costs one error row, not the run.
//
// A transport that cannot be used after fork (Transport::needs_fresh_process: sluice's Win32
// layer makes its default Registry and agent thread in a static initialiser, and the agent
// thread does not survive fork) gets fresh processes instead: each forked child execs
// /proc/self/exe with kJobProcessFlag, the job spec, the scratch directory and the descriptors
// it keeps (result pipe, control link), and SLUICE_PIPE_DIR=<scratch>/pipes, so the library
// initialises in a namespace private to the row. Pinning, the alarm, the process group and
// PR_SET_PDEATHSIG all survive exec. The exec'd follower calls prepare() again.
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
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

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

// ---- fresh processes (fork + exec) ---------------------------------------------------------

constexpr const char* kLeaderRole = "leader";
constexpr const char* kFollowerRole = "follower";

std::string encode_spec(const JobSpec& spec) {
  std::ostringstream out;
  out.precision(17);
  const char* test = spec.test == TestKind::kThroughput ? "throughput"
                     : spec.test == TestKind::kPingPong ? "pingpong"
                                                        : "connect";
  out << test << ' ' << spec.transport << ' ' << spec.size_bytes << ' ' << spec.rounds << ' '
      << spec.round_seconds << ' ' << spec.pingpong_samples << ' ' << spec.timeout.count() << ' '
      << spec.cpus.size();
  for (const int cpu : spec.cpus) out << ' ' << cpu;
  return out.str();
}

bool decode_spec(const std::string& text, JobSpec& spec) {
  std::istringstream in(text);
  std::string test;
  long long timeout_ms = 0;
  std::size_t cpus = 0;
  in >> test >> spec.transport >> spec.size_bytes >> spec.rounds >> spec.round_seconds >>
      spec.pingpong_samples >> timeout_ms >> cpus;
  if (!in || cpus > 2) return false;
  if (test == "throughput") {
    spec.test = TestKind::kThroughput;
  } else if (test == "pingpong") {
    spec.test = TestKind::kPingPong;
  } else if (test == "connect") {
    spec.test = TestKind::kConnect;
  } else {
    return false;
  }
  spec.timeout = std::chrono::milliseconds(timeout_ms);
  spec.cpus.resize(cpus);
  for (int& cpu : spec.cpus) in >> cpu;
  return static_cast<bool>(in);
}

/// In a forked child: becomes a fresh `role` process of this binary. Does not return; an exec
/// failure is reported on `result_fd` as `who`.
[[noreturn]] void exec_job_process(const char* role, Reporter who, const JobSpec& spec,
                                   const std::string& scratch, int result_fd, int control_fd) {
  // Pinned before exec, not only in leader_main/follower_main: the library's static
  // initialiser starts its agent thread before main, and a thread takes its CPU mask from its
  // creator at creation (the forked rows pin before making their Registry, so this matches).
  try {
    pin_to(spec, who == Reporter::kLeader ? 0 : 1);
  } catch (const std::exception& e) {
    report_error(result_fd, who, e.what());
    ::_exit(1);
  }
  for (const int fd : {result_fd, control_fd}) {
    if (fd >= 0 && ::fcntl(fd, F_SETFD, 0) != 0) {
      report_error(result_fd, who, std::string("fcntl(F_SETFD): ") + std::strerror(errno));
      ::_exit(1);
    }
  }
  const std::string pipe_dir = scratch + "/pipes";
  ::setenv("SLUICE_PIPE_DIR", pipe_dir.c_str(), 1);
  std::string args[] = {"sluice-bench",
                        kJobProcessFlag,
                        role,
                        encode_spec(spec),
                        scratch,
                        std::to_string(result_fd),
                        std::to_string(control_fd)};
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  ::execv("/proc/self/exe", argv.data());
  report_error(result_fd, who, std::string("execv(/proc/self/exe): ") + std::strerror(errno));
  ::_exit(1);
}

int follower_main(const JobSpec& spec, Transport& transport, ControlLink link, int result_fd) {
  try {
    pin_to(spec, 1);
    if (link.receive_command().op != Op::kConnect) throw BenchError("expected kConnect");
    // The connect test makes its connections as it goes (Transport::dial).
    const std::unique_ptr<Channel> channel =
        spec.test == TestKind::kConnect ? nullptr : transport.open_follower();
    auto connected = [&]() -> Channel& {
      if (!channel) throw BenchError("a data command in the connect test");
      return *channel;
    };
    for (;;) {
      const Command command = link.receive_command();
      switch (command.op) {
        case Op::kThroughput:
          follow_throughput(connected(), link, command);
          break;
        case Op::kPingPong:
          follow_pingpong(connected(), link, command);
          break;
        case Op::kConnectRound:
          follow_connect(transport, link, command);
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
  // Both outlive the catch: our error is reported before the follower sees the connection drop
  // and reports its own.
  std::unique_ptr<Channel> channel;
  std::unique_ptr<Listener> listener;
  pid_t follower = -1;
  try {
    const TransportConfig config{scratch, spec.size_bytes, spec.buffer_bytes};
    transport.prepare(config);
    ControlLink follower_link;
    make_control_pair(link, follower_link);
    const pid_t leader = ::getpid();
    follower = ::fork();
    if (follower < 0) throw_errno("fork");
    if (follower == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != leader) ::_exit(1);
      link = ControlLink();
      if (transport.needs_fresh_process()) {
        exec_job_process(kFollowerRole, Reporter::kFollower, spec, scratch, result_fd,
                         follower_link.fd());
      }
      ::_exit(follower_main(spec, transport, std::move(follower_link), result_fd));
    }
    follower_link = ControlLink();
    pin_to(spec, 0);
    const auto follower_may_connect = [&] { link.send(Command{Op::kConnect, 0, 0}); };
    JobResult result;
    if (spec.test == TestKind::kConnect) {
      listener = transport.listen(config, follower_may_connect);
      result = lead_connect(*listener, link, spec);
    } else {
      channel = transport.open_leader(follower_may_connect);
      result = spec.test == TestKind::kThroughput ? lead_throughput(*channel, link, spec)
                                                  : lead_pingpong(*channel, link, spec);
    }
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
  listener.reset();
  int status;
  while (::waitpid(follower, &status, 0) < 0 && errno == EINTR) {
  }
  return 0;
}

/// reader-alone: no transport and no follower; the leader does the reader's work itself, on the
/// follower's CPU (where the reader runs in the other rows).
int reader_alone_main(const JobSpec& spec, int result_fd) {
  try {
    pin_to(spec, 1);
    report_result(result_fd, Reporter::kLeader, measure_reader_alone(spec));
    return 0;
  } catch (const std::exception& e) {
    report_error(result_fd, Reporter::kLeader, e.what());
    return 1;
  }
}

JobResult error_result(std::string message) {
  JobResult result;
  result.status = JobStatus::kError;
  result.error = std::move(message);
  return result;
}

}  // namespace

JobResult run_job(const JobSpec& spec) {
  const bool alone = spec.transport == kReaderAloneName;
  std::unique_ptr<Transport> transport;
  if (!alone) {
    std::string why_not;
    transport = make_transport(spec.transport, why_not);
    if (!transport) {
      JobResult result;
      result.status = JobStatus::kSkipped;
      result.error = why_not;
      return result;
    }
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
    if (alone) ::_exit(reader_alone_main(spec, result_pipe[1]));
    if (transport->needs_fresh_process()) {
      exec_job_process(kLeaderRole, Reporter::kLeader, spec, scratch, result_pipe[1], -1);
    }
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

int run_job_process(int argc, char** argv) {
  // argv: exe, kJobProcessFlag, role, spec, scratch, result fd, control fd (see
  // exec_job_process). Only the runner writes these; a mismatch is a bug, not user input.
  if (argc != 7) return 2;
  const std::string role = argv[2];
  JobSpec spec;
  const std::string scratch = argv[4];
  const int result_fd = std::atoi(argv[5]);
  const int control_fd = std::atoi(argv[6]);
  const Reporter who = role == kLeaderRole ? Reporter::kLeader : Reporter::kFollower;
  if (!decode_spec(argv[3], spec)) {
    report_error(result_fd, who, std::string("bad job spec '") + argv[3] + "'");
    return 1;
  }
  ::signal(SIGPIPE, SIG_IGN);
  std::string why_not;
  const std::unique_ptr<Transport> transport = make_transport(spec.transport, why_not);
  if (!transport) {
    report_error(result_fd, who, spec.transport + ": " + why_not);
    return 1;
  }
  // Not inherited by the next exec (the follower gets its own copies from the leader's fork).
  ::fcntl(result_fd, F_SETFD, FD_CLOEXEC);
  if (role == kLeaderRole) return leader_main(spec, *transport, scratch, result_fd);
  if (role != kFollowerRole || control_fd < 0) return 2;
  ::fcntl(control_fd, F_SETFD, FD_CLOEXEC);
  try {
    transport->prepare(TransportConfig{scratch, spec.size_bytes});
  } catch (const std::exception& e) {
    report_error(result_fd, who, e.what());
    return 1;
  }
  return follower_main(spec, *transport, ControlLink(UniqueFd(control_fd)), result_fd);
}

}  // namespace sluice::bench
