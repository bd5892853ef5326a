// sluice — anonymous pipes (CreatePipe): one-way byte pipes, mostly a child process's stdio.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "sluice/named_pipe.hpp"
#include "sluice/result.hpp"

namespace sluice {

/// What both ends of an anonymous pipe have in common: the descriptor, the quota, the wait mode
/// and the queries on them. Not made on its own: AnonReadEnd and AnonWriteEnd are the ends.
///
/// Thread safety: as the end classes; do not destroy an end while another thread uses it.
class AnonEnd {
 public:
  /// Flags 1 for the read end (the server end), 0 for the write end (the client end, byte
  /// pipe); both buffer sizes = the requested size (4096 for 0); 1 instance.
  PipeInfo info() const noexcept;
  /// Byte-read mode, current wait mode, 1 instance.
  HandleState state() const noexcept;
  /// Only the wait mode can change: ReadMode::kMessage gives kInvalidParameter.
  Result<void> set_state(ReadMode read_mode, WaitMode wait_mode);
  /// Whether the descriptor survives exec into a child (HANDLE_FLAG_INHERIT).
  Result<void> set_inheritable(bool inheritable);
  bool inheritable() const noexcept;
  /// The kernel descriptor (still owned by this object).
  int native_handle() const noexcept { return fd_; }
  /// Gives up ownership of the descriptor and returns it.
  int release() noexcept;
  bool is_open() const noexcept { return fd_ >= 0; }
  void close() noexcept;

 protected:
  explicit AnonEnd(bool server_end) noexcept : server_end_(server_end) {}
  AnonEnd(int fd, std::uint32_t size, bool server_end) noexcept;
  AnonEnd(AnonEnd&&) noexcept;
  AnonEnd& operator=(AnonEnd&&) noexcept;
  ~AnonEnd();

  int fd_ = -1;
  std::uint32_t size_ = 0;
  WaitMode wait_mode_ = WaitMode::kWait;

 private:
  bool server_end_ = false;
};

/// The read end of an anonymous pipe: the *server* end of a one-instance byte pipe, as on Windows.
/// It is a kernel pipe underneath, so any Linux program can read and write it as fd 0/1/2.
/// Move-only; destroying it closes the descriptor.
///
/// Thread safety: reads from several threads are safe (the kernel serialises them); do not destroy
/// it while another thread uses it.
class AnonReadEnd : public AnonEnd {
 public:
  AnonReadEnd() noexcept : AnonEnd(true) {}
  explicit AnonReadEnd(int fd, std::uint32_t size) noexcept;
  AnonReadEnd(AnonReadEnd&&) noexcept = default;
  AnonReadEnd& operator=(AnonReadEnd&&) noexcept = default;
  ~AnonReadEnd() = default;

  /// Reads what is there, up to buffer.size(); waits while the pipe is empty (blocking mode).
  /// A zero-byte read waits for data and leaves it there. Errors: kBrokenPipe (every write end
  /// closed and nothing left), kNoData (no-wait mode and nothing there).
  Result<std::size_t> read(std::span<std::byte> buffer);
  /// Copies without removing (bytes_left_this_message follows Windows' byte-pipe arithmetic).
  /// Errors: kBrokenPipe (every write end closed and nothing left).
  Result<PeekResult> peek(std::span<std::byte> buffer = {});
};

/// The write end of an anonymous pipe: the client end. Same conventions as AnonReadEnd.
class AnonWriteEnd : public AnonEnd {
 public:
  AnonWriteEnd() noexcept : AnonEnd(false) {}
  explicit AnonWriteEnd(int fd, std::uint32_t size) noexcept;
  AnonWriteEnd(AnonWriteEnd&&) noexcept = default;
  AnonWriteEnd& operator=(AnonWriteEnd&&) noexcept = default;
  ~AnonWriteEnd() = default;

  /// Writes all of `data`, waiting until the reader has made room for the last byte (see
  /// AnonymousPipe::create for the capacity). A zero-byte write does nothing. In no-wait mode
  /// writes all or nothing against the requested size and returns the count (0: did not fit).
  /// Errors: kNoData (every read end closed; SIGPIPE is never raised), kBrokenPipe (the reader
  /// closed while this write waited).
  Result<std::size_t> write(std::span<const std::byte> data);
  /// Waits until the reader has taken everything written.
  Result<void> flush();
};

/// Both ends of a new anonymous pipe.
struct AnonymousPipe {
  AnonReadEnd read;
  AnonWriteEnd write;

  /// Creates a pipe whose quota is `size` bytes (0 means 4096), reported back verbatim. Blocking
  /// writes see a capacity of the quota rounded up to a power-of-two number of pages (4096 bytes
  /// on x86-64): exactly 4096 for 0, exactly `size` for 8192, 65536, ..., 4096 for 1000, 131072
  /// for 100000 (Windows calls the size "only a suggestion"). A write of `size` bytes or fewer
  /// into the empty pipe never waits, unless the kernel grants less (above
  /// /proc/sys/fs/pipe-max-size without CAP_SYS_RESOURCE, or above 1 GiB): then the pipe gets
  /// the largest buffer it grants. docs/architecture.md, "Anonymous pipes", has the rule.
  /// `inheritable` decides for both ends whether a spawned child inherits them.
  /// Errors: kTooManyOpenFiles, kNotEnoughMemory.
  static Result<AnonymousPipe> create(std::uint32_t size = 0, bool inheritable = false);
};

}  // namespace sluice
