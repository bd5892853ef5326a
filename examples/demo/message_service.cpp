#include "message_service.hpp"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include <sluice/named_pipe.hpp>
#include <sluice/process.hpp>

#include "text.hpp"

namespace demo {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// The reply to "client 3 request 17" from instance 2 is "[instance 2] CLIENT 3 REQUEST 17": the
// client can check every byte and still learn which instance answered.
std::string reply_for(int instance, std::string_view request) {
  std::string reply = "[instance " + std::to_string(instance) + "] ";
  for (char c : request) reply += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return reply;
}

// What one server thread saw.
struct InstanceStats {
  int connections = 0;
  int transactions = 0;
  std::set<std::uint32_t> client_pids;  // from client_process_id(), one per connection
  std::string error;                    // the first failure, if any
};

// One instance's life: connect → answer requests until the client closes → disconnect → connect
// again, until `stop`. connect_for's time-out is only there to notice `stop`.
void serve(sluice::ServerEnd& server, int instance, const std::atomic<bool>& stop,
           InstanceStats& stats) {
  auto fail = [&](std::string_view what, std::error_code e) {
    stats.error = std::string(what) + ": " + e.message();
  };
  std::byte request[512];
  while (!stop.load()) {
    auto connected = server.connect_for(100ms);
    if (connected.error() == sluice::errc::kWaitTimeout) continue;
    // kNoData: the client came and went before we looked; disconnect to listen again.
    if (connected || connected.error() == sluice::errc::kNoData) {
      ++stats.connections;
      if (auto pid = server.client_process_id()) stats.client_pids.insert(*pid);
    } else {
      return fail("connect", connected.error());
    }
    for (;;) {
      auto got = server.read(request);
      if (got.error() == sluice::errc::kBrokenPipe) break;  // client closed: the normal end
      if (!got) return fail("read", got.error());
      if (got->more_data) return fail("read", sluice::errc::kMoreData);  // requests are small
      std::string reply = reply_for(instance, as_text(std::span(request, got->bytes)));
      if (auto sent = server.write(as_bytes(reply)); !sent) return fail("write", sent.error());
      ++stats.transactions;
    }
    if (auto done = server.disconnect(); !done) return fail("disconnect", done.error());
  }
}

}  // namespace

bool run_message_service(sluice::Registry& registry, const std::string& self,
                         const ServiceConfig& config) {
  // The registry directory is private to this run, so a fixed name cannot meet another run.
  std::string name = R"(\\.\pipe\sluice-demo\echo-upper)";
  sluice::ServerOptions options;
  options.type = sluice::PipeType::kMessage;
  options.read_mode = sluice::ReadMode::kMessage;
  options.max_instances = static_cast<std::uint32_t>(config.instances);
  options.out_buffer_size = 4096;
  options.in_buffer_size = 4096;

  std::vector<sluice::ServerEnd> servers;
  for (int i = 0; i < config.instances; ++i) {
    auto server = sluice::ServerEnd::create(registry, name, options);
    if (!server) return report("create server instance", server.error());
    servers.push_back(std::move(*server));
  }
  std::uint32_t server_pid = servers[0].server_process_id().value();
  std::printf("  pipe %s: %d message-mode instances, served by threads of pid %u\n", name.c_str(),
              config.instances, server_pid);

  std::atomic<bool> stop{false};
  std::vector<InstanceStats> stats(servers.size());
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < servers.size(); ++i)
    threads.emplace_back(serve, std::ref(servers[i]), static_cast<int>(i), std::cref(stop),
                         std::ref(stats[i]));

  std::printf("  starting %d client processes, %d transactions each (reconnecting every %d)\n\n",
              config.clients, config.transactions, config.per_connection);
  std::fflush(stdout);  // before the children write to the same stdout
  auto start = Clock::now();
  std::vector<sluice::Process> children;
  std::set<std::uint32_t> child_pids;
  bool ok = true;
  for (int i = 0; i < config.clients; ++i) {
    auto child = sluice::Process::spawn(
        {.argv = {self, "--client", registry.directory(), name, std::to_string(i),
                  std::to_string(config.transactions), std::to_string(config.per_connection)},
         .inherit_handles = false});
    if (!child) {
      ok = report("spawn client process", child.error());
      break;
    }
    child_pids.insert(child->pid());
    children.push_back(std::move(*child));
  }
  int failed_children = 0;
  for (auto& child : children) {
    auto code = child.wait(60s);
    if (!code) {
      report("client process " + std::to_string(child.pid()), code.error());
      (void)child.kill();
      (void)child.wait(5s);
    }
    if (!code || *code != 0) ++failed_children;
  }
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();

  stop = true;
  for (auto& t : threads) t.join();

  int transactions = 0;
  std::set<std::uint32_t> seen_pids;
  std::printf("\n  server side (client pids from client_process_id()):\n");
  for (std::size_t i = 0; i < stats.size(); ++i) {
    const auto& s = stats[i];
    transactions += s.transactions;
    seen_pids.insert(s.client_pids.begin(), s.client_pids.end());
    std::string pids;
    for (auto pid : s.client_pids) pids += " " + std::to_string(pid);
    std::printf("    instance %zu: %2d connections, %4d transactions, clients%s\n", i,
                s.connections, s.transactions, pids.c_str());
    if (!s.error.empty()) {
      std::fprintf(stderr, "sluice-demo: instance %zu: %s\n", i, s.error.c_str());
      ok = false;
    }
  }
  int expected = config.clients * config.transactions;
  std::printf(
      "\n  %d transactions in %.3f s: %.0f transactions/s"
      " (wall clock, including starting %d processes)\n",
      transactions, seconds, transactions / seconds, config.clients);
  bool all_seen = seen_pids == child_pids;
  std::printf("  every client process was seen by the server: %s\n", all_seen ? "yes" : "NO");
  if (failed_children > 0)
    std::fprintf(stderr, "sluice-demo: %d client processes failed\n", failed_children);
  return ok && all_seen && failed_children == 0 && transactions == expected;
}

int run_client_process(const std::vector<std::string>& args) {
  if (args.size() != 5) {
    std::fprintf(stderr, "usage: sluice-demo --client DIR NAME INDEX TRANSACTIONS PER_CONN\n");
    return 2;
  }
  const std::string& name = args[1];
  int index = std::stoi(args[2]);
  int transactions = std::stoi(args[3]);
  int per_connection = std::max(1, std::stoi(args[4]));
  auto registry = sluice::Registry::open(args[0]);
  if (!registry) return report("open registry", registry.error()), 1;

  std::set<int> instances;
  std::uint32_t my_pid = 0;
  std::uint32_t server_pid = 0;
  int verified = 0;
  char reply[512];
  sluice::ClientOptions message_reads;
  message_reads.read_mode = sluice::ReadMode::kMessage;
  while (verified < transactions) {
    // Waits while every instance is busy (another client may take the one it saw: it waits
    // again), as .NET's NamedPipeClientStream.Connect(timeout).
    auto client = sluice::ClientEnd::open_for(*registry, name, 30s, message_reads);
    if (!client) return report("open " + name, client.error()), 1;
    my_pid = client->client_process_id().value();
    server_pid = client->server_process_id().value();
    for (int n = 0; n < per_connection && verified < transactions; ++n) {
      std::string request =
          "client " + std::to_string(index) + " request " + std::to_string(verified);
      auto got = client->transact(as_bytes(request), std::as_writable_bytes(std::span(reply)));
      if (!got) return report("transact", got.error()), 1;
      std::string_view answer(reply, got->bytes);
      // "[instance K] " + the request in capitals, and nothing cut off.
      int instance = -1;
      auto close = answer.find("] ");
      if (answer.starts_with("[instance ") && close != std::string_view::npos)
        instance = std::stoi(std::string(answer.substr(10, close - 10)));
      if (got->more_data || instance < 0 || reply_for(instance, request) != answer) {
        std::fprintf(stderr, "sluice-demo: client %d: wrong reply to \"%s\": \"%.*s\"\n", index,
                     request.c_str(), static_cast<int>(answer.size()), answer.data());
        return 1;
      }
      instances.insert(instance);
      ++verified;
    }
  }  // each pass closes its ClientEnd, so the server's read sees kBrokenPipe and disconnects

  std::string served_by;
  for (int i : instances) served_by += " " + std::to_string(i);
  std::printf("  client %d (pid %u): %d/%d replies verified; server pid %u, instances%s\n", index,
              my_pid, verified, transactions, server_pid, served_by.c_str());
  return 0;
}

}  // namespace demo
