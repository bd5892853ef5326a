// sluice-bench — main() of the exec'd echo server and echo client processes (see
// echo_protocol.hpp for the sequence, echo_runner.cpp for the side that starts them).
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "echo.hpp"
#include "echo_protocol.hpp"
#include "job.hpp"
#include "measure.hpp"
#include "proc_stats.hpp"

namespace sluice::bench {
namespace {

struct ProcessArgs {
  std::string role;
  std::string kind;
  int index = 0;
  int connections = 1;
  int rounds = 0;  // 0: the scale test (one more trip on every connection instead of rounds)
  std::int64_t round_ns = 0;
  int report_fd = -1;
  int go_fd = -1;
  EchoConfig config;
};

void send_record(int fd, std::int32_t who, EchoPhase phase, const std::string& message = {}) {
  EchoRecord record;
  record.who = who;
  record.phase = phase;
  std::snprintf(record.message, sizeof record.message, "%s", message.c_str());
  // One write below PIPE_BUF: atomic. A failure means the runner is gone; nothing to tell.
  (void)!::write(fd, &record, sizeof record);
}

std::int64_t read_go(int fd) {
  std::int64_t value = 0;
  const ssize_t got = ::read(fd, &value, sizeof value);
  if (got != static_cast<ssize_t>(sizeof value)) throw BenchError("go pipe closed");
  return value;
}

/// Request i of connection c of client `index`: a tag and a sequence number in front, then a
/// pattern, so a reply that belongs to another connection or another request never matches.
void fill_request(std::vector<std::byte>& request, int index, int connection,
                  std::uint64_t sequence) {
  const std::uint64_t tag =
      (static_cast<std::uint64_t>(index) << 32) | static_cast<std::uint32_t>(connection);
  for (std::size_t i = 16; i < request.size(); ++i) {
    request[i] = static_cast<std::byte>((i * 131 + static_cast<std::size_t>(index)) & 0xff);
  }
  if (request.size() >= 16) {
    std::memcpy(request.data(), &tag, sizeof tag);
    std::memcpy(request.data() + 8, &sequence, sizeof sequence);
  }
}

class Trip {
 public:
  Trip(int index, std::size_t size) : index_(index), request_(size), reply_(size) {}

  void run(EchoConnection& connection, int which) {
    fill_request(request_, index_, which, sequence_++);  // 64 B: a few ns
    connection.round_trip(request_, reply_);
    if (std::memcmp(request_.data(), reply_.data(), request_.size()) != 0) {
      throw BenchError("REPLY MISMATCH on connection " + std::to_string(which) + " at request " +
                       std::to_string(sequence_));
    }
  }

 private:
  int index_;
  std::vector<std::byte> request_;
  std::vector<std::byte> reply_;
  std::uint64_t sequence_ = 0;
};

int server_main(const ProcessArgs& args, const EchoServerKind& kind) {
  try {
    raise_fd_limit();
    const std::unique_ptr<EchoServer> server = kind.make_server(args.config);
    server->serve([&] { send_record(args.report_fd, kEchoServerIndex, EchoPhase::kStarted); });
    throw BenchError("serve() returned");
  } catch (const std::exception& e) {
    send_record(args.report_fd, kEchoServerIndex, EchoPhase::kError, e.what());
    return 1;
  }
}

int client_main(const ProcessArgs& args, const EchoServerKind& kind) {
  try {
    raise_fd_limit();
    const std::unique_ptr<EchoClient> client = kind.make_client(args.config);
    std::vector<std::unique_ptr<EchoConnection>> connections;
    connections.reserve(static_cast<std::size_t>(args.connections));
    Trip trip(args.index, args.config.message_bytes);
    send_record(args.report_fd, args.index, EchoPhase::kStarted);

    (void)read_go(args.go_fd);
    for (int c = 0; c < args.connections; ++c) connections.push_back(client->connect());
    for (int c = 0; c < args.connections; ++c) trip.run(*connections[c], c);
    send_record(args.report_fd, args.index, EchoPhase::kReady);

    const std::int64_t t0 = read_go(args.go_fd);
    std::vector<std::vector<float>> rounds(static_cast<std::size_t>(args.rounds));
    if (args.rounds == 0) {
      // Scale: every connection of every client is open now; each must still answer.
      for (int c = 0; c < args.connections; ++c) trip.run(*connections[c], c);
    } else {
      for (auto& samples : rounds) samples.reserve(1 << 16);
      const std::int64_t end = t0 + args.rounds * args.round_ns;
      std::int64_t start = monotonic_ns();
      for (int c = 0;; c = (c + 1) % args.connections) {
        trip.run(*connections[static_cast<std::size_t>(c)], c);
        const std::int64_t now = monotonic_ns();
        if (now >= end) break;
        if (now >= t0) {
          // Counted in the round in which the reply arrived.
          rounds[static_cast<std::size_t>((now - t0) / args.round_ns)].push_back(
              static_cast<float>(static_cast<double>(now - start) / 1e3));
        }
        start = now;
      }
    }
    std::FILE* out =
        std::fopen(echo_samples_path(args.config.scratch_dir, args.index).c_str(), "wb");
    if (out == nullptr) throw_errno("fopen samples");
    for (const auto& samples : rounds) {
      const std::uint64_t count = samples.size();
      std::fwrite(&count, sizeof count, 1, out);
      std::fwrite(samples.data(), sizeof(float), samples.size(), out);
    }
    if (std::fclose(out) != 0) throw_errno("fclose samples");
    send_record(args.report_fd, args.index, EchoPhase::kDone);
    return 0;
  } catch (const std::exception& e) {
    send_record(args.report_fd, args.index, EchoPhase::kError, e.what());
    return 1;
  }
}

}  // namespace

int run_echo_process(int argc, char** argv) {
  // argv: exe, flag, role, kind, scratch, index, connections, rounds, round_ns, report fd,
  // go fd, message bytes, buffer bytes, total connections (written by echo_runner.cpp only).
  if (argc != 14) return 2;
  ProcessArgs args;
  args.role = argv[2];
  args.kind = argv[3];
  args.config.scratch_dir = argv[4];
  args.index = std::atoi(argv[5]);
  args.connections = std::atoi(argv[6]);
  args.rounds = std::atoi(argv[7]);
  args.round_ns = std::atoll(argv[8]);
  args.report_fd = std::atoi(argv[9]);
  args.go_fd = std::atoi(argv[10]);
  args.config.message_bytes = static_cast<std::size_t>(std::atoll(argv[11]));
  args.config.buffer_bytes = static_cast<std::size_t>(std::atoll(argv[12]));
  args.config.connections = static_cast<std::size_t>(std::atoll(argv[13]));
  ::signal(SIGPIPE, SIG_IGN);
  const std::int32_t who = args.role == "server" ? kEchoServerIndex : args.index;
  std::string why_not;
  EchoServerKind kind;
  if (!find_echo_server_kind(args.kind, kind, why_not)) {
    send_record(args.report_fd, who, EchoPhase::kError, args.kind + ": " + why_not);
    return 1;
  }
  if (args.role == "server") return server_main(args, kind);
  if (args.role != "client" || args.connections < 1 || args.rounds < 0 || args.round_ns <= 0) {
    return 2;
  }
  return client_main(args, kind);
}

}  // namespace sluice::bench
