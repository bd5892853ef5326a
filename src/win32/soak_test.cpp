// Soak: overlapped reads and writes in flight on both ends of a message pipe at once, served by
// the threads of one completion port, with or without random cancellations on both sides.
// Whatever the interleaving, every operation completes exactly once, a write completes with
// success exactly when its message is (or will be) read, whole and in order, and nothing else
// arrives.
//
// SLUICE_SOAK_SECONDS=N runs it for N seconds instead of the short run CI makes;
// SLUICE_SOAK_SEED=S repeats the random choices of a failed run (the seed it reports), though
// not its timing. A stall (operations that never complete) ends the process: its threads wait
// for completions that will not come and cannot be joined.
#include <windows.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "win32/win32_test_util.hpp"

namespace {

using Clock = std::chrono::steady_clock;

constexpr int kInFlight = 8;         // operations pending per side at most
constexpr DWORD kMaxMessage = 1500;  // < kReadBuffer: no read ever takes part of one
constexpr DWORD kReadBuffer = 2048;
constexpr ULONG_PTR kWriteKey = 1;
constexpr ULONG_PTR kReadKey = 2;

// One side's operations: OVERLAPPED slots, each reused once its operation has completed.
struct Slot {
  OVERLAPPED ov{};
  std::array<char, kReadBuffer> buffer{};
  std::uint64_t seq = 0;  // writes: the message's number; reads: the read's issue number
  bool pending = false;   // guarded by Side::mu
};

struct Side {
  std::mutex mu;
  std::condition_variable freed;  // a slot's operation completed
  std::array<Slot, kInFlight> slots;
  int pending = 0;  // guarded by mu
};

struct Outcome {
  std::mutex mu;
  std::set<std::uint64_t> written;                             // writes that succeeded
  std::set<std::uint64_t> aborted;                             // writes that were cancelled
  std::vector<std::pair<std::uint64_t, std::uint64_t>> reads;  // (read issue number, message)
  int completions = 0;
  std::vector<std::string> errors;
};

std::uint64_t message_number(const char* data, DWORD size) {
  std::uint64_t n = 0;
  if (size >= sizeof n) std::memcpy(&n, data, sizeof n);
  return n;
}

double soak_seconds() {
  const char* env = std::getenv("SLUICE_SOAK_SECONDS");
  return env ? std::atof(env) : 1.5;
}

unsigned soak_seed() {
  const char* env = std::getenv("SLUICE_SOAK_SEED");
  return env ? static_cast<unsigned>(std::strtoul(env, nullptr, 10)) : std::random_device{}();
}

[[noreturn]] void stalled(const std::string& what, unsigned seed) {
  std::printf("FAILED: %s (seed %u)\n", what.c_str(), seed);
  std::fflush(stdout);
  std::abort();
}

// `cancels`: the issuers cancel an operation (pending, completed or reused) now and then.
void soak(bool cancels) {
  std::string name = sluice::win32::testing::unique_pipe_name();
  const DWORD type = PIPE_TYPE_MESSAGE | PIPE_READMODE_MESSAGE | PIPE_WAIT;
  HANDLE server = CreateNamedPipeA(name.c_str(), PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED, type, 1,
                                   4096, 4096, 0, nullptr);
  ASSERT_NE(server, INVALID_HANDLE_VALUE);
  HANDLE client = CreateFileA(name.c_str(), GENERIC_READ | GENERIC_WRITE, 0, nullptr, OPEN_EXISTING,
                              FILE_FLAG_OVERLAPPED, nullptr);
  ASSERT_NE(client, INVALID_HANDLE_VALUE);
  DWORD mode = PIPE_READMODE_MESSAGE;
  ASSERT_TRUE(SetNamedPipeHandleState(client, &mode, nullptr, nullptr));
  HANDLE port = CreateIoCompletionPort(client, nullptr, kWriteKey, 0);
  ASSERT_NE(port, nullptr);
  ASSERT_EQ(CreateIoCompletionPort(server, port, kReadKey, 0), port);

  const unsigned seed = soak_seed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  Side writes, reads;
  Outcome out;
  std::atomic<std::uint64_t> issued{0};

  // Two threads take the packets, as a completion-port server's pool does.
  auto worker = [&] {
    for (;;) {
      DWORD bytes = 0;
      ULONG_PTR key = 0;
      LPOVERLAPPED ov = nullptr;
      BOOL ok = GetQueuedCompletionStatus(port, &bytes, &key, &ov, INFINITE);
      DWORD error = ok ? ERROR_SUCCESS : GetLastError();
      if (ov == nullptr) return;  // the end-of-test packet, or the port closed
      Side& side = key == kWriteKey ? writes : reads;
      Slot& slot = *reinterpret_cast<Slot*>(ov);  // ov is the slot's first member
      {
        std::lock_guard lock(out.mu);
        ++out.completions;
        if (key == kWriteKey) {
          if (error == ERROR_SUCCESS) {
            out.written.insert(slot.seq);
          } else if (error == ERROR_OPERATION_ABORTED) {
            out.aborted.insert(slot.seq);
          } else {
            out.errors.push_back("write ended with " + std::to_string(error));
          }
        } else if (error == ERROR_SUCCESS) {
          out.reads.emplace_back(slot.seq, message_number(slot.buffer.data(), bytes));
        } else if (error != ERROR_OPERATION_ABORTED) {
          out.errors.push_back("read ended with " + std::to_string(error));
        }
      }
      std::lock_guard lock(side.mu);
      if (!slot.pending) {
        std::lock_guard out_lock(out.mu);
        out.errors.push_back("a second completion for one operation");
      }
      slot.pending = false;
      --side.pending;
      side.freed.notify_all();
    }
  };
  std::thread worker1(worker), worker2(worker);

  // Issues operations on one side while `more` says so, cancelling one now and then.
  auto issuer = [&](Side& side, HANDLE h, bool write, unsigned side_seed, auto more) {
    std::mt19937 rng(side_seed);
    std::uint64_t next = 1;
    while (more()) {
      std::unique_lock lock(side.mu);
      auto free_slot = std::find_if(side.slots.begin(), side.slots.end(),
                                    [](const Slot& s) { return !s.pending; });
      if (free_slot == side.slots.end()) {
        // All in flight: cancel one now and then, else wait for one to complete.
        if (cancels && rng() % 4 == 0) {
          lock.unlock();
          (void)CancelIoEx(h, &side.slots[rng() % kInFlight].ov);
        } else {
          side.freed.wait_for(lock, std::chrono::milliseconds(1));
        }
        continue;
      }
      Slot& slot = *free_slot;
      slot.ov = OVERLAPPED{};
      slot.seq = next++;
      slot.pending = true;
      ++side.pending;
      lock.unlock();
      BOOL ok;
      if (write) {
        constexpr DWORD kNumber = sizeof slot.seq;
        DWORD size = kNumber + static_cast<DWORD>(rng() % (kMaxMessage - kNumber));
        std::memcpy(slot.buffer.data(), &slot.seq, sizeof slot.seq);
        ok = WriteFile(h, slot.buffer.data(), size, nullptr, &slot.ov);
        issued = slot.seq;
      } else {
        ok = ReadFile(h, slot.buffer.data(), kReadBuffer, nullptr, &slot.ov);
      }
      if (!ok && GetLastError() != ERROR_IO_PENDING) {
        std::lock_guard out_lock(out.mu);
        out.errors.push_back(std::string(write ? "WriteFile" : "ReadFile") + " failed with " +
                             std::to_string(GetLastError()));
        return;
      }
      // A cancellation may find the operation pending, completed, or even its slot reused.
      if (cancels && rng() % 8 == 0) (void)CancelIoEx(h, &side.slots[rng() % kInFlight].ov);
    }
  };

  const auto stop_writing = Clock::now() + std::chrono::duration<double>(soak_seconds());
  std::atomic<bool> writing{true};
  std::thread reader([&] {
    // Reads go on until every message of a successful write has arrived (then a last read
    // stays pending, and is cancelled below).
    issuer(reads, server, false, seed + 1, [&] {
      if (writing) return true;
      std::lock_guard lock(out.mu);
      return out.reads.size() < out.written.size() && out.errors.empty();
    });
  });
  issuer(writes, client, true, seed, [&] { return Clock::now() < stop_writing; });
  // Every write completes: the reader keeps reading.
  auto deadline = Clock::now() + std::chrono::seconds(30);
  {
    std::unique_lock lock(writes.mu);
    if (!writes.freed.wait_until(lock, deadline, [&] { return writes.pending == 0; })) {
      std::lock_guard reads_lock(reads.mu);
      stalled(std::to_string(writes.pending) + " writes and " + std::to_string(reads.pending) +
                  " reads still pending after 30 s",
              seed);
    }
  }
  writing = false;
  reader.join();
  EXPECT_TRUE(CancelIoEx(server, nullptr) || GetLastError() == ERROR_NOT_FOUND);
  {
    std::unique_lock lock(reads.mu);
    if (!reads.freed.wait_until(lock, deadline, [&] { return reads.pending == 0; }))
      stalled("reads still pending after their cancellation", seed);
  }
  for (int i = 0; i < 2; ++i) {
    if (!PostQueuedCompletionStatus(port, 0, 0, nullptr)) stalled("no end packet", seed);
  }
  worker1.join();
  worker2.join();

  EXPECT_TRUE(out.errors.empty()) << out.errors.front();
  // Each write completed once, as a success or as cancelled.
  EXPECT_EQ(out.written.size() + out.aborted.size(), issued.load());
  // In the order the reads were issued, messages arrive in the order they were written...
  std::sort(out.reads.begin(), out.reads.end());
  std::set<std::uint64_t> arrived;
  std::uint64_t last = 0;
  for (const auto& [read, message] : out.reads) {
    EXPECT_GT(message, last) << "read " << read << " got message " << message << " after " << last;
    last = message;
    arrived.insert(message);
  }
  // ... and exactly the messages of the writes that succeeded.
  std::vector<std::uint64_t> unexpected, lost;
  std::set_difference(arrived.begin(), arrived.end(), out.written.begin(), out.written.end(),
                      std::back_inserter(unexpected));
  std::set_difference(out.written.begin(), out.written.end(), arrived.begin(), arrived.end(),
                      std::back_inserter(lost));
  auto describe = [&](const std::vector<std::uint64_t>& messages) {
    std::string text;
    for (std::size_t i = 0; i < messages.size() && i < 10; ++i) {
      text += " " + std::to_string(messages[i]) +
              (out.aborted.count(messages[i]) != 0 ? " (its write was cancelled)" : "");
    }
    return text;
  };
  EXPECT_TRUE(unexpected.empty()) << unexpected.size()
                                  << " arrived, not written:" << describe(unexpected);
  EXPECT_TRUE(lost.empty()) << lost.size() << " written, never arrived:" << describe(lost);
  EXPECT_EQ(out.reads.size(), arrived.size()) << "a message arrived twice";
  EXPECT_GT(out.written.size(), 0u);
  if (cancels) {
    EXPECT_GT(out.aborted.size(), 0u) << "no write was cancelled: the test proved little";
  }
  std::printf("soak: %zu writes succeeded, %zu cancelled, %zu reads, %d completions\n",
              out.written.size(), out.aborted.size(), out.reads.size(), out.completions);

  CloseHandle(client);
  CloseHandle(server);
  CloseHandle(port);
}

// Failed before: a completion-port thread slept with packets queued for it, once another thread
// took the engine wake-up meant for it, or refused it the engine while packets came.
TEST(Win32Soak, ReadsAndWritesInFlightOnBothEndsAllCompleteInOrderAndLoseNothing) { soak(false); }

// Failed before within a second or two: a write that completed as cancelled could still deliver
// its message (the reader read a fragment's tag just before the writer withdrew it: the reader
// now claims each fragment, shm/segment_layout.hpp, so exactly one of the two wins); and, in
// about one run in
// twenty, a read cancelled inside a message still on its way lost what it had taken, so the
// next read got the message without its beginning (now kept for that read: carry_).
TEST(Win32Soak, RandomCancellationsCompleteEachOperationOnceAndDeliverExactlyTheSuccessfulWrites) {
  soak(true);
}

}  // namespace
