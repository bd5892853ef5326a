// The waits' access to the objects behind sluice::Waitable (its private members), for the
// C++ API's waiting calls: Event::wait, Process::wait, wait_any and wait_all.
#pragma once

#include <chrono>
#include <cstddef>
#include <span>

#include "sluice/event.hpp"
#include "sluice/result.hpp"

namespace sluice {

struct WaitAccess {
  /// WaitForMultipleObjects on `objects`: the index taken (0 for `all`). Errors: as wait_any().
  static Result<std::size_t> wait(std::span<Waitable* const> objects, bool all,
                                  std::chrono::milliseconds timeout);
};

}  // namespace sluice
