// sluice-microbench — Google Benchmark micro-costs. BM_Baseline_*: what the kernel and the CPU
// charge for the pieces a shared-memory pipe is built from, as a floor for the ring benchmarks
// to come (BM_Ring_*). Every loop checks its result, so a broken build fails instead of
// reporting a fast no-op.
#include <benchmark/benchmark.h>
#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <vector>

namespace {

long futex_wake(std::uint32_t* word, int op) {
  return ::syscall(SYS_futex, word, op, 1, nullptr, nullptr, 0);
}

void BM_Baseline_Memcpy(benchmark::State& state) {
  const auto size = static_cast<std::size_t>(state.range(0));
  std::vector<unsigned char> source(size);
  std::vector<unsigned char> target(size);
  for (std::size_t i = 0; i < size; ++i) source[i] = static_cast<unsigned char>(i * 131 + 7);
  for (auto _ : state) {
    benchmark::DoNotOptimize(source.data());
    std::memcpy(target.data(), source.data(), size);
    benchmark::ClobberMemory();
    if (target[0] != source[0] || target[size - 1] != source[size - 1]) {
      state.SkipWithError("memcpy copied the wrong bytes");
      break;
    }
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_Baseline_Memcpy)->Arg(64)->Arg(4096)->Arg(65536);

// FUTEX_WAKE on a word nobody waits on: the syscall a writer pays when it signals a reader that
// is spinning or busy, i.e. the price of not tracking whether anyone sleeps.
void BM_Baseline_FutexWakeNoWaiterPrivate(benchmark::State& state) {
  std::uint32_t word = 0;
  for (auto _ : state) {
    if (futex_wake(&word, FUTEX_WAKE_PRIVATE) != 0) {
      state.SkipWithError("FUTEX_WAKE_PRIVATE did not return 0 woken");
      break;
    }
  }
}
BENCHMARK(BM_Baseline_FutexWakeNoWaiterPrivate);

// The same on a MAP_SHARED word, as between processes (the kernel hashes by inode and offset,
// not by mm, so this path differs from the private one).
void BM_Baseline_FutexWakeNoWaiterShared(benchmark::State& state) {
  void* page = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (page == MAP_FAILED) {
    state.SkipWithError("mmap failed");
    return;
  }
  auto* word = static_cast<std::uint32_t*>(page);
  for (auto _ : state) {
    if (futex_wake(word, FUTEX_WAKE) != 0) {
      state.SkipWithError("FUTEX_WAKE did not return 0 woken");
      break;
    }
  }
  ::munmap(page, 4096);
}
BENCHMARK(BM_Baseline_FutexWakeNoWaiterShared);

// What one latency sample costs sluice-bench (it calls this twice per round trip).
void BM_Baseline_ClockGettimeMonotonic(benchmark::State& state) {
  timespec last{};
  for (auto _ : state) {
    timespec now;
    ::clock_gettime(CLOCK_MONOTONIC, &now);
    if (now.tv_sec < last.tv_sec || (now.tv_sec == last.tv_sec && now.tv_nsec < last.tv_nsec)) {
      state.SkipWithError("CLOCK_MONOTONIC went backwards");
      break;
    }
    last = now;
  }
}
BENCHMARK(BM_Baseline_ClockGettimeMonotonic);

}  // namespace

BENCHMARK_MAIN();
