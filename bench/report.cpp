// sluice-bench — the readable table and the JSON array.
#include "report.hpp"

#include <sys/utsname.h>

#include <fstream>
#include <string_view>

#ifndef SLUICE_BENCH_BUILD_FLAGS
#define SLUICE_BENCH_BUILD_FLAGS "unknown"
#endif

namespace sluice::bench {
namespace {

const Row* find_row(const std::vector<Row>& rows, const Row& row, std::string_view transport) {
  for (const Row& other : rows) {
    if (other.spec.transport == transport && other.spec.test == row.spec.test &&
        other.spec.size_bytes == row.spec.size_bytes && other.result.status == JobStatus::kOk) {
      return &other;
    }
  }
  return nullptr;
}

const Row* find_pipe_row(const std::vector<Row>& rows, const Row& row) {
  return find_row(rows, row, "pipe");
}

/// The reference ring's row of the same test and size: the ceiling the others are a fraction of.
const Row* find_ring_row(const std::vector<Row>& rows, const Row& row) {
  return find_row(rows, row, "shm-ring");
}

/// A row's figure against the reference ring's: MB/s ÷ the ring's (throughput; the fraction of
/// the ceiling reached) or p50 ÷ the ring's (ping-pong; how many times slower). 0: no ring row.
double ring_ratio(const std::vector<Row>& rows, const Row& row) {
  const Row* ring = find_ring_row(rows, row);
  if (ring == nullptr) return 0;
  return row.spec.test == TestKind::kThroughput ? row.result.mb_per_s / ring->result.mb_per_s
                                                : row.result.p50_us / ring->result.p50_us;
}

/// A win32-* row's C++ API twin (same engine, same mode): "win32-msg" → "sluice-msg".
const Row* find_cpp_api_row(const std::vector<Row>& rows, const Row& row) {
  constexpr std::string_view kPrefix = "win32-";
  const std::string& name = row.spec.transport;
  if (name.rfind(kPrefix, 0) != 0) return nullptr;
  return find_row(rows, row, "sluice-" + name.substr(kPrefix.size()));
}

std::string json_string(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char escaped[8];
          std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned>(c));
          out += escaped;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

/// Two decimals, or two significant digits below 0.1 (sluice latencies are ~1/100 of pipe's).
std::string format_ratio(double ratio) {
  char text[32];
  std::snprintf(text, sizeof text, ratio < 0.1 ? "%.2gx" : "%.2fx", ratio);
  return text;
}

const char* status_word(JobStatus status) {
  switch (status) {
    case JobStatus::kOk:
      return "ok";
    case JobStatus::kError:
      return "ERROR";
    case JobStatus::kSkipped:
      return "skipped";
  }
  return "?";
}

/// The echo-epoll-unix row with the same client count (the bar echo servers are held to).
const Row* find_epoll_row(const std::vector<Row>& rows, const Row& row) {
  for (const Row& other : rows) {
    if (other.spec.transport == "echo-epoll-unix" && other.spec.test == row.spec.test &&
        other.spec.clients == row.spec.clients && other.result.status == JobStatus::kOk) {
      return &other;
    }
  }
  return nullptr;
}

/// The connect rows, with sluice's against AF_UNIX's (unix-stream of the same message size).
void print_connect_table(std::FILE* out, const std::vector<Row>& rows) {
  bool any = false;
  for (const Row& row : rows) any |= row.spec.test == TestKind::kConnect;
  if (!any) return;
  std::fprintf(out,
               "\nconnection set-up in microseconds per connection (the client opens, sends "
               "one message, reads the echo and closes, timed as a whole; the server accepts "
               "each client, sluice making the next instance first; max is over all rounds; "
               "\"vs AF_UNIX\" is p50 / unix-stream's p50; lower is better)\n");
  std::fprintf(out, "%-15s %8s %9s %9s %9s %9s %10s %11s\n", "transport", "size", "p50", "p99",
               "p99.9", "max", "vs AF_UNIX", "conns/round");
  for (const Row& row : rows) {
    if (row.spec.test != TestKind::kConnect) continue;
    const std::string size = format_size(row.spec.size_bytes);
    if (row.result.status != JobStatus::kOk) {
      std::fprintf(out, "%-15s %8s  %s: %s\n", row.spec.transport.c_str(), size.c_str(),
                   status_word(row.result.status), row.result.error.c_str());
      continue;
    }
    const Row* unix_row = find_row(rows, row, "unix-stream");
    const std::string ratio =
        unix_row != nullptr ? format_ratio(row.result.p50_us / unix_row->result.p50_us) : "-";
    std::fprintf(out, "%-15s %8s %9.1f %9.1f %9.1f %9.1f %10s %11llu\n", row.spec.transport.c_str(),
                 size.c_str(), row.result.p50_us, row.result.p99_us, row.result.p999_us,
                 row.result.max_us, ratio.c_str(),
                 static_cast<unsigned long long>(row.result.messages_per_round));
  }
}

void print_echo_tables(std::FILE* out, const std::vector<Row>& rows) {
  bool any_echo = false;
  bool any_scale = false;
  for (const Row& row : rows) {
    any_echo |= row.spec.test == TestKind::kEcho;
    any_scale |= row.spec.test == TestKind::kEchoScale;
  }
  if (any_echo) {
    std::fprintf(out,
                 "\necho: 64 B request -> reply, one connection per client process, one server "
                 "thread; requests/s over all clients and p50/p99 request latency in "
                 "microseconds, each the median over rounds; \"vs epoll\" is requests/s / "
                 "echo-epoll-unix's at the same client count (higher is better)\n");
    std::fprintf(out, "%-16s %8s %12s %9s %9s %9s\n", "server", "clients", "requests/s", "p50",
                 "p99", "vs epoll");
    for (const Row& row : rows) {
      if (row.spec.test != TestKind::kEcho) continue;
      if (row.result.status != JobStatus::kOk) {
        std::fprintf(out, "%-16s %8d  %s: %s\n", row.spec.transport.c_str(), row.spec.clients,
                     status_word(row.result.status), row.result.error.c_str());
        continue;
      }
      const Row* epoll = find_epoll_row(rows, row);
      const std::string ratio =
          epoll != nullptr ? format_ratio(row.result.requests_per_s / epoll->result.requests_per_s)
                           : "-";
      std::fprintf(out, "%-16s %8d %12.0f %9.2f %9.2f %9s\n", row.spec.transport.c_str(),
                   row.spec.clients, row.result.requests_per_s, row.result.p50_us,
                   row.result.p99_us, ratio.c_str());
    }
  }
  if (any_scale) {
    std::fprintf(out,
                 "\necho-scale: every connection open at once, each answered twice; per "
                 "connection: descriptors of the server and of the clients, memory growth "
                 "(PSS, from /proc/<pid>/smaps_rollup) of the server and of the clients, RSS "
                 "growth of all (counts shared pages once per process)\n");
    std::fprintf(out, "%-16s %14s %9s %9s %11s %11s %11s %9s\n", "server", "connections", "srv fds",
                 "cli fds", "srv PSS B", "cli PSS B", "all RSS B", "buffers");
    for (const Row& row : rows) {
      if (row.spec.test != TestKind::kEchoScale) continue;
      const std::string conns = describe_size(row.spec);
      if (row.result.status != JobStatus::kOk) {
        std::fprintf(out, "%-16s %14s  %s: %s\n", row.spec.transport.c_str(), conns.c_str(),
                     status_word(row.result.status), row.result.error.c_str());
        continue;
      }
      std::fprintf(out, "%-16s %14s %9.2f %9.2f %11.0f %11.0f %11.0f %9zu\n",
                   row.spec.transport.c_str(), conns.c_str(), row.result.server_fds_per_connection,
                   row.result.client_fds_per_connection, row.result.server_pss_bytes_per_connection,
                   row.result.client_pss_bytes_per_connection, row.result.rss_bytes_per_connection,
                   row.spec.buffer_bytes);
    }
  }
}

}  // namespace

const char* test_name(TestKind test) {
  switch (test) {
    case TestKind::kThroughput:
      return "throughput";
    case TestKind::kPingPong:
      return "pingpong";
    case TestKind::kEcho:
      return "echo";
    case TestKind::kEchoScale:
      return "echo-scale";
    case TestKind::kConnect:
      return "connect";
  }
  return "?";
}

std::string describe_size(const JobSpec& spec) {
  if (spec.test == TestKind::kEcho) return std::to_string(spec.clients) + " clients";
  if (spec.test == TestKind::kEchoScale) {
    return std::to_string(spec.clients) + "x" + std::to_string(spec.connections_per_client) +
           " conns";
  }
  return format_size(spec.size_bytes);
}

std::string format_size(std::size_t bytes) {
  if (bytes >= (1u << 20) && bytes % (1u << 20) == 0) return std::to_string(bytes >> 20) + " MiB";
  if (bytes >= 1024 && bytes % 1024 == 0) return std::to_string(bytes >> 10) + " KiB";
  return std::to_string(bytes) + " B";
}

RunInfo collect_run_info(const std::vector<int>& cpus, int rounds, bool quick) {
  RunInfo info;
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; std::getline(cpuinfo, line);) {
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      if (colon != std::string::npos) info.cpu_model = line.substr(colon + 2);
      break;
    }
  }
  utsname name{};
  if (::uname(&name) == 0) info.kernel = std::string(name.sysname) + " " + name.release;
  info.compiler = std::string("g++ ") + __VERSION__ + ", " + SLUICE_BENCH_BUILD_FLAGS;
  if (cpus.size() >= 2) {
    info.pinning =
        "leader on CPU " + std::to_string(cpus[0]) + ", follower on CPU " + std::to_string(cpus[1]);
  } else {
    info.pinning = "not pinned (fewer than 2 CPUs available, or --no-pin)";
  }
  info.rounds = rounds;
  info.quick = quick;
  return info;
}

void print_table(std::FILE* out, const std::vector<Row>& rows, const RunInfo& info) {
  std::fprintf(out, "sluice-bench%s: median of %d rounds per row\n", info.quick ? " (--quick)" : "",
               info.rounds);
  std::fprintf(out, "  cpu:      %s\n  kernel:   %s\n  build:    %s\n  pinning:  %s\n\n",
               info.cpu_model.c_str(), info.kernel.c_str(), info.compiler.c_str(),
               info.pinning.c_str());

  bool any_throughput = false;
  bool any_pingpong = false;
  for (const Row& row : rows) {
    any_throughput |= row.spec.test == TestKind::kThroughput;
    any_pingpong |= row.spec.test == TestKind::kPingPong;
  }

  if (any_throughput) {
    std::fprintf(out,
                 "one-way throughput (leader writes, follower reads whole messages and "
                 "checksums every byte; MB = 10^6 bytes; \"vs ring\" is MB/s / shm-ring's, the "
                 "reference ring's, at the same size; \"vs C++\" is a win32-* row's MB/s / "
                 "the sluice-* row of the same mode)\n");
    std::fprintf(out, "%-15s %8s %11s %13s %10s %8s %8s %11s\n", "transport", "size", "MB/s",
                 "msgs/s", "vs pipe", "vs ring", "vs C++", "msgs/round");
    for (const Row& row : rows) {
      if (row.spec.test != TestKind::kThroughput) continue;
      const std::string size = format_size(row.spec.size_bytes);
      if (row.result.status != JobStatus::kOk) {
        std::fprintf(out, "%-15s %8s  %s: %s\n", row.spec.transport.c_str(), size.c_str(),
                     status_word(row.result.status), row.result.error.c_str());
        continue;
      }
      const Row* pipe = find_pipe_row(rows, row);
      const std::string ratio =
          pipe != nullptr ? format_ratio(row.result.mb_per_s / pipe->result.mb_per_s) : "-";
      const double vs_ring = ring_ratio(rows, row);
      const std::string ring_text = vs_ring > 0 ? format_ratio(vs_ring) : "-";
      const Row* api = find_cpp_api_row(rows, row);
      const std::string api_ratio =
          api != nullptr ? format_ratio(row.result.mb_per_s / api->result.mb_per_s) : "-";
      std::fprintf(out, "%-15s %8s %11.1f %13.0f %10s %8s %8s %11llu\n", row.spec.transport.c_str(),
                   size.c_str(), row.result.mb_per_s, row.result.msgs_per_s, ratio.c_str(),
                   ring_text.c_str(), api_ratio.c_str(),
                   static_cast<unsigned long long>(row.result.messages_per_round));
    }
    std::fprintf(out, "\n");
  }

  if (any_pingpong) {
    std::fprintf(out,
                 "ping-pong round trip in microseconds (leader times send + echo; max is "
                 "over all rounds; \"vs pipe\" is p50 / pipe's p50, \"vs ring\" p50 / "
                 "shm-ring's p50, \"vs C++\" a win32-* row's p50 / the sluice-* row's; lower is "
                 "better)\n");
    std::fprintf(out, "%-15s %8s %9s %9s %9s %9s %9s %8s %8s %9s\n", "transport", "size", "p50",
                 "p99", "p99.9", "max", "vs pipe", "vs ring", "vs C++", "samples");
    for (const Row& row : rows) {
      if (row.spec.test != TestKind::kPingPong) continue;
      const std::string size = format_size(row.spec.size_bytes);
      if (row.result.status != JobStatus::kOk) {
        std::fprintf(out, "%-15s %8s  %s: %s\n", row.spec.transport.c_str(), size.c_str(),
                     status_word(row.result.status), row.result.error.c_str());
        continue;
      }
      const Row* pipe = find_pipe_row(rows, row);
      const std::string ratio =
          pipe != nullptr ? format_ratio(row.result.p50_us / pipe->result.p50_us) : "-";
      const double vs_ring = ring_ratio(rows, row);
      const std::string ring_text = vs_ring > 0 ? format_ratio(vs_ring) : "-";
      const Row* api = find_cpp_api_row(rows, row);
      const std::string api_ratio =
          api != nullptr ? format_ratio(row.result.p50_us / api->result.p50_us) : "-";
      std::fprintf(out, "%-15s %8s %9.2f %9.2f %9.2f %9.1f %9s %8s %8s %9llu\n",
                   row.spec.transport.c_str(), size.c_str(), row.result.p50_us, row.result.p99_us,
                   row.result.p999_us, row.result.max_us, ratio.c_str(), ring_text.c_str(),
                   api_ratio.c_str(),
                   static_cast<unsigned long long>(row.result.messages_per_round));
    }
  }
  print_connect_table(out, rows);
  print_echo_tables(out, rows);
}

void print_json(std::FILE* out, const std::vector<Row>& rows) {
  std::fprintf(out, "[");
  const char* separator = "\n";
  for (const Row& row : rows) {
    const bool throughput = row.spec.test == TestKind::kThroughput;
    std::fprintf(out, "%s  {\"test\": \"%s\", \"transport\": %s", separator,
                 test_name(row.spec.test), json_string(row.spec.transport).c_str());
    separator = ",\n";
    if (row.spec.test == TestKind::kEcho) {
      std::fprintf(out, ", \"clients\": %d, \"size_bytes\": %zu", row.spec.clients,
                   row.spec.size_bytes);
    } else if (row.spec.test == TestKind::kEchoScale) {
      std::fprintf(out,
                   ", \"processes\": %d, \"connections_per_process\": %d, \"buffer_bytes\": %zu",
                   row.spec.clients, row.spec.connections_per_client, row.spec.buffer_bytes);
    } else {
      std::fprintf(out, ", \"size_bytes\": %zu", row.spec.size_bytes);
    }
    if (row.result.status != JobStatus::kOk) {
      std::fprintf(out, ", \"%s\": %s}",
                   row.result.status == JobStatus::kSkipped ? "skipped" : "error",
                   json_string(row.result.error).c_str());
      continue;
    }
    if (row.spec.test == TestKind::kEcho) {
      std::fprintf(out, ", \"requests_per_s\": %.0f, \"p50_us\": %.3f, \"p99_us\": %.3f}",
                   row.result.requests_per_s, row.result.p50_us, row.result.p99_us);
    } else if (row.spec.test == TestKind::kEchoScale) {
      std::fprintf(out,
                   ", \"connections\": %llu, \"server_fds_per_connection\": %.2f, "
                   "\"client_fds_per_connection\": %.2f, \"server_pss_bytes_per_connection\": "
                   "%.0f, \"client_pss_bytes_per_connection\": %.0f, "
                   "\"rss_bytes_per_connection\": %.0f}",
                   static_cast<unsigned long long>(row.result.connections),
                   row.result.server_fds_per_connection, row.result.client_fds_per_connection,
                   row.result.server_pss_bytes_per_connection,
                   row.result.client_pss_bytes_per_connection, row.result.rss_bytes_per_connection);
    } else if (throughput) {
      std::fprintf(out, ", \"mb_per_s\": %.1f, \"msgs_per_s\": %.0f", row.result.mb_per_s,
                   row.result.msgs_per_s);
    } else {
      std::fprintf(out, ", \"p50_us\": %.3f, \"p99_us\": %.3f, \"p999_us\": %.3f, \"max_us\": %.3f",
                   row.result.p50_us, row.result.p99_us, row.result.p999_us, row.result.max_us);
    }
    if (row.spec.test == TestKind::kThroughput || row.spec.test == TestKind::kPingPong) {
      const double vs_ring = ring_ratio(rows, row);
      if (vs_ring > 0) std::fprintf(out, ", \"vs_ring\": %.4f", vs_ring);
      std::fprintf(out, "}");
    } else if (row.spec.test == TestKind::kConnect) {
      const Row* unix_row = find_row(rows, row, "unix-stream");
      if (unix_row != nullptr) {
        std::fprintf(out, ", \"vs_unix_stream\": %.4f",
                     row.result.p50_us / unix_row->result.p50_us);
      }
      std::fprintf(out, "}");
    }
  }
  std::fprintf(out, "\n]\n");
}

}  // namespace sluice::bench
