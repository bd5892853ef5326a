// Threads the Win32 layer starts for CreateThread: detached, with a chosen stack size.
#pragma once

#include <cstddef>

#include "sluice/result.hpp"

namespace sluice::os {

/// Starts a detached thread running `entry(argument)` with a stack of `stack_size` bytes (under
/// 64 KiB, 0 included: the default size). Errors: kNotEnoughMemory (no thread could be made).
Result<void> start_detached_thread(void* (*entry)(void*), void* argument, std::size_t stack_size);

/// Ends the calling thread; its stack unwinds and thread-local destructors run. Not noexcept:
/// the unwind is an exception that a noexcept frame would turn into std::terminate.
[[noreturn]] void exit_thread();

}  // namespace sluice::os
