// PipeNamespace: the directory that holds every pipe name, and the kernel-held facts in it.
//
//   <dir>/<key>/name        descriptor: pipe-wide attributes and the name as its creator gave it
//   <dir>/<key>/lock        open-file-description locks:
//                             byte 0        shared lock per server end: "the name exists"
//                             byte 1        creation mutex (checks and slot choice are atomic)
//                             byte 16 + i   exclusive lock of instance slot i
//   <dir>/<key>/L<ns>-<pid>-<slot>-<inquota>
//                           the listener of an instance while it is LISTENING; <ns> is
//                           CLOCK_MONOTONIC at the moment it started listening, so sorting the
//                           names gives the spec's oldest-listener-first order
//
// Locks vanish with the last descriptor, so counts and existence survive SIGKILL correctly.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "os/linux/unique_fd.hpp"
#include "registry/pipe_name.hpp"
#include "sluice/result.hpp"

namespace sluice::registry {

/// Pipe-wide attributes, fixed by the first instance.
struct PipeAttributes {
  std::uint32_t access = 3;         ///< PIPE_ACCESS_* value
  std::uint32_t type = 0;           ///< PIPE_TYPE_* value
  std::uint32_t max_instances = 255;
  std::uint32_t default_timeout_ms = 50;
  std::string display;              ///< `\\.\pipe\Name` as the creator spelled it
  std::string security;             ///< the name's security descriptor, in its text form
};

/// What a new instance holds: its name directory, its lock description and its slot.
struct InstanceSlot {
  os::UniqueFd name_dir;
  os::UniqueFd lock;
  std::uint32_t slot = 0;
  PipeAttributes pipe;  ///< the pipe-wide attributes in force
  bool created_name = false;  ///< the first instance of the name (nobody held it before)
};

/// A listener file name, parsed.
struct ListenerEntry {
  std::string file;
  std::uint32_t pid = 0;
  std::uint32_t slot = 0;
  std::uint32_t in_quota = 0;
};

/// Thread safety: all members may be called from any thread.
class PipeNamespace {
 public:
  static Result<PipeNamespace> open(std::string directory);

  const std::string& path() const noexcept { return path_; }

  /// Adds an instance to `name` (creating the name when no server end holds it), applying the
  /// checks of named-pipes.md §5.1 in the observed order: instance limit (kPipeBusy), first
  /// instance (kAccessDenied), access mode (kAccessDenied).
  Result<InstanceSlot> create_instance(const PipeName& name, const PipeAttributes& requested,
                                       bool first_instance);

  /// Opens an existing name for a client: its directory and attributes. kFileNotFound when no
  /// server end holds the name.
  Result<os::UniqueFd> open_existing(const PipeName& name, PipeAttributes* attributes);

  /// Whether a server end holds the name (through its directory).
  static bool exists(int name_dir);
  /// Instances that exist now (capped at 255).
  static std::uint32_t count_instances(int name_dir);
  /// The listeners present, oldest first.
  static std::vector<ListenerEntry> listeners(int name_dir);
  /// A fresh listener file name for `slot`.
  static std::string listener_name(std::uint32_t slot, std::uint32_t in_quota);

  /// Every name that exists now.
  Result<std::vector<std::string>> list() const;

 private:
  std::string path_;
  os::UniqueFd dir_;
};

}  // namespace sluice::registry
