// A named-pipe end as a child's standard handle (STARTF_USESTDHANDLES, or SetStdHandle plus
// inheritance).
//
// The child may be any Linux program, which reads and writes fds 0/1/2 with read(2) and
// write(2) and knows nothing of rings in shared memory. So it gets a kernel pipe, and a thread
// here moves bytes between that pipe and the end: from the end into the child's stdin, or from
// the child's stdout/stderr into the end. The relay holds the end while the child's side is open,
// so a parent that closes its handle after CreateProcess leaves the end to the child, as on
// Windows; the end closes for its peer when the child is done with it.
//
// Differences from Windows (TODO(compat); switching the direction to a socketpair handed to the
// child would remove them): one extra copy per byte; a message-mode pipe gets one message per chunk
// the child's write(2) produced, not per WriteFile; bytes the relay took from the end for a child
// that exits unread are lost.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "objects.hpp"
#include "sluice/anonymous_pipe.hpp"

namespace sluice::win32 {

class StdioRelay {
 public:
  /// A kernel pipe for `end` (a named-pipe object) as the child's stdin (`child_reads`) or
  /// stdout/stderr. Errors: resource errors.
  static Result<std::shared_ptr<StdioRelay>> create(std::shared_ptr<Object> end, bool child_reads);
  ~StdioRelay();

  /// The descriptor to give the child.
  int child_fd() const noexcept;
  bool child_reads() const noexcept { return child_reads_; }
  const Object* end() const noexcept { return end_.get(); }
  /// Starts moving bytes once the child runs; our copy of the child's side closes here.
  void start();
  /// The child has exited: a relay that waits for data on the end for it stops waiting.
  void child_exited() noexcept;
  /// Waits up to `timeout` for a relay from the child to have passed on everything the child
  /// wrote (its side closed), so that the child's output is in the pipe when its exit is
  /// signalled, as on Windows. False on time-out (a grandchild still holds the descriptor).
  bool wait_drained(std::chrono::milliseconds timeout);

 private:
  StdioRelay(std::shared_ptr<Object> end, bool child_reads)
      : end_(std::move(end)), child_reads_(child_reads) {}
  void run_into_child();
  void run_from_child();

  std::shared_ptr<Object> end_;
  const bool child_reads_;
  AnonymousPipe pipe_;
  std::thread thread_;
  std::atomic<std::uint32_t> thread_id_{0};
  std::atomic<bool> child_gone_{false};
  std::atomic<bool> done_{false};
  std::mutex done_mu_;
  std::condition_variable done_cv_;
  void finish() noexcept;
};

}  // namespace sluice::win32
