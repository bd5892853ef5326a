#include "os/linux/kernel_pipe.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <csignal>
#include <ctime>

#include "os/linux/errno_map.hpp"

namespace sluice::os {
namespace {

// Pipes have no MSG_NOSIGNAL, and changing the SIGPIPE disposition would change it for the whole
// host program. So SIGPIPE is blocked in this thread for the duration of the write, and the one
// the kernel raised for EPIPE is taken off the queue before the old mask comes back. A SIGPIPE
// that was already pending belongs to someone else and is left alone (the kernel's new one
// merges into it, so consuming would lose theirs).
// TODO(perf): three extra system calls per write; a thread-local "SIGPIPE already blocked" fast
// path would save two.
class SigpipeBlock {
 public:
  SigpipeBlock() noexcept {
    sigset_t pipe_only;
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_only, &saved_mask_);
    sigset_t pending;
    was_pending_ = sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1;
  }
  SigpipeBlock(const SigpipeBlock&) = delete;
  SigpipeBlock& operator=(const SigpipeBlock&) = delete;
  ~SigpipeBlock() {
    int saved_errno = errno;
    if (raised_ && !was_pending_) {
      sigset_t pipe_only;
      sigemptyset(&pipe_only);
      sigaddset(&pipe_only, SIGPIPE);
      timespec no_wait{};
      while (sigtimedwait(&pipe_only, nullptr, &no_wait) < 0 && errno == EINTR) {
      }
    }
    pthread_sigmask(SIG_SETMASK, &saved_mask_, nullptr);
    errno = saved_errno;
  }
  /// The write failed with EPIPE, so the kernel queued a SIGPIPE for this thread.
  void note_epipe() noexcept { raised_ = true; }

 private:
  sigset_t saved_mask_{};
  bool was_pending_ = false;
  bool raised_ = false;
};

int poll_timeout_ms(std::chrono::milliseconds timeout) {
  if (timeout.count() < 0) return -1;
  return timeout.count() > INT_MAX ? INT_MAX : static_cast<int>(timeout.count());
}

}  // namespace

Result<KernelPipe> create_pipe(std::size_t capacity, bool inheritable) {
  int fds[2];
  if (::pipe2(fds, inheritable ? 0 : O_CLOEXEC) != 0) return last_errno();
  KernelPipe pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
  // F_SETPIPE_SZ rounds up to a power-of-two number of pages (pipe(7)), so asking for the rounded
  // size says what the kernel will make of it. It may shrink the 16-page default, as long as the
  // pipe is empty. A process without CAP_SYS_RESOURCE gets EPERM above pipe-max-size or past its
  // user's pipe page budget, and a huge buffer may not be allocatable (ENOMEM): halving a power
  // of two gives the next smaller one, so this settles on the largest buffer the kernel grants.
  auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  std::size_t wanted = page;
  while (wanted < capacity && wanted < kMaxPipeCapacity) wanted *= 2;
  while (::fcntl(fds[0], F_SETPIPE_SZ, static_cast<int>(wanted)) < 0) {
    if ((errno != EPERM && errno != ENOMEM) || wanted <= page) break;  // the default stays
    wanted /= 2;
  }
  return pipe;
}

Result<std::size_t> pipe_capacity(int fd) {
  int size = ::fcntl(fd, F_GETPIPE_SZ);
  if (size < 0) return last_errno();
  return static_cast<std::size_t>(size);
}

Result<std::size_t> bytes_queued(int fd) {
  int queued = 0;
  if (::ioctl(fd, FIONREAD, &queued) != 0) return last_errno();
  return static_cast<std::size_t>(queued);
}

Result<std::size_t> read_wait(int fd, std::span<std::byte> buffer) {
  for (;;) {
    ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n > 0) return static_cast<std::size_t>(n);
    if (n == 0) return errc::kBrokenPipe;
    if (errno != EINTR) return last_errno();
  }
}

Result<std::size_t> read_nowait(int fd, std::span<std::byte> buffer) {
  // RWF_NOWAIT gives a per-call O_NONBLOCK; pipes honour it on current kernels (verified on
  // 6.x: EAGAIN when empty, 0 at end of file). Older kernels say EOPNOTSUPP (kNotSupported).
  iovec vec{buffer.data(), buffer.size()};
  for (;;) {
    ssize_t n = ::preadv2(fd, &vec, 1, -1, RWF_NOWAIT);
    if (n > 0) return static_cast<std::size_t>(n);
    if (n == 0) return errc::kBrokenPipe;
    if (errno != EINTR) return last_errno();  // EAGAIN → kNoData
  }
}

Result<Readiness> wait_readable(int fd, std::chrono::milliseconds timeout) {
  pollfd entry{fd, POLLIN, 0};
  for (;;) {
    int n = ::poll(&entry, 1, poll_timeout_ms(timeout));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return last_errno();
    if (entry.revents & POLLNVAL) return errc::kInvalidHandle;
    if (entry.revents & POLLIN) return Readiness::kData;
    if (entry.revents & POLLHUP) return Readiness::kWritersGone;
    return Readiness::kEmpty;
  }
}

Result<std::size_t> peek(int fd, std::span<std::byte> buffer) {
  if (buffer.empty()) return std::size_t{0};
  // tee(2) duplicates buffer references into another pipe without consuming; reading that
  // scratch pipe then gives the copy. The scratch pipe needs as many slots as the source.
  // TODO(perf): keep one scratch pipe per read end instead of two descriptors per peek.
  auto capacity = pipe_capacity(fd);
  if (!capacity) return capacity.error();
  auto scratch = create_pipe(*capacity, false);
  if (!scratch) return scratch.error();
  ssize_t copied = -1;
  do {
    copied = ::tee(fd, scratch->write.get(), buffer.size(), SPLICE_F_NONBLOCK);
  } while (copied < 0 && errno == EINTR);
  if (copied < 0) return errno == EAGAIN ? Result<std::size_t>(std::size_t{0}) : last_errno();
  std::size_t total = 0;
  auto want = static_cast<std::size_t>(copied);
  while (total < want) {
    ssize_t n = ::read(scratch->read.get(), buffer.data() + total, want - total);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return last_errno();
    total += static_cast<std::size_t>(n);
  }
  return total;
}

Result<std::size_t> write_nowait(int fd, std::span<const std::byte> data) {
  SigpipeBlock block;
  iovec vec{const_cast<std::byte*>(data.data()), data.size()};
  for (;;) {
    ssize_t n = ::pwritev2(fd, &vec, 1, -1, RWF_NOWAIT);
    if (n >= 0) return static_cast<std::size_t>(n);
    if (errno == EINTR) continue;
    if (errno == EAGAIN) return std::size_t{0};
    if (errno == EPIPE) block.note_epipe();
    return last_errno();
  }
}

Result<void> write_wait(int fd, std::span<const std::byte> data) {
  SigpipeBlock block;
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n >= 0) {
      data = data.subspan(static_cast<std::size_t>(n));
      continue;
    }
    if (errno == EINTR) continue;
    if (errno == EPIPE) block.note_epipe();
    return last_errno();
  }
  return {};
}

Result<bool> wait_readers_gone(int fd, std::chrono::microseconds timeout) {
  // No events requested: the kernel always reports POLLERR (no reader left) and wakes every
  // poller when the last reader closes, while reads by the reader do not wake us.
  pollfd entry{fd, 0, 0};
  auto seconds = std::chrono::duration_cast<std::chrono::seconds>(timeout);
  timespec limit{static_cast<time_t>(seconds.count()),
                 static_cast<long>(std::chrono::nanoseconds(timeout - seconds).count())};
  int n = ::ppoll(&entry, 1, &limit, nullptr);
  if (n < 0 && errno == EINTR) return false;
  if (n < 0) return last_errno();
  if (entry.revents & POLLNVAL) return errc::kInvalidHandle;
  return (entry.revents & POLLERR) != 0;
}

Result<bool> inheritable(int fd) {
  int flags = ::fcntl(fd, F_GETFD);
  if (flags < 0) return last_errno();
  return (flags & FD_CLOEXEC) == 0;
}

Result<void> set_inheritable(int fd, bool inheritable) {
  int flags = ::fcntl(fd, F_GETFD);
  if (flags < 0) return last_errno();
  int wanted = inheritable ? flags & ~FD_CLOEXEC : flags | FD_CLOEXEC;
  if (wanted != flags && ::fcntl(fd, F_SETFD, wanted) != 0) return last_errno();
  return {};
}

}  // namespace sluice::os
