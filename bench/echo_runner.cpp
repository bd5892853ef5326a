// sluice-bench — runs one echo job: a server process and spec.clients client processes, all
// exec'd afresh (/proc/self/exe kEchoProcessFlag …) in one new process group, then killed.
//
// Every echo process is exec'd, not just forked, because the Win32 layer (echo-iocp) cannot be
// used after fork (see Transport::needs_fresh_process); each gets SLUICE_PIPE_DIR=<scratch>/pipes
// so the layer initialises in a namespace private to the row. The epoll rows go the same way
// so both pay the same start-up and run in identical processes. Nothing is pinned: there are
// more processes than CPUs. See echo_protocol.hpp for the sequence.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "echo.hpp"
#include "echo_protocol.hpp"
#include "job.hpp"
#include "measure.hpp"
#include "proc_stats.hpp"
#include "unique_fd.hpp"

extern char** environ;

namespace sluice::bench {
namespace {

struct Spawned {
  std::vector<pid_t> pids;  // [0] is the server and the process group's leader
  pid_t group = 0;
};

/// Fork + exec of one echo process; argv and envp are built before the fork (the runner has
/// threads, so the child does only async-signal-safe calls before exec).
pid_t spawn(const std::vector<std::string>& args, const std::vector<std::string>& env, pid_t group,
            const std::vector<int>& keep_fds) {
  std::vector<char*> argv;
  for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (const std::string& var : env) envp.push_back(const_cast<char*>(var.c_str()));
  envp.push_back(nullptr);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) throw_errno("fork");
  if (pid == 0) {
    ::setpgid(0, group);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(1);
    for (const int fd : keep_fds) ::fcntl(fd, F_SETFD, 0);
    ::execve("/proc/self/exe", argv.data(), envp.data());
    ::_exit(127);
  }
  ::setpgid(pid, group == 0 ? pid : group);  // also done by the child; either wins
  return pid;
}

std::vector<std::string> environment_with(const std::string& pipe_dir) {
  std::vector<std::string> env;
  for (char** var = environ; *var != nullptr; ++var) {
    if (std::strncmp(*var, "SLUICE_PIPE_DIR=", 16) != 0) env.emplace_back(*var);
  }
  env.push_back("SLUICE_PIPE_DIR=" + pipe_dir);
  return env;
}

class EchoRun {
 public:
  EchoRun(const JobSpec& spec, std::string scratch)
      : spec_(spec),
        scratch_(std::move(scratch)),
        deadline_(monotonic_ns() + spec.timeout.count() * 1'000'000) {}

  ~EchoRun() {
    if (group_ > 0) ::kill(-group_, SIGKILL);
    for (const pid_t pid : pids_) {
      while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
      }
    }
  }

  JobResult run() {
    int report[2];
    if (::pipe2(report, O_CLOEXEC) != 0) throw_errno("pipe2");
    report_read_ = UniqueFd(report[0]);
    UniqueFd report_write(report[1]);

    const int clients = spec_.clients;
    const int per_client = spec_.connections_per_client;
    const bool scale = spec_.test == TestKind::kEchoScale;
    const int rounds = scale ? 0 : spec_.rounds;
    const auto round_ns = static_cast<std::int64_t>(spec_.round_seconds * 1e9);
    const std::vector<std::string> env = environment_with(scratch_ + "/pipes");
    auto args = [&](const char* role, int index, int go_fd) {
      return std::vector<std::string>{"sluice-bench",
                                      kEchoProcessFlag,
                                      role,
                                      spec_.transport,
                                      scratch_,
                                      std::to_string(index),
                                      std::to_string(per_client),
                                      std::to_string(rounds),
                                      std::to_string(round_ns),
                                      std::to_string(report_write.get()),
                                      std::to_string(go_fd),
                                      "64",
                                      std::to_string(spec_.buffer_bytes),
                                      std::to_string(clients * per_client)};
    };

    std::fflush(stdout);
    std::fflush(stderr);
    group_ = spawn(args("server", kEchoServerIndex, -1), env, 0, {report_write.get()});
    pids_.push_back(group_);
    wait_for(EchoPhase::kStarted, 1);
    // One go pipe per client: a shared one would let a fast client take a slower one's value.
    for (int i = 0; i < clients; ++i) {
      int go[2];
      if (::pipe2(go, O_CLOEXEC) != 0) throw_errno("pipe2");
      const UniqueFd go_read(go[0]);
      go_write_.emplace_back(go[1]);
      pids_.push_back(spawn(args("client", i, go_read.get()), env, group_,
                            {report_write.get(), go_read.get()}));
    }
    report_write.reset();  // end of file once every process has gone
    wait_for(EchoPhase::kStarted, clients);

    const std::vector<ProcStats> before = stats_of_all();
    release(1);
    wait_for(EchoPhase::kReady, clients);
    const std::vector<ProcStats> after = stats_of_all();

    release(monotonic_ns() + static_cast<std::int64_t>(spec_.warmup_seconds * 1e9));
    wait_for(EchoPhase::kDone, clients);

    JobResult result;
    result.status = JobStatus::kOk;
    const double connections = static_cast<double>(clients) * per_client;
    result.connections = static_cast<std::uint64_t>(connections);
    result.server_fds_per_connection =
        static_cast<double>(after[0].fds - before[0].fds) / connections;
    result.server_pss_bytes_per_connection =
        static_cast<double>(after[0].pss_kib - before[0].pss_kib) * 1024 / connections;
    std::int64_t client_fds = 0, client_pss = 0, rss = 0;
    for (std::size_t i = 0; i < after.size(); ++i) {
      if (i > 0) {
        client_fds += after[i].fds - before[i].fds;
        client_pss += after[i].pss_kib - before[i].pss_kib;
      }
      rss += after[i].rss_kib - before[i].rss_kib;
    }
    result.client_fds_per_connection = static_cast<double>(client_fds) / connections;
    result.client_pss_bytes_per_connection = static_cast<double>(client_pss) * 1024 / connections;
    result.rss_bytes_per_connection = static_cast<double>(rss) * 1024 / connections;
    if (!scale) add_rates(result, rounds);
    check_server_alive();
    return result;
  }

 private:
  /// Waits for `count` records of `phase` from clients (or 1 from the server for kStarted
  /// before any client exists); any kError record, or the deadline, throws.
  void wait_for(EchoPhase phase, int count) {
    int seen = 0;
    while (seen < count) {
      const std::int64_t now = monotonic_ns();
      if (now >= deadline_) {
        throw BenchError("timed out waiting for " + std::to_string(count - seen) + " of " +
                         std::to_string(count) + " processes (phase " +
                         std::to_string(static_cast<int>(phase)) + ")");
      }
      pollfd pfd{report_read_.get(), POLLIN, 0};
      const int ready = ::poll(&pfd, 1, static_cast<int>((deadline_ - now) / 1'000'000 + 1));
      if (ready < 0 && errno != EINTR) throw_errno("poll");
      if (ready <= 0) continue;
      EchoRecord record;
      const ssize_t got = ::read(report_read_.get(), &record, sizeof record);
      if (got != static_cast<ssize_t>(sizeof record)) {
        throw BenchError("every echo process ended early (" + describe_exits() + ")");
      }
      record.message[sizeof record.message - 1] = '\0';
      if (record.phase == EchoPhase::kError) {
        throw BenchError(std::string(record.who == kEchoServerIndex
                                         ? "server: "
                                         : "client " + std::to_string(record.who) + ": ") +
                         record.message);
      }
      if (record.phase != phase) {
        throw BenchError("unexpected record " + std::to_string(static_cast<int>(record.phase)));
      }
      ++seen;
    }
  }

  std::string describe_exits() {
    for (const pid_t pid : pids_) {
      int status;
      if (::waitpid(pid, &status, WNOHANG) == pid &&
          !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
        return "pid " + std::to_string(pid) + " wait status " + std::to_string(status);
      }
    }
    return "no exit status";
  }

  void release(std::int64_t value) {
    for (const UniqueFd& go : go_write_) {
      if (::write(go.get(), &value, sizeof value) != static_cast<ssize_t>(sizeof value)) {
        throw_errno("write go pipe");
      }
    }
  }

  std::vector<ProcStats> stats_of_all() {
    std::vector<ProcStats> stats;
    for (const pid_t pid : pids_) stats.push_back(read_proc_stats(pid));
    return stats;
  }

  void check_server_alive() {
    int status;
    if (::waitpid(pids_[0], &status, WNOHANG) == pids_[0]) {
      pids_.erase(pids_.begin());
      throw BenchError("server ended during the run (wait status " + std::to_string(status) + ")");
    }
    pollfd pfd{report_read_.get(), POLLIN, 0};
    if (::poll(&pfd, 1, 0) == 1) {
      EchoRecord record;
      if (::read(report_read_.get(), &record, sizeof record) == sizeof record &&
          record.phase == EchoPhase::kError) {
        record.message[sizeof record.message - 1] = '\0';
        throw BenchError(std::string("server: ") + record.message);
      }
    }
  }

  /// Per round, all clients' samples merged: requests/s, p50, p99; medians over rounds.
  void add_rates(JobResult& result, int rounds) {
    std::vector<std::vector<float>> merged(static_cast<std::size_t>(rounds));
    for (int i = 0; i < spec_.clients; ++i) {
      std::FILE* in = std::fopen(echo_samples_path(scratch_, i).c_str(), "rb");
      if (in == nullptr) throw_errno("fopen samples of client " + std::to_string(i));
      for (auto& samples : merged) {
        std::uint64_t count = 0;
        bool ok = std::fread(&count, sizeof count, 1, in) == 1;
        const std::size_t old = samples.size();
        samples.resize(old + count);
        ok = ok && std::fread(samples.data() + old, sizeof(float), count, in) == count;
        if (!ok) {
          std::fclose(in);
          throw BenchError("short samples file of client " + std::to_string(i));
        }
      }
      std::fclose(in);
    }
    std::vector<double> rates, p50, p99;
    for (auto& samples : merged) {
      std::vector<double> sorted(samples.begin(), samples.end());
      std::sort(sorted.begin(), sorted.end());
      rates.push_back(static_cast<double>(sorted.size()) / spec_.round_seconds);
      p50.push_back(percentile_of_sorted(sorted, 0.50));
      p99.push_back(percentile_of_sorted(sorted, 0.99));
    }
    result.requests_per_s = median(rates);
    result.p50_us = median(p50);
    result.p99_us = median(p99);
    result.messages_per_round =
        static_cast<std::uint64_t>(result.requests_per_s * spec_.round_seconds);
    if (result.messages_per_round == 0) throw BenchError("no request completed in a round");
  }

  const JobSpec& spec_;
  std::string scratch_;
  std::int64_t deadline_;
  UniqueFd report_read_;
  std::vector<UniqueFd> go_write_;
  pid_t group_ = 0;
  std::vector<pid_t> pids_;
};

}  // namespace

JobResult run_echo_job(const JobSpec& spec) {
  JobResult result;
  std::string why_not;
  EchoServerKind kind;
  if (!find_echo_server_kind(spec.transport, kind, why_not)) {
    result.status = JobStatus::kSkipped;
    result.error = why_not;
    return result;
  }
  std::string scratch = (std::filesystem::temp_directory_path() / "sluice-echo-XXXXXX").string();
  if (::mkdtemp(scratch.data()) == nullptr) {
    result.status = JobStatus::kError;
    result.error = std::string("mkdtemp: ") + std::strerror(errno);
    return result;
  }
  try {
    // Inherited by every echo process; each raises its own again (the hard limit is the cap).
    raise_fd_limit();
    EchoRun run(spec, scratch);
    result = run.run();
  } catch (const std::exception& e) {
    result = JobResult{};
    result.status = JobStatus::kError;
    result.error = e.what();
  }
  std::error_code ignored;
  std::filesystem::remove_all(scratch, ignored);
  return result;
}

}  // namespace sluice::bench
