// sluice-demo, part 3: one pipe end, two processes. A client end that has read half a message
// is handed to a worker process, which reads the other half and answers through the same end.
#pragma once

#include <string>
#include <vector>

#include <sluice/registry.hpp>

namespace demo {

/// Runs the parent side; `self` is this executable, re-run as
/// `self --worker DIR END` (END: PortableEnd::to_text()). Returns whether every check passed.
bool run_handoff(sluice::Registry& registry, const std::string& self);

/// The body of the worker process. Returns the process exit code.
int run_worker_process(const std::vector<std::string>& args);

}  // namespace demo
