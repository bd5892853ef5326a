// BM_Connect_*: what setting up a connection costs, through the public API. Security is
// checked here (the namespace's owner and entries, the client against the descriptor with the
// kernel's credentials), never on the data path, so these are where it shows.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>

#include "sluice/named_pipe.hpp"

namespace {

// A private namespace for one benchmark, removed after it.
class Namespace {
 public:
  Namespace() {
    char pattern[] = "/tmp/sluice-connect-bench-XXXXXX";
    if (::mkdtemp(pattern)) path_ = pattern;
    auto reg = sluice::Registry::open(path_);
    if (reg) registry_.emplace(std::move(*reg));
  }
  ~Namespace() {
    registry_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  sluice::Registry* registry() { return registry_ ? &*registry_ : nullptr; }

 private:
  std::string path_;
  std::optional<sluice::Registry> registry_;
};

// A client opens an instance and closes; the server disconnects and listens again (no-wait
// mode, so one thread does both sides): the client's whole open, handshake included.
void BM_Connect_OpenAndClose(benchmark::State& state) {
  Namespace ns;
  if (!ns.registry()) return state.SkipWithError("no registry");
  const char* name = R"(\\.\pipe\connect-bench)";
  sluice::ServerOptions options;
  options.wait_mode = sluice::WaitMode::kNoWait;
  auto server = sluice::ServerEnd::create(*ns.registry(), name, options);
  if (!server) return state.SkipWithError("create failed");
  for (auto _ : state) {
    auto client = sluice::ClientEnd::open(*ns.registry(), name);
    if (!client) return state.SkipWithError(client.error().message().c_str());
    client->close();
    if (!server->disconnect()) return state.SkipWithError("disconnect failed");
    auto listening = server->connect();
    if (listening || listening.error() != sluice::errc::kPipeListening)
      return state.SkipWithError("the instance did not listen again");
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Connect_OpenAndClose)->UseRealTime();

// A name created and gone again: the first instance of a new name, then its close.
void BM_Connect_CreateAndCloseAName(benchmark::State& state) {
  Namespace ns;
  if (!ns.registry()) return state.SkipWithError("no registry");
  std::uint64_t i = 0;
  for (auto _ : state) {
    std::string name = R"(\\.\pipe\connect-bench-)" + std::to_string(i++);
    auto server = sluice::ServerEnd::create(*ns.registry(), name);
    if (!server) return state.SkipWithError(server.error().message().c_str());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Connect_CreateAndCloseAName)->UseRealTime();

// One more instance of a name that exists.
void BM_Connect_AddAnInstance(benchmark::State& state) {
  Namespace ns;
  if (!ns.registry()) return state.SkipWithError("no registry");
  const char* name = R"(\\.\pipe\connect-bench)";
  auto first = sluice::ServerEnd::create(*ns.registry(), name);
  if (!first) return state.SkipWithError("create failed");
  for (auto _ : state) {
    auto server = sluice::ServerEnd::create(*ns.registry(), name);
    if (!server) return state.SkipWithError(server.error().message().c_str());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Connect_AddAnInstance)->UseRealTime();

}  // namespace
