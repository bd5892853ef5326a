#include "objects/child_process.hpp"

#include <algorithm>
#include <mutex>
#include <system_error>
#include <thread>
#include <unordered_map>

#include "objects/exit_code.hpp"
#include "os/linux/poller.hpp"

namespace sluice::objects {

namespace {

using Clock = std::chrono::steady_clock;

// How long a child's exit waits for its relays from the child to pass on what it wrote: the
// output is in the pipe when the exit is signalled, as on Windows, unless a grandchild keeps the
// relay's pipe open.
constexpr auto kDrainTime = std::chrono::seconds(1);
// How often a relay into an exited child is cancelled again until it notices (StdioRelay::
// child_exited()).
constexpr int kRecancelMs = 2;

}  // namespace

/// The one thread of the process that turns children's exits into signalled objects. It runs
/// while the process has children it has not signalled yet (or relays into an exited child to
/// stop), then ends and closes its descriptors: a process with no children holds none of them.
class ChildWatcher {
 public:
  /// Has the watcher watch `child`, starting one when none runs. Returns the watcher.
  static Result<std::shared_ptr<ChildWatcher>> watch(std::shared_ptr<ChildProcess> child) {
    Shared& shared = Shared::get();
    std::lock_guard lock(shared.mu);
    if (!shared.current) {
      auto poller = os::Poller::create();
      if (!poller) return poller.error();
      std::shared_ptr<ChildWatcher> watcher(new ChildWatcher(std::move(*poller)));
      try {
        std::thread([watcher] { watcher->run(); }).detach();
      } catch (const std::system_error&) {
        return errc::kNotEnoughMemory;
      }
      shared.current = std::move(watcher);
    }
    ChildWatcher& w = *shared.current;
    std::uint64_t key = w.next_key_++;
    if (auto added = w.poller_.add(child->pidfd_.get(), key); !added) return added.error();
    w.watched_.emplace(key, std::move(child));
    return shared.current;
  }

  /// A relay ended: its child's exit may be signalled now.
  void wake() noexcept { poller_.wake(); }

 private:
  // What the watchers share; never destroyed (a watcher may run while the process exits).
  struct Shared {
    std::mutex mu;
    std::shared_ptr<ChildWatcher> current;  // guarded by mu: the running watcher, if any
    static Shared& get() {
      static Shared* shared = new Shared;
      return *shared;
    }
  };

  explicit ChildWatcher(os::Poller poller) : poller_(std::move(poller)) {}

  void run() {
    std::vector<os::PollEvent> events;
    for (;;) {
      events.clear();
      poller_.wait(events, timeout_ms());
      for (const auto& event : events) {
        if (event.key == os::Poller::kWakeKey) continue;
        std::shared_ptr<ChildProcess> child;
        {
          std::lock_guard lock(Shared::get().mu);
          auto it = watched_.find(event.key);
          if (it == watched_.end()) continue;  // reported twice in one batch
          child = std::move(it->second);
          watched_.erase(it);
          poller_.remove(child->pidfd_.get());
        }
        child->reap();
        draining_.push_back(std::move(child));
      }
      auto now = Clock::now();
      std::erase_if(draining_, [&](const std::shared_ptr<ChildProcess>& child) {
        if (!child->drained() && now < child->drain_deadline_) return false;
        child->signal();
        if (child->stop_relays_into_child()) stopping_.push_back(child);
        return true;
      });
      std::erase_if(stopping_, [](const std::shared_ptr<ChildProcess>& child) {
        return !child->stop_relays_into_child();
      });
      if (draining_.empty() && stopping_.empty()) {
        // Nothing left to do: the watcher ends, unless a child came meanwhile. The next child
        // starts a new one.
        Shared& shared = Shared::get();
        std::lock_guard lock(shared.mu);
        if (watched_.empty()) {
          if (shared.current.get() == this) shared.current.reset();
          return;  // the thread's reference goes last (and relays hold none)
        }
      }
    }
  }

  // Until the next drain deadline, or the next cancel of a relay into an exited child; else
  // until a child exits or a relay ends.
  int timeout_ms() const {
    if (!stopping_.empty()) return kRecancelMs;
    if (draining_.empty()) return -1;
    auto first = std::min_element(draining_.begin(), draining_.end(), [](auto& a, auto& b) {
      return a->drain_deadline_ < b->drain_deadline_;
    });
    auto left =
        std::chrono::ceil<std::chrono::milliseconds>((*first)->drain_deadline_ - Clock::now());
    return static_cast<int>(std::clamp<std::int64_t>(left.count(), 0, 1000));
  }

  os::Poller poller_;
  std::uint64_t next_key_ = 1;  // guarded by Shared::mu
  // Running children, by poller key. Guarded by Shared::mu.
  std::unordered_map<std::uint64_t, std::shared_ptr<ChildProcess>> watched_;
  // The watcher thread's alone: exited children waiting for their relays from the child, and
  // signalled children whose relays into the child have not stopped yet.
  std::vector<std::shared_ptr<ChildProcess>> draining_;
  std::vector<std::shared_ptr<ChildProcess>> stopping_;
};

Result<std::shared_ptr<ChildProcess>> ChildProcess::start(ChildOptions options) {
  // The child's exit code with all its bits (exit_code.hpp); without the channel (no descriptor
  // left), it reports what Linux reports.
  auto channel = open_exit_code_channel();
  if (channel) {
    options.pass_fds.push_back(channel->write.get());
    options.environment.push_back(std::string(kExitCodeVariable) + "=" +
                                  std::to_string(channel->write.get()));
  }
  auto started = os::spawn_child(options.argv, options.stdio, options.inherit_fds, options.pass_fds,
                                 options.environment);
  if (!started) return started.error();
  std::shared_ptr<ChildProcess> child(new ChildProcess());
  child->pid_ = started->pid;
  child->pidfd_ = std::move(started->pidfd);
  if (channel) child->exit_channel_ = std::move(channel->read);  // our write end closes here
  child->relays_ = options.relays;  // the watcher's from now on: start() uses its own list
  auto watcher = ChildWatcher::watch(child);
  if (!watcher) {
    // Without a watch its exit would never be signalled: the child goes now.
    (void)os::kill_child(child->pidfd_.get());
    child->reap();
    return watcher.error();
  }
  // The relays wake the watcher as they end, without keeping it (and its descriptors) alive.
  std::weak_ptr<ChildWatcher> weak = *watcher;
  for (auto& relay : options.relays) {
    // A relay without its thread is finished.
    (void)relay->start([weak] {
      if (auto w = weak.lock()) w->wake();
    });
  }
  return child;
}

std::optional<std::uint32_t> ChildProcess::exit_code() const {
  std::lock_guard lock(mutex());
  if (!done_) return std::nullopt;
  return exit_code_;
}

Result<void> ChildProcess::kill() { return os::kill_child(pidfd_.get()); }

Result<void> ChildProcess::terminate(std::uint32_t code) {
  {
    std::lock_guard lock(mutex());
    if (done_) return errc::kAccessDenied;
    // Linux can only report 128 + SIGKILL; we know better, so the code is the one asked for.
    if (!terminated_with_) terminated_with_ = code;
  }
  // Through the pidfd, never the pid: a pid reused after the watcher reaped the child must not
  // be hit.
  return os::kill_child(pidfd_.get());
}

void ChildProcess::reap() {
  auto code = os::reap_child(pid_);  // the pidfd is readable: waitpid returns at once
  std::optional<std::uint32_t> full;
  if (exit_channel_) full = read_exit_code(exit_channel_.get());
  exit_channel_ = os::UniqueFd();
  // A child reaped by someone else (SIGCHLD ignored, a waitpid(-1) of the host) reports 1.
  reaped_code_ = full.value_or(code ? static_cast<std::uint32_t>(*code) : 1u);
  drain_deadline_ = Clock::now() + kDrainTime;
}

bool ChildProcess::drained() const {
  return std::all_of(relays_.begin(), relays_.end(),
                     [](const auto& relay) { return relay->child_reads() || relay->finished(); });
}

void ChildProcess::signal() {
  std::lock_guard lock(mutex());
  done_ = true;
  exit_code_ = terminated_with_.value_or(reaped_code_);
  wake_waiters_locked();
}

bool ChildProcess::stop_relays_into_child() {
  bool running = false;
  for (auto& relay : relays_) {
    if (!relay->child_reads() || relay->finished()) continue;
    relay->child_exited();
    running = true;
  }
  if (!running) relays_.clear();  // relays from the child end on their own
  return running;
}

}  // namespace sluice::objects
