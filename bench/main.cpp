// sluice-bench — IPC throughput and latency of sluice against pipe(2) and AF_UNIX, same run.
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "echo.hpp"
#include "job.hpp"
#include "report.hpp"
#include "transport.hpp"

namespace sluice::bench {
namespace {

constexpr std::string_view kUsage = R"(usage: sluice-bench [options]

Measures one-way throughput (64 B, 4 KiB, 64 KiB, 1 MiB messages), 64 B ping-pong latency and
connection set-up (open, one 64 B round trip, close) between two processes pinned to different
CPUs, for each transport. "vs ring" compares a row with shm-ring, a minimal shared-memory ring
between the same processes (the ceiling); reader-alone is the reader's work without IPC. win32-*
rows are sluice named pipes through the Win32 API; "vs C++" compares them with the sluice-* row
of the same mode.

  --json               print only a JSON array of result objects
  --quick              2 rounds, short rounds, few samples (CI smoke test, demo)
  --rounds N           rounds per row; each row reports the median (default 5)
  --transports a,b,c   pipe, unix-stream, unix-seqpacket, reader-alone (the reader's copy and
                       checksum in one process; throughput only), shm-ring (the reference
                       ring), sluice-byte, sluice-msg, win32-byte, win32-msg; echo servers:
                       echo-iocp, echo-asio, echo-epoll-unix (default all)
  --sizes a,b,c        throughput message sizes, e.g. 64,4K,64KiB,1M (default 64,4K,64K,1M)
  --tests a,b          throughput, pingpong, connect (sluice-*, unix-stream), echo, echo-scale
                       (default all)
  --clients a,b,c      echo: client processes per row (default 1,16,64,256)
  --scale PxC          echo-scale: P client processes with C connections each (default 20x50)
  --timeout SECONDS    kill a row's processes after this long (default 15 + 2 per round)
  --no-pin             do not pin the two processes to CPUs
  --help               this text

Exit status: 0 when every row ran, 1 when any row failed (errors, checksum mismatches, time-outs),
2 on bad arguments.
)";

struct Options {
  bool json = false;
  bool quick = false;
  bool pin = true;
  int rounds = 0;  // 0: default for the mode
  double timeout_seconds = 0;
  std::vector<std::string> transports;
  std::vector<std::size_t> sizes;
  std::vector<std::string> echo_servers;
  std::vector<int> clients;
  int scale_processes = 20;
  int scale_connections = 50;
  bool throughput = true;
  bool pingpong = true;
  bool connect = true;
  bool echo = true;
  bool echo_scale = true;
};

[[noreturn]] void usage_error(const std::string& message) {
  std::fprintf(stderr, "sluice-bench: %s\n(try --help)\n", message.c_str());
  std::exit(2);
}

int parse_count(std::string_view text, int max) {
  int value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 1 || value > max) {
    usage_error("bad count '" + std::string(text) + "' (1 .. " + std::to_string(max) + ")");
  }
  return value;
}

std::vector<std::string> split(std::string_view list) {
  std::vector<std::string> parts;
  while (!list.empty()) {
    const auto comma = list.find(',');
    const std::string_view part = list.substr(0, comma);
    if (!part.empty()) parts.emplace_back(part);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return parts;
}

std::size_t parse_size(std::string_view text) {
  std::size_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  std::string_view suffix(end, static_cast<std::size_t>(text.data() + text.size() - end));
  std::size_t scale = 1;
  if (suffix == "" || suffix == "B") {
  } else if (suffix == "K" || suffix == "k" || suffix == "KiB") {
    scale = 1024;
  } else if (suffix == "M" || suffix == "m" || suffix == "MiB") {
    scale = 1024 * 1024;
  } else {
    usage_error("bad size '" + std::string(text) + "'");
  }
  if (ec != std::errc() || value == 0 || value > (64u << 20) / scale) {
    usage_error("bad size '" + std::string(text) + "' (1 B .. 64 MiB)");
  }
  return value * scale;
}

Options parse_options(int argc, char** argv) {
  Options options;
  const std::vector<std::string> known = transport_names();
  const std::vector<std::string> known_echo = echo_server_names();
  bool filtered = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    auto next = [&]() -> std::string_view {
      if (i + 1 >= argc) usage_error(std::string(arg) + " needs a value");
      return argv[++i];
    };
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage.data(), stdout);
      std::exit(0);
    } else if (arg == "--json") {
      options.json = true;
    } else if (arg == "--quick") {
      options.quick = true;
    } else if (arg == "--no-pin") {
      options.pin = false;
    } else if (arg == "--rounds") {
      const std::string_view value = next();
      const auto [end, ec] =
          std::from_chars(value.data(), value.data() + value.size(), options.rounds);
      if (ec != std::errc() || end != value.data() + value.size() || options.rounds < 1 ||
          options.rounds > 1000) {
        usage_error("bad --rounds '" + std::string(value) + "'");
      }
    } else if (arg == "--timeout") {
      const std::string value(next());
      char* end = nullptr;
      options.timeout_seconds = std::strtod(value.c_str(), &end);
      if (*end != '\0' || !(options.timeout_seconds > 0))
        usage_error("bad --timeout '" + value + "'");
    } else if (arg == "--transports") {
      filtered = true;
      for (const std::string& name : split(next())) {
        if (std::find(known.begin(), known.end(), name) != known.end()) {
          options.transports.push_back(name);
        } else if (std::find(known_echo.begin(), known_echo.end(), name) != known_echo.end()) {
          options.echo_servers.push_back(name);
        } else {
          usage_error("unknown transport '" + name + "'");
        }
      }
    } else if (arg == "--clients") {
      options.clients.clear();
      for (const std::string& count : split(next()))
        options.clients.push_back(parse_count(count, 4096));
    } else if (arg == "--scale") {
      const std::string_view value = next();
      const auto x = value.find('x');
      if (x == std::string_view::npos) usage_error("bad --scale '" + std::string(value) + "'");
      options.scale_processes = parse_count(value.substr(0, x), 4096);
      options.scale_connections = parse_count(value.substr(x + 1), 100000);
    } else if (arg == "--sizes") {
      options.sizes.clear();
      for (const std::string& size : split(next())) options.sizes.push_back(parse_size(size));
    } else if (arg == "--tests") {
      options.throughput = options.pingpong = options.connect = options.echo = options.echo_scale =
          false;
      for (const std::string& test : split(next())) {
        if (test == "throughput") {
          options.throughput = true;
        } else if (test == "pingpong") {
          options.pingpong = true;
        } else if (test == "connect") {
          options.connect = true;
        } else if (test == "echo") {
          options.echo = true;
        } else if (test == "echo-scale") {
          options.echo_scale = true;
        } else {
          usage_error("unknown test '" + test + "'");
        }
      }
    } else {
      usage_error("unknown argument '" + std::string(arg) + "'");
    }
  }
  if (!filtered) {
    options.transports = known;
    options.echo_servers = known_echo;
  }
  if (options.clients.empty()) options.clients = {1, 16, 64, 256};
  if (options.sizes.empty()) options.sizes = {64, 4096, 65536, 1 << 20};
  if (options.rounds == 0) options.rounds = options.quick ? 2 : 5;
  // Report order follows transport_names() whatever order the filter was given in.
  std::vector<std::string> ordered;
  for (const std::string& name : known) {
    if (std::find(options.transports.begin(), options.transports.end(), name) !=
        options.transports.end()) {
      ordered.push_back(name);
    }
  }
  options.transports = ordered;
  std::sort(options.sizes.begin(), options.sizes.end());
  options.sizes.erase(std::unique(options.sizes.begin(), options.sizes.end()), options.sizes.end());
  return options;
}

/// The first two CPUs we may run on, or none when there is only one.
std::vector<int> pick_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) != 0) return {};
  std::vector<int> cpus;
  for (int cpu = 0; cpu < CPU_SETSIZE && cpus.size() < 2; ++cpu) {
    if (CPU_ISSET(cpu, &set)) cpus.push_back(cpu);
  }
  if (cpus.size() < 2) cpus.clear();
  return cpus;
}

int run(int argc, char** argv) {
  const Options options = parse_options(argc, argv);
  // Writes to a dead peer must fail with EPIPE, not kill the writer; inherited by the children.
  ::signal(SIGPIPE, SIG_IGN);
  // A killed leader's follower is reparented to us, so run_job can reap it.
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);

  const std::vector<int> cpus = options.pin ? pick_cpus() : std::vector<int>{};
  const bool progress = !options.json && ::isatty(STDERR_FILENO) != 0;
  if (options.pin && cpus.empty() && !options.json) {
    std::fprintf(stderr, "sluice-bench: note: only one CPU available; not pinning\n");
  }

  JobSpec base;
  base.rounds = options.rounds;
  base.round_seconds = options.quick ? 0.05 : 0.3;
  base.pingpong_samples = options.quick ? 2000 : 20000;
  base.cpus = cpus;
  const double timeout =
      options.timeout_seconds > 0 ? options.timeout_seconds : 15.0 + 2.0 * options.rounds;
  base.timeout = std::chrono::milliseconds(static_cast<long long>(timeout * 1000));

  std::vector<JobSpec> specs;
  if (options.throughput) {
    for (const std::size_t size : options.sizes) {
      for (const std::string& transport : options.transports) {
        JobSpec spec = base;
        spec.test = TestKind::kThroughput;
        spec.transport = transport;
        spec.size_bytes = size;
        specs.push_back(spec);
      }
    }
  }
  if (options.pingpong) {
    for (const std::string& transport : options.transports) {
      if (transport == kReaderAloneName) continue;  // one process: nothing to echo
      JobSpec spec = base;
      spec.test = TestKind::kPingPong;
      spec.transport = transport;
      spec.size_bytes = 64;
      specs.push_back(spec);
    }
  }

  if (options.connect) {
    for (const std::string& transport : options.transports) {
      if (!has_connect_rows(transport)) continue;
      JobSpec spec = base;
      spec.test = TestKind::kConnect;
      spec.transport = transport;
      spec.size_bytes = 64;
      specs.push_back(spec);
    }
  }

  // Echo rows: more processes than CPUs, so nothing is pinned; every client process is exec'd.
  JobSpec echo_base = base;
  echo_base.cpus.clear();
  echo_base.round_seconds = options.quick ? 0.1 : 0.5;
  echo_base.warmup_seconds = options.quick ? 0.1 : 0.3;
  echo_base.timeout = std::max(base.timeout, std::chrono::milliseconds(60'000));
  if (options.echo) {
    for (const int clients : options.clients) {
      for (const std::string& server : options.echo_servers) {
        JobSpec spec = echo_base;
        spec.test = TestKind::kEcho;
        spec.transport = server;
        spec.clients = clients;
        specs.push_back(spec);
      }
    }
  }
  if (options.echo_scale) {
    for (const std::string& server : options.echo_servers) {
      JobSpec spec = echo_base;
      spec.test = TestKind::kEchoScale;
      spec.transport = server;
      spec.clients = options.scale_processes;
      spec.connections_per_client = options.scale_connections;
      specs.push_back(spec);
    }
  }

  std::vector<Row> rows;
  std::set<std::string> timed_out;  // a transport that hung once is not waited for again
  bool failed = false;
  for (const JobSpec& spec : specs) {
    if (progress) {
      std::fprintf(stderr, "\r\033[K%s %s %s ...", test_name(spec.test), spec.transport.c_str(),
                   describe_size(spec).c_str());
    }
    JobResult result;
    if (timed_out.count(spec.transport) != 0) {
      result.status = JobStatus::kError;
      result.error = "not run: an earlier row of this transport timed out";
    } else {
      const bool echo = spec.test == TestKind::kEcho || spec.test == TestKind::kEchoScale;
      result = echo ? run_echo_job(spec) : run_job(spec);
      if (result.status == JobStatus::kError && result.error.rfind("timed out", 0) == 0) {
        timed_out.insert(spec.transport);
      }
    }
    if (result.status == JobStatus::kError) {
      failed = true;
      std::fprintf(stderr, "%ssluice-bench: FAILED %s %s %s: %s\n", progress ? "\r\033[K" : "",
                   test_name(spec.test), spec.transport.c_str(), describe_size(spec).c_str(),
                   result.error.c_str());
    }
    rows.push_back(Row{spec, result});
  }
  if (progress) std::fprintf(stderr, "\r\033[K");

  if (options.json) {
    print_json(stdout, rows);
  } else {
    print_table(stdout, rows, collect_run_info(cpus, options.rounds, options.quick));
  }
  return failed ? 1 : 0;
}

}  // namespace
}  // namespace sluice::bench

int main(int argc, char** argv) {
  if (argc > 1 && std::string_view(argv[1]) == sluice::bench::kEchoProcessFlag) {
    return sluice::bench::run_echo_process(argc, argv);
  }
  if (argc > 1 && std::string_view(argv[1]) == sluice::bench::kJobProcessFlag) {
    return sluice::bench::run_job_process(argc, argv);
  }
  return sluice::bench::run(argc, argv);
}
