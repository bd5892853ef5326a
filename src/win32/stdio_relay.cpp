#include "stdio_relay.hpp"

#include <chrono>
#include <vector>

#include "os/linux/directory.hpp"

namespace sluice::win32 {
namespace {
constexpr std::size_t kChunk = 64 * 1024;
}

Result<std::shared_ptr<StdioRelay>> StdioRelay::create(std::shared_ptr<Object> end,
                                                       bool child_reads) {
  auto pipe = AnonymousPipe::create(kChunk, false);
  if (!pipe) return pipe.error();
  std::shared_ptr<StdioRelay> relay(new StdioRelay(std::move(end), child_reads));
  relay->pipe_ = std::move(*pipe);
  return relay;
}

StdioRelay::~StdioRelay() {
  child_exited();
  if (thread_.joinable()) thread_.join();
}

int StdioRelay::child_fd() const noexcept {
  return child_reads_ ? pipe_.read.native_handle() : pipe_.write.native_handle();
}

void StdioRelay::start() {
  // The child has its copy; ours would keep the pipe open after the child closes its side.
  if (child_reads_) {
    pipe_.read.close();
    thread_ = std::thread([this] { run_into_child(); });
  } else {
    pipe_.write.close();
    thread_ = std::thread([this] { run_from_child(); });
  }
}

void StdioRelay::run_into_child() {
  thread_id_.store(os::current_thread_id());
  PipeEnd& end = static_cast<NamedPipeObject&>(*end_).end();
  std::vector<std::byte> buffer(kChunk);
  while (!child_gone_.load()) {
    auto got = end.read(buffer);  // more_data: the rest of the message comes next round
    if (!got) break;              // the peer closed or disconnected, or child_exited() cancelled
    if (got->bytes && !pipe_.write.write(std::span(buffer.data(), got->bytes))) break;
  }
  pipe_.write.close();  // the child sees end of file
  finish();
}

void StdioRelay::run_from_child() {
  PipeEnd& end = static_cast<NamedPipeObject&>(*end_).end();
  std::vector<std::byte> buffer(kChunk);
  for (;;) {
    auto got = pipe_.read.read(buffer);
    if (!got || *got == 0) break;  // every writer (the child and its children) closed
    if (!end.write(std::span(buffer.data(), *got))) break;
  }
  finish();
}

void StdioRelay::finish() noexcept {
  {
    std::lock_guard lock(done_mu_);
    done_.store(true);
  }
  done_cv_.notify_all();
}

bool StdioRelay::wait_drained(std::chrono::milliseconds timeout) {
  std::unique_lock lock(done_mu_);
  return done_cv_.wait_for(lock, timeout, [&] { return done_.load(); });
}

void StdioRelay::child_exited() noexcept {
  child_gone_.store(true);
  if (!child_reads_) return;  // the child's exit closes its side: the relay sees end of file
  // The relay may sit in a read of the end: cancel it (again, until it notices: it may be just
  // about to start the read when the first cancel looks).
  while (thread_.joinable() && !done_.load()) {
    if (std::uint32_t tid = thread_id_.load()) (void)cancel_synchronous_io(tid);
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

}  // namespace sluice::win32
