// Anonymous pipes are plain kernel pipes (docs/architecture.md): the ends mostly become a
// child's stdio, read by programs that know nothing of sluice. The Windows view (quota, server
// end, wait mode) is metadata kept in the end objects; the kernel buffer, sized from the quota
// at creation, is what makes blocking writes wait, so they cost no extra system call.
#include "sluice/anonymous_pipe.hpp"

#include <algorithm>
#include <chrono>
#include <utility>

#include "core/blocked_threads.hpp"
#include "core/clamp32.hpp"
#include "os/linux/kernel_pipe.hpp"

namespace sluice {
namespace {

using namespace std::chrono_literals;

// CreatePipe's nSize = 0 gives a 4096-byte quota (measured on Windows).
constexpr std::uint32_t kDefaultQuota = 4096;

std::uint32_t quota_for(std::uint32_t requested) {
  return requested == 0 ? kDefaultQuota : requested;
}

// A read that waits in the kernel is a sleep as any of sluice's: a completion-port thread counts
// out and lets the wakes it holds go (SleepNotice). Only a read that would wait pays for it.
Result<std::size_t> read_waiting(int fd, std::span<std::byte> buffer) {
  auto now = os::read_nowait(fd, buffer);
  if (now || (now.error() != errc::kNoData && now.error() != errc::kNotSupported)) return now;
  core::SleepNotice asleep;
  return os::read_wait(fd, buffer);
}

}  // namespace

// ---- either end ------------------------------------------------------------------------------

AnonEnd::AnonEnd(int fd, std::uint32_t size, bool server_end) noexcept
    : fd_(fd), size_(quota_for(size)), server_end_(server_end) {}

AnonEnd::AnonEnd(AnonEnd&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      size_(other.size_),
      wait_mode_(other.wait_mode_),
      server_end_(other.server_end_) {}

AnonEnd& AnonEnd::operator=(AnonEnd&& other) noexcept {
  if (this != &other) {
    close();
    fd_ = std::exchange(other.fd_, -1);
    size_ = other.size_;
    wait_mode_ = other.wait_mode_;
    server_end_ = other.server_end_;
  }
  return *this;
}

AnonEnd::~AnonEnd() { close(); }

PipeInfo AnonEnd::info() const noexcept {
  // Only one direction carries data, but Windows reports the quota for both.
  return PipeInfo{server_end_, PipeType::kByte, size_, size_, 1};
}

HandleState AnonEnd::state() const noexcept {
  return HandleState{ReadMode::kByte, wait_mode_, fd_ >= 0 ? 1u : 0u};
}

Result<void> AnonEnd::set_state(ReadMode read_mode, WaitMode wait_mode) {
  if (fd_ < 0) return errc::kInvalidHandle;
  // An anonymous pipe is a byte pipe, and Windows refuses message-read mode on those.
  if (read_mode != ReadMode::kByte) return errc::kInvalidParameter;
  if (wait_mode != WaitMode::kWait && wait_mode != WaitMode::kNoWait) {
    return errc::kInvalidParameter;
  }
  // Kept per object, not as O_NONBLOCK: that flag would switch the child sharing the
  // descriptor too.
  wait_mode_ = wait_mode;
  return {};
}

Result<void> AnonEnd::set_inheritable(bool inheritable) {
  if (fd_ < 0) return errc::kInvalidHandle;
  return os::set_inheritable(fd_, inheritable);
}

bool AnonEnd::inheritable() const noexcept {
  if (fd_ < 0) return false;
  auto inheritable = os::inheritable(fd_);
  return inheritable && *inheritable;
}

int AnonEnd::release() noexcept { return std::exchange(fd_, -1); }

void AnonEnd::close() noexcept { os::close_fd(std::exchange(fd_, -1)); }

// ---- read end --------------------------------------------------------------------------------

AnonReadEnd::AnonReadEnd(int fd, std::uint32_t size) noexcept : AnonEnd(fd, size, true) {}

Result<std::size_t> AnonReadEnd::read(std::span<std::byte> buffer) {
  if (fd_ < 0) return errc::kInvalidHandle;
  if (buffer.empty()) {
    // read(2) of 0 bytes returns at once even on an empty pipe; Windows waits for data and
    // leaves it, so wait for readability instead.
    Result<os::Readiness> ready = os::Readiness::kEmpty;
    if (wait_mode_ == WaitMode::kWait) {
      core::SleepNotice asleep;
      ready = os::wait_readable(fd_, -1ms);
    } else {
      ready = os::wait_readable(fd_, 0ms);
    }
    if (!ready) return ready.error();
    switch (*ready) {
      case os::Readiness::kData:
        return std::size_t{0};
      case os::Readiness::kWritersGone:
        return errc::kBrokenPipe;
      case os::Readiness::kEmpty:
        break;
    }
    return errc::kNoData;
  }
  return wait_mode_ == WaitMode::kWait ? read_waiting(fd_, buffer) : os::read_nowait(fd_, buffer);
}

Result<PeekResult> AnonReadEnd::peek(std::span<std::byte> buffer) {
  if (fd_ < 0) return errc::kInvalidHandle;
  auto copied = os::peek(fd_, buffer);
  if (!copied) return copied.error();
  auto queued = os::bytes_queued(fd_);
  if (!queued) return queued.error();
  if (*copied == 0 && *queued == 0) {
    auto ready = os::wait_readable(fd_, 0ms);
    if (!ready) return ready.error();
    if (*ready == os::Readiness::kWritersGone) return errc::kBrokenPipe;
  }
  PeekResult result;
  result.bytes_read = core::clamp32(*copied);
  // A writer may add data between tee and FIONREAD, never remove it; the max keeps
  // total_available >= bytes_read even against a concurrent reader.
  result.total_available = core::clamp32(std::max(*queued, *copied));
  // Windows computes "left in this message" for byte pipes as message length 0 minus the bytes
  // read, in 32-bit arithmetic; programs see e.g. 0xFFFFFFFC after peeking 4 bytes.
  result.bytes_left_this_message = 0u - result.bytes_read;
  return result;
}

// ---- write end -------------------------------------------------------------------------------

AnonWriteEnd::AnonWriteEnd(int fd, std::uint32_t size) noexcept : AnonEnd(fd, size, false) {}

Result<std::size_t> AnonWriteEnd::write(std::span<const std::byte> data) {
  if (fd_ < 0) return errc::kInvalidHandle;
  // Windows: a zero-byte write on a byte pipe does nothing and wakes nobody.
  if (data.empty()) return std::size_t{0};

  if (wait_mode_ == WaitMode::kNoWait) {
    // All or nothing against the quota, as Windows does (not the "as many bytes as fit" that
    // "Named Pipe Type, Read, and Wait Modes" on Microsoft Learn suggests), bounded by what
    // the kernel buffer can take. A reader already waiting in read(2) is invisible here, so the
    // Windows hand-off to waiting readers (k > 0) does not happen.
    auto capacity = os::pipe_capacity(fd_);
    if (!capacity) return capacity.error();
    auto queued = os::bytes_queued(fd_);
    if (!queued) return queued.error();
    std::size_t limit = std::min<std::size_t>(size_, *capacity);
    std::size_t free = limit > *queued ? limit - *queued : 0;
    if (data.size() > free) {
      auto gone = os::wait_readers_gone(fd_, 0us);
      if (!gone) return gone.error();
      return *gone ? Result<std::size_t>(errc::kNoData) : Result<std::size_t>(std::size_t{0});
    }
    // TODO(compat): the kernel counts 4 KiB page slots, not bytes; after many tiny writes the
    // slots can run out before the bytes do, and then this returns a partial count.
    return os::write_nowait(fd_, data);
  }

  // Try without waiting first: EPIPE now means the reader was gone before this call
  // (kNoData); EPIPE once we had to wait means it closed under us, which Windows reports as
  // kBrokenPipe for the pending write.
  auto taken = os::write_nowait(fd_, data);
  if (!taken) return taken.error();
  if (*taken < data.size()) {
    core::SleepNotice asleep;  // as read_waiting
    auto rest = os::write_wait(fd_, data.subspan(*taken));
    if (!rest) return rest.error() == errc::kNoData ? errc::kBrokenPipe : rest.error();
  }
  return data.size();
}

Result<void> AnonWriteEnd::flush() {
  if (fd_ < 0) return errc::kInvalidHandle;
  auto gone = os::wait_readers_gone(fd_, 0us);
  if (!gone) return gone.error();
  // Windows discards unread data once the reader has closed, so there is nothing to wait for.
  if (*gone) return {};
  // A kernel pipe raises no event when it becomes empty (readers wake writers only when there is
  // room, i.e. almost at once), so poll FIONREAD. Each pause is a poll that returns at once if
  // the last reader closes; it grows from 50 us to 5 ms, bounding both the added latency and the
  // CPU spent on a slow reader.
  for (auto pause = std::chrono::microseconds(50);;
       pause = std::min(pause * 2, std::chrono::microseconds(5000))) {
    auto queued = os::bytes_queued(fd_);
    if (!queued) return queued.error();
    if (*queued == 0) return {};
    gone = os::wait_readers_gone(fd_, pause);
    if (!gone) return gone.error();
    if (*gone) return errc::kBrokenPipe;
  }
}

// ---- creation --------------------------------------------------------------------------------

Result<AnonymousPipe> AnonymousPipe::create(std::uint32_t size, bool inheritable) {
  std::uint32_t quota = quota_for(size);
  // The kernel buffer is the capacity blocking writes observe (docs/architecture.md, "Anonymous
  // pipes"): a write(2) returns once its last byte is in the buffer, which is Windows' rule
  // (bytes queued ahead + this write <= quota) with the buffer's size as the quota. The kernel
  // only makes power-of-two numbers of pages, so the quota is rounded up to one: exact for the
  // default 4096 and every such size, and never less than nSize, because Windows never blocks a
  // write of nSize bytes or fewer into an empty pipe. CreatePipe on Microsoft Learn: "The size is
  // only a suggestion; the system uses the value to calculate an appropriate buffering
  // mechanism." Counting bytes against an odd quota would cost a FIONREAD per write and a polling
  // wait (the kernel wakes a waiting writer only when a whole page frees up).
  // TODO(compat): the kernel fills whole pages; after the reader took part of the first page, a
  // write that does not fit the last page waits for a free page, longer than Windows would.
  // TODO(compat): where the kernel grants less than the quota (pipe-max-size or the user's pipe
  // budget without CAP_SYS_RESOURCE; over 1 GiB), a write of nSize bytes can wait.
  auto kernel = os::create_pipe(quota, inheritable);
  if (!kernel) return kernel.error();
  return AnonymousPipe{AnonReadEnd(kernel->read.release(), quota),
                       AnonWriteEnd(kernel->write.release(), quota)};
}

}  // namespace sluice
