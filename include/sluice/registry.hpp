// sluice — Registry: one pipe namespace and the agent thread that serves it in this process.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "sluice/result.hpp"

namespace sluice {

namespace core {
class Engine;
}

/// A pipe namespace (a directory that holds every pipe name) plus this process's agent thread,
/// which accepts clients for this process's server ends and watches every connection for a dead
/// peer. Create one per process (or one per test, for a private namespace) and pass it to the
/// pipe constructors; every pipe end keeps what it needs alive, so a Registry may be destroyed
/// before the ends made from it.
///
/// Thread safety: all members may be called from any thread.
class Registry {
 public:
  /// Opens the namespace in `directory`; empty means $SLUICE_PIPE_DIR, else the machine default
  /// (/tmp/sluice-pipes). The directory is created (mode 1777) when missing and refused unless it
  /// is owned by root or the caller and is sticky (so other users cannot replace entries).
  /// Errors: kAccessDenied (unsafe directory), kPathNotFound (cannot create), resource errors.
  static Result<Registry> open(std::string directory = {});

  Registry(Registry&&) noexcept;
  Registry& operator=(Registry&&) noexcept;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;
  ~Registry();

  /// The namespace directory in use.
  const std::string& directory() const noexcept;

  /// The names (as their creators spelled them, e.g. `\\.\pipe\Foo`) of the pipes that exist now,
  /// i.e. that have at least one open server end.
  Result<std::vector<std::string>> list() const;

  /// The engine behind this registry (internal use by the pipe classes).
  const std::shared_ptr<core::Engine>& engine() const noexcept { return engine_; }

 private:
  explicit Registry(std::shared_ptr<core::Engine> engine);
  std::shared_ptr<core::Engine> engine_;
};

}  // namespace sluice
