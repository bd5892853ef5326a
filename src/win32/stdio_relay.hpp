// A named-pipe handle as a child's standard handle (STARTF_USESTDHANDLES, or SetStdHandle plus
// inheritance): the relay itself is the objects layer's (objects/stdio_relay.hpp); this is the
// named-pipe end it moves bytes to or from.
#pragma once

#include <memory>

#include "objects.hpp"
#include "objects/stdio_relay.hpp"

namespace sluice::win32 {

/// A relay for `end` (a named-pipe object) as the child's stdin (`child_reads`) or
/// stdout/stderr; the relay holds the object. Errors: resource errors.
Result<std::shared_ptr<objects::StdioRelay>> relay_for(std::shared_ptr<Object> end,
                                                       bool child_reads);
/// Whether `relay` was made by relay_for() for `end`.
bool relays_end(const objects::StdioRelay& relay, const Object* end) noexcept;

}  // namespace sluice::win32
