// sluice — the values named pipes take and give: pipe modes, the options of CreateNamedPipe and
// CreateFile, and what reads, peeks and the info and state queries return. Apart from
// sluice/named_pipe.hpp so that the engine below the C++ API uses the same types without
// including the API (docs/layers.md).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "sluice/security.hpp"

namespace sluice {

/// Direction of a pipe, relative to the server (PIPE_ACCESS_* values).
enum class PipeAccess : std::uint32_t { kInbound = 1, kOutbound = 2, kDuplex = 3 };
/// Whether write boundaries are kept (PIPE_TYPE_* values).
enum class PipeType : std::uint32_t { kByte = 0, kMessage = 4 };
/// Whether a read honours message boundaries (PIPE_READMODE_* values). Per end.
enum class ReadMode : std::uint32_t { kByte = 0, kMessage = 2 };
/// Whether an operation that cannot finish now waits or returns (PIPE_WAIT / PIPE_NOWAIT). Per end.
enum class WaitMode : std::uint32_t { kWait = 0, kNoWait = 1 };

// Access rights (sluice::rights) are in sluice/security.hpp.

/// PIPE_UNLIMITED_INSTANCES: no limit but resources (at least 300 instances work).
inline constexpr std::uint32_t kUnlimitedInstances = 255;
/// For wait_for_instance and call: use the pipe's default time-out (NMPWAIT_USE_DEFAULT_WAIT).
/// Not 0 ms as in the Win32 API: in the C++ API a time-out of 0 means "look once, do not wait".
inline constexpr std::chrono::milliseconds kUseDefaultWait{-1};
/// For wait_for_instance and call: wait without a time-out.
inline constexpr std::chrono::milliseconds kWaitForever = std::chrono::milliseconds::max();

/// How CreateNamedPipe's arguments look in C++. The defaults give a duplex byte pipe.
struct ServerOptions {
  PipeAccess access = PipeAccess::kDuplex;
  PipeType type = PipeType::kByte;
  ReadMode read_mode = ReadMode::kByte;
  WaitMode wait_mode = WaitMode::kWait;
  /// 1..255; 255 is unlimited. Only the first instance's value counts for the name.
  std::uint32_t max_instances = kUnlimitedInstances;
  /// Quota of the server→client direction, reported back verbatim. 0 is legal: every write then
  /// waits until the reader has taken it.
  std::uint32_t out_buffer_size = 65536;
  /// Quota of the client→server direction.
  std::uint32_t in_buffer_size = 65536;
  /// Used by wait_for_instance / call with kUseDefaultWait; 0 means 50 ms.
  std::chrono::milliseconds default_timeout{50};
  /// Fail with kAccessDenied if the name exists already (FILE_FLAG_FIRST_PIPE_INSTANCE).
  bool first_instance = false;
  /// Stored and reported; no effect on a local pipe.
  bool write_through = false;
  /// Refuse (kAccessDenied) clients that come "remotely": through this computer's name rather
  /// than `.` (PipeEnd::client_via_network); there are no other remote clients.
  bool reject_remote_clients = false;
  /// Who may open the pipe and add instances to it; only the first instance's counts for the
  /// name. Default: the owner and root only. Clients are checked against it with the
  /// credentials the kernel recorded for their connection; a refused open is kAccessDenied.
  SecurityDescriptor security = SecurityDescriptor::owner_only();
};

/// How CreateFile's arguments look in C++ for a pipe client.
struct ClientOptions {
  /// rights::kRead, rights::kWrite, both, specific rights, or 0 (connects without data access).
  std::uint32_t desired_access = rights::kRead | rights::kWrite;
  bool write_through = false;
  /// What the server may do with the client's identity (SECURITY_SQOS_PRESENT).
  SecurityQos qos;
  /// The read mode the end starts in (SetNamedPipeHandleState after CreateFile); kMessage
  /// needs a message pipe.
  ReadMode read_mode = ReadMode::kByte;
};

/// What a read transferred. more_data is ERROR_MORE_DATA: the message was longer than the buffer;
/// `bytes` were transferred and the rest of the message stays for the next read.
struct ReadResult {
  std::size_t bytes = 0;
  bool more_data = false;
};

/// PeekNamedPipe's three outputs, with Windows' 32-bit arithmetic (on a byte pipe
/// bytes_left_this_message is 0 − bytes_read, e.g. 0xFFFFFFFC after peeking 4 bytes).
struct PeekResult {
  std::uint32_t bytes_read = 0;
  std::uint32_t total_available = 0;
  std::uint32_t bytes_left_this_message = 0;
};

/// GetNamedPipeInfo's outputs.
struct PipeInfo {
  bool server_end = false;
  PipeType type = PipeType::kByte;
  std::uint32_t out_buffer_size = 0;
  std::uint32_t in_buffer_size = 0;
  std::uint32_t max_instances = 0;
};

/// GetNamedPipeHandleState's outputs.
struct HandleState {
  ReadMode read_mode = ReadMode::kByte;
  WaitMode wait_mode = WaitMode::kWait;
  /// Instances of the pipe that exist now, capped at 255 (0 once the name is gone).
  std::uint32_t current_instances = 0;
};

/// A process at one end of a pipe, with the identity it had when it connected.
struct ProcessCredentials {
  std::uint32_t pid = 0;
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
  /// Supplementary groups when it connected (SO_PEERGROUPS).
  std::vector<std::uint32_t> groups;
  /// For a client: what it lets the server do with its identity.
  SecurityQos qos;
};

/// How ServerEnd::connect found its client.
enum class ConnectStatus {
  kConnected,         ///< a client connected during the call
  kAlreadyConnected,  ///< a client had connected before the call (ERROR_PIPE_CONNECTED)
};

}  // namespace sluice
