#include "objects/exit_code.hpp"

#include <array>
#include <cstdlib>
#include <span>

#include "os/linux/directory.hpp"

namespace sluice::objects {
namespace {

// The record a child writes: a tag (so that nothing else written to the descriptor by mistake
// passes for an exit code) and the value.
constexpr std::uint32_t kTag = 0x53455843;  // "SEXC"
using Record = std::array<std::uint32_t, 2>;

int channel_fd = -1;            // the child's end, -1 when this process has none
std::uint32_t channel_pid = 0;  // the process that took it: a fork()ed copy does not report

void report_exit(int status, void*) {
  if (channel_fd < 0 || os::current_process_id() != channel_pid) return;
  Record record{kTag, static_cast<std::uint32_t>(status)};
  (void)os::write_nowait(channel_fd, std::as_bytes(std::span(record)));
}

// A sluice child adopts its channel as the library starts, whichever front door it uses.
[[maybe_unused]] const bool adopted_at_start = (adopt_exit_code_channel(), true);

}  // namespace

Result<os::KernelPipe> open_exit_code_channel() {
  // Room for one record; close-on-exec here, passed to the child at its number.
  return os::create_pipe(sizeof(Record), false);
}

std::optional<std::uint32_t> read_exit_code(int read_fd) {
  Record record{};
  auto got = os::read_nowait(read_fd, std::as_writable_bytes(std::span(record)));
  if (!got || *got != sizeof record || record[0] != kTag) return std::nullopt;
  return record[1];
}

int adopted_exit_code_fd() noexcept { return channel_fd; }

void adopt_exit_code_channel() {
  const char* value = std::getenv(kExitCodeVariable);
  if (!value) return;
  char* end = nullptr;
  long fd = std::strtol(value, &end, 10);
  ::unsetenv(kExitCodeVariable);  // not for grandchildren (nor for a second call)
  if (end == value || *end != '\0' || fd < 3 || fd > 1 << 20) return;
  // Only a pipe the parent passed: it must be open, and it must not reach this process's own
  // children (it becomes close-on-exec).
  if (!os::set_inheritable(static_cast<int>(fd), false)) return;
  channel_fd = static_cast<int>(fd);
  channel_pid = os::current_process_id();
  // on_exit (glibc) is given the status exit() was called with, all of its bits: a return from
  // main reaches it too.
  (void)::on_exit(report_exit, nullptr);
}

}  // namespace sluice::objects
