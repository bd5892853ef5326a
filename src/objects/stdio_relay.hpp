// A pipe end of the engine's as a child's standard handle (the Win32 layer gives a named-pipe
// end to CreateProcess as stdin, stdout or stderr).
//
// The child may be any Linux program, which reads and writes fds 0/1/2 with read(2) and
// write(2) and knows nothing of rings in shared memory. So it gets a kernel pipe, and a thread
// here moves bytes between that pipe and the end: from the end into the child's stdin, or from
// the child's stdout/stderr into the end. The relay holds the end while the child's side is open,
// so a parent that closes its handle after CreateProcess leaves the end to the child, as on
// Windows; the end closes for its peer when the child is done with it.
//
// The relay's thread owns the relay once started: nobody waits for it. The child's process
// object (child_process.hpp) asks whether a relay from the child has drained before it signals
// the child's exit, and stops a relay into the child when the child is gone, both without
// waiting.
//
// Differences from Windows (TODO(compat); switching the direction to a socketpair handed to the
// child would remove them): one extra copy per byte; a message-mode pipe gets one message per chunk
// the child's write(2) produced, not per WriteFile; bytes the relay took from the end for a child
// that exits unread are lost.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <thread>

#include "os/linux/kernel_pipe.hpp"
#include "sluice/result.hpp"

namespace sluice::objects {

/// The end a relay moves bytes to or from, as the front door that owns it offers it (the Win32
/// layer: a named-pipe handle's end). Called on the relay's thread, except cancel_read().
class RelayEnd {
 public:
  virtual ~RelayEnd() = default;
  /// Reads what the end has, waiting for data (part of a message is fine: the rest comes with
  /// the next read). An error ends the relay (the peer is gone, or cancel_read()).
  virtual Result<std::size_t> read(std::span<std::byte> buffer) = 0;
  /// Writes all of `data`. An error ends the relay.
  virtual Result<void> write(std::span<const std::byte> data) = 0;
  /// From any thread: makes a read() that thread `thread_id` is blocked in return with an error
  /// (CancelSynchronousIo); does nothing when that thread is not in a read.
  virtual void cancel_read(std::uint32_t thread_id) noexcept = 0;
};

class StdioRelay : public std::enable_shared_from_this<StdioRelay> {
 public:
  /// A kernel pipe for `end` as the child's stdin (`child_reads`) or stdout/stderr. Errors:
  /// resource errors.
  static Result<std::shared_ptr<StdioRelay>> create(std::shared_ptr<RelayEnd> end,
                                                    bool child_reads);
  ~StdioRelay() = default;
  StdioRelay(const StdioRelay&) = delete;
  StdioRelay& operator=(const StdioRelay&) = delete;

  /// The descriptor to give the child (valid until start()).
  int child_fd() const noexcept;
  bool child_reads() const noexcept { return child_reads_; }
  const RelayEnd* end() const noexcept { return end_.get(); }

  /// Starts moving bytes once the child runs; our copy of the child's side closes here. The
  /// thread keeps the relay alive until it ends. `on_finished` runs on that thread as it ends.
  /// Errors: resource errors (no thread).
  Result<void> start(std::function<void()> on_finished);
  /// Whether the relay's thread has ended (for a relay from the child: everything the child and
  /// its children wrote has been passed on and their side is closed).
  bool finished() const noexcept { return done_.load(std::memory_order_acquire); }
  /// The child has exited: a relay that waits on the end for data for the child stops waiting.
  /// Never waits itself; call it again while !finished(): a cancel that comes just before the
  /// relay's thread enters its read is missed.
  void child_exited() noexcept;

 private:
  StdioRelay(std::shared_ptr<RelayEnd> end, bool child_reads) noexcept
      : end_(std::move(end)), child_reads_(child_reads) {}
  void run_into_child();
  void run_from_child();

  const std::shared_ptr<RelayEnd> end_;
  const bool child_reads_;
  os::KernelPipe pipe_;
  std::function<void()> on_finished_;
  std::atomic<std::uint32_t> thread_id_{0};
  std::atomic<bool> child_gone_{false};
  std::atomic<bool> done_{false};
};

}  // namespace sluice::objects
