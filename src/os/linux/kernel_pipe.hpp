// Kernel pipe primitives for anonymous pipes: creation, sizes, reads that never touch
// O_NONBLOCK, peeking with tee(2), and writes that turn SIGPIPE into an error value.
//
// The descriptors are usually shared with child processes (they become a child's stdio), so
// nothing here changes file status flags: O_NONBLOCK lives in the open file description and
// would change the behaviour of every process holding it.
#pragma once

#include <chrono>
#include <cstddef>
#include <span>

#include "os/linux/unique_fd.hpp"
#include "sluice/result.hpp"

namespace sluice::os {

/// Both ends of a kernel pipe.
struct KernelPipe {
  UniqueFd read;
  UniqueFd write;
};

/// The largest buffer create_pipe asks the kernel for (F_SETPIPE_SZ takes an int).
inline constexpr std::size_t kMaxPipeCapacity = std::size_t{1} << 30;

/// Creates a pipe, close-on-exec unless `inheritable`, whose kernel buffer is `capacity` bytes
/// rounded up to a power-of-two number of pages (one page at least, kMaxPipeCapacity at most):
/// smaller than the kernel's 64 KiB default when `capacity` is. Where the kernel grants less
/// (pipe-max-size or the user's pipe page budget for a process without CAP_SYS_RESOURCE, or no
/// memory), the largest buffer it grants. Errors: kTooManyOpenFiles, kNotEnoughMemory.
Result<KernelPipe> create_pipe(std::size_t capacity, bool inheritable);

/// The kernel buffer size of the pipe (F_GETPIPE_SZ).
Result<std::size_t> pipe_capacity(int fd);

/// Unread bytes in the pipe (FIONREAD); works on either end.
Result<std::size_t> bytes_queued(int fd);

/// Reads up to buffer.size() bytes, waiting while the pipe is empty. EINTR is retried (Windows
/// pipe reads are not alertable). Errors: kBrokenPipe (every writer gone, nothing left).
Result<std::size_t> read_wait(int fd, std::span<std::byte> buffer);

/// Reads what is there without waiting. Errors: kNoData (empty), kBrokenPipe (every writer gone,
/// nothing left).
Result<std::size_t> read_nowait(int fd, std::span<std::byte> buffer);

/// What a read end looks like right now.
enum class Readiness { kEmpty, kData, kWritersGone };

/// Waits up to `timeout` (negative: forever) until the read end has data or no writer left.
/// Data wins over writers-gone: remaining data is still readable.
Result<Readiness> wait_readable(int fd, std::chrono::milliseconds timeout);

/// Copies up to buffer.size() bytes from the front of the pipe without removing them; never
/// waits. Returns 0 when the pipe is empty.
Result<std::size_t> peek(int fd, std::span<std::byte> buffer);

/// Writes as much of `data` as fits now; 0 when nothing fits. Data up to PIPE_BUF (4096) bytes
/// goes in whole or not at all. Errors: kNoData (no reader; SIGPIPE is swallowed).
Result<std::size_t> write_nowait(int fd, std::span<const std::byte> data);

/// Writes all of `data`, waiting while the pipe is full. Errors: kNoData (no reader, possibly
/// after part of the data went in; SIGPIPE is swallowed).
Result<void> write_wait(int fd, std::span<const std::byte> data);

/// Waits up to `timeout` for every read end of the pipe to close (write end `fd`). Returns
/// whether they are closed.
Result<bool> wait_readers_gone(int fd, std::chrono::microseconds timeout);

/// Whether a child started by exec keeps the descriptor (FD_CLOEXEC clear).
Result<bool> inheritable(int fd);
Result<void> set_inheritable(int fd, bool inheritable);

}  // namespace sluice::os
