// sluice — running as a service in the foreground under a service manager (systemd and the like):
// the stop request as something to wait for, and status reports in sd_notify's protocol.
//
//   sluice::catch_stop_requests().value();
//   sluice::notify_service_manager("READY=1").value();
//   while (!sluice::wait_stop_request(std::chrono::seconds(1))) { /* serve */ }
//   sluice::notify_service_manager("STOPPING=1").value();
#pragma once

#include <chrono>
#include <string_view>

#include "sluice/result.hpp"

namespace sluice {

/// From now on SIGTERM (what systemd and kill(1) send to stop a service) no longer ends the
/// process but is kept for wait_stop_request(). Once per process; later calls do nothing.
/// Errors: resource errors. Thread safety: any thread.
///
/// Win32: StartServiceCtrlDispatcher, whose control dispatcher turns it into
/// SERVICE_CONTROL_STOP for the service's handler.
Result<void> catch_stop_requests();

/// Waits up to `timeout` for a stop request caught since the last call that returned true.
/// False when none came (or catch_stop_requests() was never called). Thread safety: one
/// waiting thread at a time.
bool wait_stop_request(std::chrono::milliseconds timeout);

/// Sends `state` ("READY=1", "STOPPING=1", "STATUS=text", newline-separated) to the service
/// manager through $NOTIFY_SOCKET (sd_notify(3)'s protocol, without libsystemd); nothing when
/// $NOTIFY_SOCKET is unset. Errors: those of the socket. Thread safety: any thread.
///
/// Win32: SetServiceStatus.
Result<void> notify_service_manager(std::string_view state);

}  // namespace sluice
