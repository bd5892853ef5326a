#include "sluice/service.hpp"

#include "os/linux/service_manager.hpp"

namespace sluice {

Result<void> catch_stop_requests() { return os::catch_stop_requests(); }
bool wait_stop_request(std::chrono::milliseconds timeout) { return os::wait_stop_request(timeout); }
Result<void> notify_service_manager(std::string_view state) {
  return os::notify_service_manager(state);
}

}  // namespace sluice
