// Exit codes with all 32 bits between sluice processes (ExitProcess and GetExitCodeProcess in
// the Win32 layer, sluice::Process::wait in the C++ API).
//
// Windows keeps the whole 32-bit value a process gives ExitProcess or returns from main; Linux
// reports only its low 8 bits to the parent (wait(2)). So a parent that starts a child
// (ChildProcess) hands it a kernel pipe, its descriptor number in the environment variable
// SLUICE_EXIT_CODE: a sluice child's library writes the whole value there as the process exits,
// and the parent reads it once it has reaped the child.
//
// The rule, for every child (README, "Exit codes"):
// - a sluice program that ends through exit() (ExitProcess, a return from main, exit itself)
//   reports its 32-bit value, negative NTSTATUS-style codes and values above 255 included;
// - TerminateProcess reports the code it was given;
// - a program that is not a sluice program, or one that ends without exit() (_exit, a signal),
//   reports what Linux reports: the low 8 bits, or 128 + the signal number when a signal ended it.
//
// "A sluice program" is one whose copy of the library adopts the channel as it starts: every
// program that links the shared library, and a program that links the static one and uses its
// processes (sluice::Process, the Win32 layer), which brings in this file.
#pragma once

#include <cstdint>
#include <optional>

#include "os/linux/kernel_pipe.hpp"
#include "sluice/result.hpp"

namespace sluice::objects {

/// The environment variable that names the child's end of the channel.
inline constexpr const char* kExitCodeVariable = "SLUICE_EXIT_CODE";

/// The parent's side: `pipe.write` goes to the child (at the same number), `pipe.read` stays.
/// Both are close-on-exec here.
Result<os::KernelPipe> open_exit_code_channel();
/// After the child was reaped: the value it wrote, if it wrote one. Never waits.
std::optional<std::uint32_t> read_exit_code(int read_fd);

/// The child's side, when the library starts (this file's initialisation does it; calling it
/// again does nothing): takes the channel the parent passed, if any, and writes the process's
/// exit value into it when the process exits.
void adopt_exit_code_channel();
/// The descriptor adopt_exit_code_channel() took, or -1 (for tests that list descriptors).
int adopted_exit_code_fd() noexcept;

}  // namespace sluice::objects
