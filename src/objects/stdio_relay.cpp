#include "objects/stdio_relay.hpp"

#include <vector>

#include "os/linux/directory.hpp"

namespace sluice::objects {
namespace {
constexpr std::size_t kChunk = 64 * 1024;
}

Result<std::shared_ptr<StdioRelay>> StdioRelay::create(std::shared_ptr<RelayEnd> end,
                                                       bool child_reads) {
  auto pipe = os::create_pipe(kChunk, false);
  if (!pipe) return pipe.error();
  std::shared_ptr<StdioRelay> relay(new StdioRelay(std::move(end), child_reads));
  relay->pipe_ = std::move(*pipe);
  return relay;
}

int StdioRelay::child_fd() const noexcept {
  return child_reads_ ? pipe_.read.get() : pipe_.write.get();
}

Result<void> StdioRelay::start(std::function<void()> on_finished) {
  on_finished_ = std::move(on_finished);
  // The child has its copy; ours would keep the pipe open after the child closes its side.
  if (child_reads_) {
    pipe_.read = os::UniqueFd();
  } else {
    pipe_.write = os::UniqueFd();
  }
  try {
    std::thread([self = shared_from_this()] {
      if (self->child_reads_) {
        self->run_into_child();
      } else {
        self->run_from_child();
      }
      self->done_.store(true, std::memory_order_release);
      if (self->on_finished_) self->on_finished_();
    }).detach();
  } catch (const std::system_error&) {
    done_.store(true, std::memory_order_release);
    return errc::kNotEnoughMemory;
  }
  return {};
}

void StdioRelay::run_into_child() {
  thread_id_.store(os::current_thread_id());
  std::vector<std::byte> buffer(kChunk);
  while (!child_gone_.load()) {
    auto got = end_->read(buffer);
    if (!got) break;  // the peer closed or disconnected, or child_exited() cancelled
    if (*got && !os::write_wait(pipe_.write.get(), std::span(buffer.data(), *got))) break;
  }
  // Cancels from now on would reach whatever thread gets this id next.
  thread_id_.store(0);
  pipe_.write = os::UniqueFd();  // the child sees end of file
}

void StdioRelay::run_from_child() {
  std::vector<std::byte> buffer(kChunk);
  for (;;) {
    auto got = os::read_wait(pipe_.read.get(), buffer);
    if (!got || *got == 0) break;  // every writer (the child and its children) closed
    if (!end_->write(std::span<const std::byte>(buffer.data(), *got))) break;
  }
  pipe_.read = os::UniqueFd();
}

void StdioRelay::child_exited() noexcept {
  child_gone_.store(true);
  if (!child_reads_ || finished()) return;  // the child's exit closes its side: end of file
  // The relay may sit in a read of the end for the child: cancel it.
  if (std::uint32_t tid = thread_id_.load()) end_->cancel_read(tid);
}

}  // namespace sluice::objects
