#include "sluice/event.hpp"

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "api/wait_access.hpp"
#include "objects/event.hpp"
#include "objects/named_event.hpp"
#include "sluice/registry.hpp"

namespace sluice {
namespace {

// WaitForMultipleObjects' limit (MAXIMUM_WAIT_OBJECTS).
constexpr std::size_t kMaxWaitObjects = 64;

std::optional<objects::Waiter::Clock::time_point> deadline_of(std::chrono::milliseconds timeout) {
  if (timeout == std::chrono::milliseconds::max()) return std::nullopt;
  auto now = objects::Waiter::Clock::now();
  if (timeout <= std::chrono::milliseconds::zero()) return now;
  // Beyond what the clock can hold is no limit either.
  if (timeout > std::chrono::duration_cast<std::chrono::milliseconds>(
                    objects::Waiter::Clock::time_point::max() - now))
    return std::nullopt;
  return now + timeout;
}

}  // namespace

Event::Event() noexcept = default;
Event::Event(Event&&) noexcept = default;
Event& Event::operator=(Event&&) noexcept = default;
Event::~Event() = default;

Event::Event(std::shared_ptr<objects::Event> event, bool existed) noexcept
    : event_(std::move(event)), existed_(existed) {}

Event Event::unnamed(EventOptions options) {
  return Event(std::make_shared<objects::Event>(options.manual_reset, options.initially_set),
               false);
}

Result<Event> Event::create(const Registry& registry, std::string_view name, EventOptions options) {
  if (name.empty()) return unnamed(options);
  auto opened = objects::open_named_event(registry.directory(), std::string(name), true,
                                          options.manual_reset, options.initially_set);
  if (!opened) return opened.error();
  return Event(std::make_shared<objects::Event>(std::move(opened->event)), opened->existed);
}

Result<Event> Event::open(const Registry& registry, std::string_view name) {
  if (name.empty()) return errc::kInvalidParameter;
  auto opened =
      objects::open_named_event(registry.directory(), std::string(name), false, false, false);
  if (!opened) return opened.error();
  return Event(std::make_shared<objects::Event>(std::move(opened->event)), true);
}

bool Event::manual_reset() const noexcept { return event_ && event_->manual(); }

void Event::set() noexcept {
  if (event_) event_->set();
}

void Event::reset() noexcept {
  if (event_) event_->reset();
}

std::shared_ptr<objects::Waitable> Event::wait_object() const noexcept { return event_; }

Result<void> Event::wait(std::chrono::milliseconds timeout) {
  Waitable* self = this;
  auto done = WaitAccess::wait(std::span<Waitable* const>(&self, 1), false, timeout);
  if (!done) return done.error();
  return {};
}

Result<std::size_t> WaitAccess::wait(std::span<Waitable* const> objects, bool all,
                                     std::chrono::milliseconds timeout) {
  if (objects.empty() || objects.size() > kMaxWaitObjects) return errc::kInvalidParameter;
  std::vector<std::shared_ptr<objects::Waitable>> keep;  // the objects, held for the wait
  std::vector<objects::Waitable*> list;
  std::vector<objects::Event*> events;
  keep.reserve(objects.size());
  list.reserve(objects.size());
  events.reserve(objects.size());
  for (Waitable* o : objects) {
    if (!o) return errc::kInvalidParameter;
    auto object = o->wait_object();
    if (!object) return errc::kInvalidHandle;
    list.push_back(object.get());
    events.push_back(o->wait_event());
    keep.push_back(std::move(object));
  }
  auto taken = objects::wait_for_objects_and_events(list, events, all, deadline_of(timeout));
  if (!taken) return errc::kWaitTimeout;
  return *taken;
}

Result<std::size_t> wait_any(std::span<Waitable* const> objects,
                             std::chrono::milliseconds timeout) {
  return WaitAccess::wait(objects, false, timeout);
}

Result<void> wait_all(std::span<Waitable* const> objects, std::chrono::milliseconds timeout) {
  auto done = WaitAccess::wait(objects, true, timeout);
  if (!done) return done.error();
  return {};
}

Result<std::size_t> wait_any(std::initializer_list<Waitable*> objects,
                             std::chrono::milliseconds timeout) {
  return wait_any(std::span<Waitable* const>(objects.begin(), objects.size()), timeout);
}

Result<void> wait_all(std::initializer_list<Waitable*> objects, std::chrono::milliseconds timeout) {
  return wait_all(std::span<Waitable* const>(objects.begin(), objects.size()), timeout);
}

Result<std::size_t> wait_any(std::span<Event* const> events, std::chrono::milliseconds timeout) {
  std::vector<Waitable*> objects(events.begin(), events.end());
  return wait_any(objects, timeout);
}

Result<void> wait_all(std::span<Event* const> events, std::chrono::milliseconds timeout) {
  std::vector<Waitable*> objects(events.begin(), events.end());
  return wait_all(objects, timeout);
}

}  // namespace sluice
