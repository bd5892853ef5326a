// Micro-costs of the data path: the ring alone, and one write + one read through the C++ API,
// both in one thread (no cache lines cross cores, no waits): the floor under sluice-bench.
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <filesystem>
#include <vector>

#include "shm/channel.hpp"
#include "sluice/named_pipe.hpp"

namespace {

using sluice::shm::Channel;

void BM_Ring_AppendThenReadMessage(benchmark::State& state) {
  auto a = Channel::create(1 << 20).value();
  auto b = Channel::create(1 << 20).value();
  if (!a.attach_peer(sluice::os::duplicate_descriptor(b.own_fd()).value()) ||
      !b.attach_peer(sluice::os::duplicate_descriptor(a.own_fd()).value())) {
    state.SkipWithError("attach failed");
    return;
  }
  auto size = static_cast<std::size_t>(state.range(0));
  std::vector<std::byte> in(size, std::byte{0x5A}), out(size);
  for (auto _ : state) {
    if (a.fragment_room(size).value() < static_cast<std::int64_t>(size)) {
      state.SkipWithError("ring full");
      break;
    }
    a.append(in.data(), size, sluice::shm::kFirst | sluice::shm::kLast);
    auto taken = b.read_message(out.data(), out.size()).value();
    if (!taken.message_done || taken.bytes != size) {
      state.SkipWithError("short read");
      break;
    }
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * size));
}
BENCHMARK(BM_Ring_AppendThenReadMessage)->Arg(64)->Arg(4096)->Arg(65536);

void BM_Ring_PipeEndWriteThenRead(benchmark::State& state) {
  char pattern[] = "/tmp/sluice-microbench-XXXXXX";
  if (!::mkdtemp(pattern)) {
    state.SkipWithError("mkdtemp failed");
    return;
  }
  {
    auto registry = sluice::Registry::open(pattern).value();
    sluice::ServerOptions o;
    o.type = sluice::PipeType::kMessage;
    o.read_mode = sluice::ReadMode::kMessage;
    o.out_buffer_size = 1 << 20;
    auto server = sluice::ServerEnd::create(registry, "\\\\.\\pipe\\microbench", o).value();
    auto client = sluice::ClientEnd::open(registry, "\\\\.\\pipe\\microbench").value();
    (void)client.set_state(sluice::ReadMode::kMessage, sluice::WaitMode::kWait).value();
    auto size = static_cast<std::size_t>(state.range(0));
    std::vector<std::byte> in(size, std::byte{0x33}), out(size);
    for (auto _ : state) {
      if (server.write(in).value_or(0) != size || client.read(out).value().bytes != size) {
        state.SkipWithError("transfer failed");
        break;
      }
      benchmark::DoNotOptimize(out.data());
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * size));
  }
  std::error_code ignored;
  std::filesystem::remove_all(pattern, ignored);
}
BENCHMARK(BM_Ring_PipeEndWriteThenRead)->Arg(64)->Arg(4096);

}  // namespace
