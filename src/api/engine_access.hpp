// EngineAccess: the way from a public object to the engine object behind it, for the C++ API's
// own code and the Win32 layer. It lives here rather than as public members so that installed
// headers name no engine internals (docs/layers.md).
#pragma once

#include <memory>

#include "sluice/named_pipe.hpp"
#include "sluice/registry.hpp"

namespace sluice {

struct EngineAccess {
  static const std::shared_ptr<core::Engine>& engine(const Registry& registry) noexcept {
    return registry.engine_;
  }
  static const std::shared_ptr<core::PipeEndCore>& end(const PipeEnd& end) noexcept {
    return end.end_;
  }
};

}  // namespace sluice
