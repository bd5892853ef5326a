// sluice-demo, part 1: a message-mode named pipe served by several instances in this process and
// used by client processes that re-exec the demo binary.
#pragma once

#include <string>
#include <vector>

#include <sluice/registry.hpp>

namespace demo {

/// What the named-pipe part runs: `instances` server threads, `clients` client processes, each
/// doing `transactions` request/reply round trips, reconnecting every `per_connection` of them.
struct ServiceConfig {
  int instances = 4;
  int clients = 6;
  int transactions = 200;
  int per_connection = 50;
};

/// Runs the server side and the client processes; prints progress and a summary. `self` is the
/// path of this executable, re-run as `self --client ...`. Returns whether every reply was right.
bool run_message_service(sluice::Registry& registry, const std::string& self,
                         const ServiceConfig& config);

/// The body of a client process (`sluice-demo --client DIR NAME INDEX TRANSACTIONS PER_CONN`).
/// Returns the process exit code.
int run_client_process(const std::vector<std::string>& args);

}  // namespace demo
