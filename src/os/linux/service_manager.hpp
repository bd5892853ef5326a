// What a Windows service needs of Linux to run in the foreground under a service manager: the
// stop request (SIGTERM, what systemd and `kill` send) as something a thread can wait for, and
// status reports in systemd's notification protocol (sd_notify(3): datagrams of "KEY=value"
// lines to the AF_UNIX socket named by $NOTIFY_SOCKET).
#pragma once

#include <chrono>
#include <string_view>

#include "sluice/result.hpp"

namespace sluice::os {

/// Installs (once per process; later calls do nothing) a SIGTERM handler that records the
/// request for wait_stop_request() instead of ending the process. Thread-safe.
Result<void> catch_stop_requests();

/// Waits up to `timeout` for a SIGTERM caught since the last call that returned true; true if
/// one came. Call catch_stop_requests() first (false at once otherwise). One thread at a time.
bool wait_stop_request(std::chrono::milliseconds timeout);

/// Sends `state` (newline-separated "KEY=value" lines) to $NOTIFY_SOCKET as one datagram: a
/// path, or an abstract socket when it starts with '@'. Without $NOTIFY_SOCKET: nothing, and
/// success. Errors: the socket's (kFileNotFound when nothing listens there). Thread-safe.
Result<void> notify_service_manager(std::string_view state);

}  // namespace sluice::os
