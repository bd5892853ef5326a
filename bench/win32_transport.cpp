// sluice-bench — named pipes through the Win32 API, byte mode and message mode.
//
// Everything below the adapter classes' interface is plain Win32 (windows.h and nothing else),
// so this file builds unchanged on Windows; on Linux it runs on sluice's Win32 layer
// (sluice::win32). It mirrors sluice_transport.cpp call for call: the same pipe type, read mode,
// instance count and buffer sizes, so the rows differ only by the layer's cost.
//
// On Linux the layer's default Registry (and its agent thread) is made by a static initialiser
// and does not survive fork, so the job runner starts both processes of a win32 row afresh
// (exec) with SLUICE_PIPE_DIR pointing into the row's scratch directory; see
// Transport::needs_fresh_process and job_runner.cpp. Windows has no fork, nothing to adapt.
#include <windows.h>

#include <algorithm>
#include <string>

#include "transport.hpp"

namespace sluice::bench {
namespace {

[[noreturn]] void throw_last_error(const char* call) {
  const DWORD code = GetLastError();
  char text[256] = {};
  const DWORD length =
      FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, nullptr, code, 0,
                     text, static_cast<DWORD>(sizeof text), nullptr);
  std::string message = std::string(call) + " failed: error " + std::to_string(code);
  if (length > 0) {
    std::string what(text, length);
    while (!what.empty() && (what.back() == '\n' || what.back() == '\r')) what.pop_back();
    message += " (" + what + ")";
  }
  throw BenchError(message);
}

/// Owns one pipe handle (server or client end).
class Win32Channel final : public Channel {
 public:
  Win32Channel(HANDLE pipe, bool message_mode) : pipe_(pipe), message_mode_(message_mode) {}
  ~Win32Channel() override { CloseHandle(pipe_); }
  Win32Channel(const Win32Channel&) = delete;
  Win32Channel& operator=(const Win32Channel&) = delete;

  void send(std::span<const std::byte> data) override {
    // A blocking WriteFile returns once every byte is in the pipe, in both modes (Windows).
    DWORD written = 0;
    if (!WriteFile(pipe_, data.data(), static_cast<DWORD>(data.size()), &written, nullptr)) {
      throw_last_error("WriteFile");
    }
    if (written != data.size()) {
      throw BenchError("WriteFile wrote " + std::to_string(written) + " of " +
                       std::to_string(data.size()) + " bytes");
    }
  }

  void receive(std::span<std::byte> buffer) override {
    if (message_mode_) {
      DWORD got = 0;
      if (!ReadFile(pipe_, buffer.data(), static_cast<DWORD>(buffer.size()), &got, nullptr)) {
        // ERROR_MORE_DATA (a longer message than expected) is a failure here too.
        throw_last_error("ReadFile");
      }
      if (got != buffer.size()) {
        throw BenchError("ReadFile: message of " + std::to_string(got) + " bytes, expected " +
                         std::to_string(buffer.size()));
      }
      return;
    }
    while (!buffer.empty()) {
      DWORD got = 0;
      if (!ReadFile(pipe_, buffer.data(), static_cast<DWORD>(buffer.size()), &got, nullptr)) {
        throw_last_error("ReadFile");
      }
      if (got == 0) throw BenchError("ReadFile returned 0 bytes in byte mode");
      buffer = buffer.subspan(got);
    }
  }

 private:
  HANDLE pipe_;
  bool message_mode_;
};

class Win32Transport final : public Transport {
 public:
  explicit Win32Transport(bool message_mode) : message_mode_(message_mode) {}

  std::string_view name() const override { return message_mode_ ? "win32-msg" : "win32-byte"; }

  bool needs_fresh_process() const override { return true; }

  void prepare(const TransportConfig& config) override {
    // Runs in both processes (the follower is exec'd, see above), so the name depends on the
    // config alone: the scratch directory's own name is unique to the row.
    const std::size_t slash = config.scratch_dir.find_last_of("/\\");
    pipe_name_ = "\\\\.\\pipe\\" + config.scratch_dir.substr(slash + 1) + "-win32";
    // As sluice_transport.cpp: up to four messages in flight, never below 1 MiB.
    const std::size_t quota = std::max<std::size_t>(1 << 20, 4 * config.max_message_bytes);
    buffer_size_ = static_cast<DWORD>(std::min<std::size_t>(quota, 1u << 30));
  }

  std::unique_ptr<Channel> open_leader(const std::function<void()>& follower_may_connect) override {
    const DWORD pipe_mode = message_mode_ ? PIPE_TYPE_MESSAGE | PIPE_READMODE_MESSAGE | PIPE_WAIT
                                          : PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT;
    HANDLE pipe =
        CreateNamedPipeA(pipe_name_.c_str(), PIPE_ACCESS_DUPLEX | FILE_FLAG_FIRST_PIPE_INSTANCE,
                         pipe_mode, 1, buffer_size_, buffer_size_, 0, nullptr);
    if (pipe == INVALID_HANDLE_VALUE) throw_last_error("CreateNamedPipeA");
    auto channel = std::make_unique<Win32Channel>(pipe, message_mode_);
    follower_may_connect();
    // The client may already be there: FALSE with ERROR_PIPE_CONNECTED is a success (Windows).
    if (!ConnectNamedPipe(pipe, nullptr) && GetLastError() != ERROR_PIPE_CONNECTED) {
      throw_last_error("ConnectNamedPipe");
    }
    return channel;
  }

  std::unique_ptr<Channel> open_follower() override {
    HANDLE pipe = INVALID_HANDLE_VALUE;
    for (;;) {
      pipe = CreateFileA(pipe_name_.c_str(), GENERIC_READ | GENERIC_WRITE, 0, nullptr,
                         OPEN_EXISTING, 0, nullptr);
      if (pipe != INVALID_HANDLE_VALUE) break;
      if (GetLastError() != ERROR_PIPE_BUSY) throw_last_error("CreateFileA");
      if (!WaitNamedPipeA(pipe_name_.c_str(), 5000)) throw_last_error("WaitNamedPipeA");
    }
    auto channel = std::make_unique<Win32Channel>(pipe, message_mode_);
    if (message_mode_) {
      // A client end always starts in byte read mode (Windows).
      DWORD mode = PIPE_READMODE_MESSAGE;
      if (!SetNamedPipeHandleState(pipe, &mode, nullptr, nullptr)) {
        throw_last_error("SetNamedPipeHandleState");
      }
    }
    return channel;
  }

 private:
  bool message_mode_;
  std::string pipe_name_;
  DWORD buffer_size_ = 0;
};

}  // namespace

std::unique_ptr<Transport> make_win32_transport(bool message_mode, std::string&) {
  return std::make_unique<Win32Transport>(message_mode);
}

}  // namespace sluice::bench
