// Knowing that another thread is blocked in the kernel, without sleeping for a guessed time.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>

namespace sluice::testing {

/// The calling thread's kernel thread id.
int current_thread_id();

/// Waits up to `limit` until `tid` is published (non-zero) and that thread of this process is
/// asleep in the kernel ('S' in /proc/self/task/TID/stat). A worker publishes its id right
/// before a blocking call, so "asleep" then means "blocked inside that call". Returns false on
/// time-out.
bool wait_until_sleeping(const std::atomic<int>& tid, std::chrono::milliseconds limit);

/// Waits up to `limit` until `flag` is true; false on time-out. (Also used to show that
/// something does not happen within a short time.)
bool becomes_true(const std::atomic<bool>& flag, std::chrono::milliseconds limit);

/// How many threads this process has now (/proc/self/task).
std::size_t thread_count();

}  // namespace sluice::testing
