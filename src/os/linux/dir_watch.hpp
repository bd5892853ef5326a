// DirWatch: wakes a waiter when an entry is created in a directory or removed from it (inotify).
#pragma once

#include <chrono>

#include "os/linux/unique_fd.hpp"
#include "sluice/result.hpp"

namespace sluice::os {

class DirWatch {
 public:
  /// Watches `dir_fd` for new and removed entries.
  static Result<DirWatch> create(int dir_fd);
  /// Waits until something was created or removed (or `timeout` passed; negative = forever).
  /// Returns whether an event came; the events are consumed.
  bool wait(int timeout_ms);

 private:
  UniqueFd fd_;
};

}  // namespace sluice::os
