// sluice-microbench — the Win32 layer's cost per call: WriteFile then ReadFile of one message
// through the same pipe as BM_Ring_PipeEndWriteThenRead, so the two differ only by the layer
// (handle lookup, last error, argument checks). Plain windows.h, as a ported program calls it.
#include <windows.h>
#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

namespace {

void BM_Win32_WriteFileThenReadFile(benchmark::State& state) {
  const std::string name =
      "\\\\.\\pipe\\sluice-microbench-win32-" + std::to_string(GetCurrentProcessId());
  HANDLE server = CreateNamedPipeA(name.c_str(), PIPE_ACCESS_DUPLEX,
                                   PIPE_TYPE_MESSAGE | PIPE_READMODE_MESSAGE | PIPE_WAIT, 1,
                                   1 << 20, 1 << 20, 0, nullptr);
  if (server == INVALID_HANDLE_VALUE) {
    state.SkipWithError("CreateNamedPipe failed (is SLUICE_PIPE_DIR writable?)");
    return;
  }
  HANDLE client = CreateFileA(name.c_str(), GENERIC_READ | GENERIC_WRITE, 0, nullptr, OPEN_EXISTING,
                              0, nullptr);
  DWORD mode = PIPE_READMODE_MESSAGE;
  if (client == INVALID_HANDLE_VALUE || !SetNamedPipeHandleState(client, &mode, nullptr, nullptr)) {
    state.SkipWithError("CreateFile or SetNamedPipeHandleState failed");
    CloseHandle(server);
    return;
  }
  const auto size = static_cast<DWORD>(state.range(0));
  std::vector<unsigned char> in(size, 0x33), out(size);
  for (auto _ : state) {
    DWORD written = 0, got = 0;
    if (!WriteFile(server, in.data(), size, &written, nullptr) || written != size ||
        !ReadFile(client, out.data(), size, &got, nullptr) || got != size) {
      state.SkipWithError("transfer failed");
      break;
    }
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * size);
  CloseHandle(client);
  CloseHandle(server);
}
BENCHMARK(BM_Win32_WriteFileThenReadFile)->Arg(64)->Arg(4096);

// A relay of N threads, each waiting on its own auto-reset event and setting the next one's:
// one hand-off per iteration. Every hand-off wakes exactly one thread on Windows, so what this
// costs above BM_Win32_EventRelay/2 is what waking costs for the threads it should not wake
// (the issue of one waitable-object primitive with per-object waiter lists measures it).
void BM_Win32_EventRelay(benchmark::State& state) {
  const auto threads = static_cast<int>(state.range(0));
  std::vector<HANDLE> events(threads);
  for (auto& e : events) e = CreateEventA(nullptr, FALSE, FALSE, nullptr);
  HANDLE back = CreateEventA(nullptr, FALSE, FALSE, nullptr);  // the last thread to the loop
  std::vector<std::thread> relay;
  std::atomic<bool> stop{false};
  for (int i = 0; i < threads; ++i) {
    relay.emplace_back([&, i] {
      for (;;) {
        if (WaitForSingleObject(events[i], INFINITE) != WAIT_OBJECT_0 || stop) return;
        SetEvent(i + 1 < threads ? events[i + 1] : back);
      }
    });
  }
  for (auto _ : state) {
    SetEvent(events[0]);
    if (WaitForSingleObject(back, 10000) != WAIT_OBJECT_0) {
      state.SkipWithError("the relay stalled");
      break;
    }
  }
  stop = true;
  for (auto& e : events) SetEvent(e);
  for (auto& t : relay) t.join();
  for (auto& e : events) CloseHandle(e);
  CloseHandle(back);
  state.SetItemsProcessed(state.iterations() * threads);  // hand-offs
}
BENCHMARK(BM_Win32_EventRelay)->Arg(2)->Arg(16)->Arg(64)->UseRealTime();

}  // namespace
