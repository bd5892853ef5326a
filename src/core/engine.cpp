#include "core/engine.hpp"

#include <vector>

namespace sluice::core {

Result<std::shared_ptr<Engine>> Engine::create(std::string directory) {
  auto names = registry::PipeNamespace::open(std::move(directory));
  if (!names) return names.error();
  auto poller = os::Poller::create();
  if (!poller) return poller.error();
  std::shared_ptr<Engine> engine(new Engine(std::move(*names), std::move(*poller)));
  // Started here, never lazily: a thread created while another thread impersonates a client
  // would inherit the client's identity.
  engine->agent_ = std::thread([raw = engine.get()] { raw->run(); });
  return engine;
}

Engine::Engine(registry::PipeNamespace names, os::Poller poller)
    : names_(std::move(names)),
      poller_(std::move(poller)),
      reserve_fd_(os::open_reserve_descriptor()) {}

void Engine::refuse_connection(int listen_fd) noexcept {
  os::refuse_one_connection(listen_fd, reserve_fd_);
}

Engine::~Engine() {
  stopping_.store(true);
  poller_.wake();
  // The last end can die on the agent thread itself (it held the last reference while
  // handling an event); that thread then simply returns from run().
  if (agent_.get_id() == std::this_thread::get_id()) {
    *destroyed_on_agent_ = true;
    agent_.detach();
  } else if (agent_.joinable()) {
    agent_.join();
  }
}

Result<std::uint64_t> Engine::watch(int fd, std::weak_ptr<Watched> target) {
  std::uint64_t key;
  {
    std::lock_guard lock(mu_);
    key = next_key_++;
    watched_.emplace(key, std::move(target));
  }
  auto added = poller_.add(fd, key);
  if (!added) {
    std::lock_guard lock(mu_);
    watched_.erase(key);
    return added.error();
  }
  return key;
}

void Engine::unwatch(int fd, std::uint64_t key) noexcept {
  poller_.remove(fd);
  std::lock_guard lock(mu_);
  watched_.erase(key);
}

void Engine::run() {
  std::vector<os::PollEvent> events;
  bool destroyed = false;  // lives on this thread's stack, so it outlives `this`
  destroyed_on_agent_ = &destroyed;
  while (!stopping_.load()) {
    events.clear();
    poller_.wait(events, -1);
    for (const auto& ev : events) {
      if (ev.key == os::Poller::kWakeKey) continue;
      std::shared_ptr<Watched> target;
      {
        std::lock_guard lock(mu_);
        auto it = watched_.find(ev.key);
        if (it != watched_.end()) target = it->second.lock();
      }
      if (target) target->on_ready(ev.key, ev.readable, ev.hung_up);
      target.reset();
      if (destroyed || stopping_.load()) return;
    }
  }
}

}  // namespace sluice::core
