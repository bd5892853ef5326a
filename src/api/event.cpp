#include "sluice/event.hpp"

#include <optional>
#include <string>
#include <utility>
#include <vector>

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

Result<void> Event::wait(std::chrono::milliseconds timeout) {
  Event* self = this;
  auto done = wait_on(std::span<Event* const>(&self, 1), false, timeout);
  if (!done) return done.error();
  return {};
}

Result<std::size_t> Event::wait_on(std::span<Event* const> events, bool all,
                                   std::chrono::milliseconds timeout) {
  if (events.empty() || events.size() > kMaxWaitObjects) return errc::kInvalidParameter;
  std::vector<std::shared_ptr<objects::Event>> keep;  // the objects, held for the wait
  std::vector<objects::Event*> list;
  keep.reserve(events.size());
  list.reserve(events.size());
  for (Event* e : events) {
    if (!e) return errc::kInvalidParameter;
    if (!e->event_) return errc::kInvalidHandle;
    keep.push_back(e->event_);
    list.push_back(e->event_.get());
  }
  auto taken = objects::wait_for_events(list, all, deadline_of(timeout));
  if (!taken) return errc::kWaitTimeout;
  return *taken;
}

Result<std::size_t> wait_any(std::span<Event* const> events, std::chrono::milliseconds timeout) {
  return Event::wait_on(events, false, timeout);
}

Result<void> wait_all(std::span<Event* const> events, std::chrono::milliseconds timeout) {
  auto done = Event::wait_on(events, true, timeout);
  if (!done) return done.error();
  return {};
}

}  // namespace sluice
