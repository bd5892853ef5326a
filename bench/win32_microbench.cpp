// sluice-microbench — the Win32 layer's cost per call: WriteFile then ReadFile of one message
// through the same pipe as BM_Ring_PipeEndWriteThenRead, so the two differ only by the layer
// (handle lookup, last error, argument checks). Plain windows.h, as a ported program calls it.
#include <benchmark/benchmark.h>
#include <windows.h>

#include <cstdint>
#include <string>
#include <vector>

namespace {

void BM_Win32_WriteFileThenReadFile(benchmark::State& state) {
  const std::string name = "\\\\.\\pipe\\sluice-microbench-win32-" + std::to_string(GetCurrentProcessId());
  HANDLE server = CreateNamedPipeA(name.c_str(), PIPE_ACCESS_DUPLEX,
                                   PIPE_TYPE_MESSAGE | PIPE_READMODE_MESSAGE | PIPE_WAIT, 1,
                                   1 << 20, 1 << 20, 0, nullptr);
  if (server == INVALID_HANDLE_VALUE) {
    state.SkipWithError("CreateNamedPipe failed (is SLUICE_PIPE_DIR writable?)");
    return;
  }
  HANDLE client = CreateFileA(name.c_str(), GENERIC_READ | GENERIC_WRITE, 0, nullptr,
                              OPEN_EXISTING, 0, nullptr);
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

}  // namespace
