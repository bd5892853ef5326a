// Exit codes with all 32 bits between sluice processes (ExitProcess, GetExitCodeProcess).
//
// Windows keeps the whole 32-bit value a process gives ExitProcess or returns from main; Linux
// reports only its low 8 bits to the parent (wait(2)). So CreateProcess hands a child a kernel
// pipe (its descriptor number in SLUICE_WIN32_EXIT_CODE): a sluice child's library writes the
// whole value there as the process exits, and the parent reads it once it has reaped the child.
//
// The rule, for every child (README, "Exit codes"):
// - a sluice program that ends through exit() (ExitProcess, a return from main, exit itself)
//   reports its 32-bit value, negative NTSTATUS-style codes and values above 255 included;
// - TerminateProcess reports the code it was given;
// - a program that is not a sluice program, or one that ends without exit() (_exit, a signal),
//   reports what Linux reports: the low 8 bits, or 128 + the signal number when a signal ended it.
#pragma once

#include <windows.h>

#include <optional>
#include <string>

#include "os/linux/kernel_pipe.hpp"
#include "sluice/result.hpp"

namespace sluice::win32 {

/// The environment variable that names the child's end of the channel.
inline constexpr const char* kExitCodeVariable = "SLUICE_WIN32_EXIT_CODE";

/// The parent's side: `pipe.write` goes to the child (at the same number), `pipe.read` stays.
Result<os::KernelPipe> open_exit_code_channel();
/// After the child was reaped: the value it wrote, if it wrote one.
std::optional<DWORD> read_exit_code(int read_fd);

/// The child's side, at library initialisation: takes the channel the parent passed, if any,
/// and writes the process's exit value into it when the process exits.
void adopt_exit_code_channel();

}  // namespace sluice::win32
