#include "objects/named_event.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "os/linux/directory.hpp"
#include "os/linux/futex.hpp"
#include "os/linux/thread_credentials.hpp"

namespace sluice::objects {

// The page behind every name, shared read-write by every process that holds the name:
//
//   0         4         8         12        16         20          24
//   +---------+---------+---------+---------+----------+-----------+---------------------+
//   | magic   | manual  | state   | seq     | watchers | name_size | name (UTF-8) ...    |
//   +---------+---------+---------+---------+----------+-----------+---------------------+
//
// magic and manual are written before the file gets its name and never change; state is 0 or
// 1 (any other value reads as signalled but cannot be consumed); seq is the futex word;
// watchers counts the processes whose watcher sleeps on seq, so that a set with nobody waiting
// makes no system call (a process killed while watching leaves it too high: extra wake-ups only).
struct NamedEvent::Shared {
  std::atomic<std::uint32_t> magic;
  std::atomic<std::uint32_t> manual;
  std::atomic<std::uint32_t> state;
  std::atomic<std::uint32_t> seq;
  std::atomic<std::uint32_t> watchers;
  std::uint32_t name_size;
  char name[4096 - 24];
};
static_assert(sizeof(NamedEvent::Shared) == 4096);
static_assert(std::atomic<std::uint32_t>::is_always_lock_free);

namespace {

constexpr std::uint32_t kMagic = 0x53455631;  // "SEV1"
constexpr std::size_t kFileSize = 4096;
constexpr std::size_t kMaxNameBytes = sizeof(NamedEvent::Shared::name);
constexpr unsigned kSharedDirMode = 01777;  // every user's events, none removable by others
constexpr unsigned kFileMode = 0600;        // Windows' default: the creator's user only
constexpr std::size_t kMaxPlainFileName = 180;
// Lock bytes of an event file: a shared lock on kHolders per open (the name exists while one is
// held), and an exclusive one on kOpenerTurn while an opener decides whether the file is live.
constexpr std::uint64_t kHolders = 0;
constexpr std::uint64_t kOpenerTurn = 1;

// The file name of an event name: the name itself with every byte outside [A-Za-z0-9_.-]
// escaped as %XX (names are case-sensitive, like the file system), or a hash of it when that
// would be too long for a file name (the full name in the file tells hash collisions apart).
std::string file_name_of(const std::string& name) {
  std::string out = "e-";
  for (unsigned char c : name) {
    bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '_' || c == '.' || c == '-';
    if (plain) {
      out += static_cast<char>(c);
    } else {
      char hex[4];
      std::snprintf(hex, sizeof hex, "%%%02X", c);
      out += hex;
    }
  }
  if (out.size() <= kMaxPlainFileName) return out;
  std::uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a
  for (unsigned char c : name) h = (h ^ c) * 0x100000001b3ull;
  char hashed[32];
  std::snprintf(hashed, sizeof hashed, "h-%016llx", static_cast<unsigned long long>(h));
  return hashed;
}

std::size_t code_points(const std::string& s) {
  return static_cast<std::size_t>(
      std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

Result<os::UniqueFd> open_scope(const std::string& directory, bool global) {
  // The folders are made with the process's own credentials: a thread that acts as a client
  // must not give the client the folders every user's events live in (docs/security.md).
  os::OwnCredentialsScope as_process;
  auto root = os::open_directory(directory, kSharedDirMode, false);  // the registry made it
  if (!root) return root.error();
  auto events = os::open_subdirectory(root->get(), "events", kSharedDirMode, true);
  if (!events) return events.error();
  if (auto safe = os::check_directory_is_safe(events->get()); !safe) return safe.error();
  // Local names live per login session; a process outside any session is in the global scope,
  // as Windows' session 0 is.
  std::uint32_t session = global ? 0 : os::own_session_id();
  std::string scope = session == 0 ? "global" : "session-" + std::to_string(session);
  auto dir = os::open_subdirectory(events->get(), scope, kSharedDirMode, true);
  if (!dir) return dir.error();
  if (auto safe = os::check_directory_is_safe(dir->get()); !safe) return safe.error();
  return std::move(*dir);
}

// ---- the watcher thread -------------------------------------------------------------------------

class Watcher {
 public:
  static Watcher& instance() {
    static Watcher* watcher = new Watcher;  // never destroyed: waits may run during exit
    return *watcher;
  }

  void add(NamedEvent* event, std::shared_ptr<Waiter> waiter) {
    std::lock_guard lock(mu_);
    auto it = std::find_if(watches_.begin(), watches_.end(),
                           [&](const Watch& w) { return w.event == event; });
    if (it != watches_.end()) {
      it->waiters.push_back(std::move(waiter));  // already watched: nothing to learn
      return;
    }
    // Counted, then the sequence recorded, both before the waiter's next look at the state: a
    // set() either sees the count (and wakes) or comes before that look (which sees it).
    event->add_watcher();
    watches_.push_back(
        Watch{event, {std::move(waiter)}, event->sequence().load(std::memory_order_seq_cst)});
    if (!started_) {
      started_ = true;
      // The first waiter starts the watcher, maybe while impersonating; it is the process's.
      os::OwnCredentialsScope as_process;
      std::thread([this] { run(); }).detach();
    }
    poke_locked();
  }

  void remove(NamedEvent* event, const Waiter* waiter) {
    std::lock_guard lock(mu_);
    auto it = std::find_if(watches_.begin(), watches_.end(),
                           [&](const Watch& w) { return w.event == event; });
    if (it == watches_.end()) return;
    auto& waiters = it->waiters;
    auto mine = std::find_if(waiters.begin(), waiters.end(),
                             [&](const auto& w) { return w.get() == waiter; });
    if (mine != waiters.end()) waiters.erase(mine);
    // No poke: a watcher still asleep on the removed word is harmless (futex_waitv read the
    // word on entry; an unmapped word is never touched again), and every add() pokes.
    if (waiters.empty()) {
      event->remove_watcher();
      watches_.erase(it);
    }
  }

 private:
  struct Watch {
    NamedEvent* event;                             // kept alive by the WatchGuards of its waiters
    std::vector<std::shared_ptr<Waiter>> waiters;  // one per WatchGuard
    std::uint32_t seen;  // the sequence value the waiters have been told about
  };

  void poke_locked() {
    control_.fetch_add(1, std::memory_order_release);
    os::futex_wake_all(&control_, false);
  }

  [[noreturn]] void run() {
    std::vector<os::FutexWaiter> words;
    for (;;) {
      bool overflow = false;
      words.clear();
      {
        std::lock_guard lock(mu_);
        words.push_back({&control_, control_.load(std::memory_order_acquire), false});
        for (const auto& w : watches_) {
          if (words.size() == static_cast<std::size_t>(os::kMaxFutexWaiters)) {
            overflow = true;
            break;
          }
          words.push_back({&w.event->sequence(), w.seen, true});
        }
      }
      std::optional<std::chrono::steady_clock::time_point> deadline;
      if (overflow) deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(10);
      (void)os::futex_wait_any(words.data(), static_cast<int>(words.size()), deadline);
      // The threads waiting for an event that moved, and only those, look again.
      std::lock_guard lock(mu_);
      for (auto& w : watches_) {
        auto now = w.event->sequence().load(std::memory_order_acquire);
        if (now != w.seen) {
          w.seen = now;
          for (auto& waiter : w.waiters) waiter->wake();
        }
      }
    }
  }

  std::mutex mu_;
  std::vector<Watch> watches_;  // guarded by mu_
  bool started_ = false;        // guarded by mu_
  std::atomic<std::uint32_t> control_{0};
};

}  // namespace

// ---- NamedEvent ---------------------------------------------------------------------------------

NamedEvent::NamedEvent(os::UniqueFd dir, std::string file, os::UniqueFd fd,
                       os::Mapping map) noexcept
    : dir_(std::move(dir)), file_(std::move(file)), fd_(std::move(fd)), map_(std::move(map)) {}

Result<NamedEvent::Travelling> NamedEvent::prepare_travel() const {
  // A description of its own, holding its own read lock: the receiver becomes a holder as any
  // opener does, and our last close cannot mistake the receiver's lock for ours.
  auto open = os::reopen_descriptor(fd_.get());
  if (!open) return open.error();
  auto locked = os::lock_byte(open->get(), kHolders, false, true);
  if (!locked) return locked.error();
  return Travelling{std::move(*open), dir_.get(), file_};
}

Result<std::shared_ptr<NamedEvent>> NamedEvent::adopt(os::UniqueFd open, os::UniqueFd directory,
                                                      std::string file) {
  if (file.empty() || file.find('/') != std::string::npos) return errc::kInvalidParameter;
  auto map = os::map_shared_file(open.get(), kFileSize);
  if (!map) return map.error();
  if (static_cast<Shared*>(map->address())->magic.load(std::memory_order_acquire) != kMagic)
    return errc::kInvalidHandle;
  return std::make_shared<NamedEvent>(std::move(directory), std::move(file), std::move(open),
                                      std::move(*map));
}

NamedEvent::~NamedEvent() {
  // The last holder in any process removes the name; the others just drop their lock.
  auto last = os::lock_byte(fd_.get(), kHolders, true, false);
  if (last && *last) os::unlink_at(dir_.get(), file_);
}

NamedEvent::Shared& NamedEvent::shared() const noexcept {
  return *static_cast<Shared*>(map_.address());
}

bool NamedEvent::manual() const noexcept {
  return shared().manual.load(std::memory_order_relaxed) != 0;
}

bool NamedEvent::signalled() const noexcept {
  return shared().state.load(std::memory_order_acquire) != 0;
}

bool NamedEvent::try_consume() noexcept {
  std::uint32_t expected = 1;
  return shared().state.compare_exchange_strong(expected, 0, std::memory_order_acq_rel);
}

void NamedEvent::set() noexcept {
  shared().state.store(1, std::memory_order_seq_cst);
  shared().seq.fetch_add(1, std::memory_order_seq_cst);
  if (shared().watchers.load(std::memory_order_seq_cst) != 0) {
    os::futex_wake_all(&shared().seq, true);
  }
}

void NamedEvent::add_watcher() noexcept {
  shared().watchers.fetch_add(1, std::memory_order_seq_cst);
}

void NamedEvent::remove_watcher() noexcept {
  shared().watchers.fetch_sub(1, std::memory_order_seq_cst);
}

void NamedEvent::reset() noexcept { shared().state.store(0, std::memory_order_seq_cst); }

const std::atomic<std::uint32_t>& NamedEvent::sequence() const noexcept { return shared().seq; }

Result<OpenedEvent> open_named_event(const std::string& directory, const std::string& name,
                                     bool create, bool manual, bool initial) {
  if (code_points(name) > kMaxEventNameChars || name.size() > kMaxNameBytes) {
    return errc::kFilenameExcedRange;
  }
  std::string rest = name;
  bool global = false;
  if (rest.rfind("Global\\", 0) == 0) {
    global = true;
    rest.erase(0, 7);
  } else if (rest.rfind("Local\\", 0) == 0) {
    rest.erase(0, 6);
  }
  // A backslash separates object directories on Windows; no other directory exists here.
  if (rest.find('\\') != std::string::npos) return errc::kPathNotFound;
  auto dir = open_scope(directory, global);
  if (!dir) return dir.error();
  const std::string file = file_name_of(rest);
  const std::string& stored = rest;  // the scope directory stands for the prefix

  // Each round either opens the file that has the name or publishes a new one; a round starts
  // over when the name vanished in between (its last holder closed it) or another creator won.
  for (int round = 0; round < 1000; ++round) {
    auto fd = os::open_file_at(dir->get(), file, 0, false);
    if (fd) {
      // Openers take turns on byte 1, so that two of them cannot both see the other's lock on
      // a file whose holders all died (SIGKILL leaves the file; the locks go).
      auto turn = os::lock_byte(fd->get(), kOpenerTurn, true, true);
      if (!turn) return turn.error();
      auto links = os::link_count(fd->get());
      if (!links) return links.error();
      if (*links == 0) continue;  // removed by its last holder before we got here
      if (!os::byte_is_locked(fd->get(), kHolders)) {
        // Nobody holds it: a leftover of dead processes. Remove it and start over.
        auto mine = os::lock_byte(fd->get(), kHolders, true, false);
        if (mine && *mine) os::unlink_at(dir->get(), file);
        continue;
      }
      // A last holder may be removing it right now: wait for its write lock, then look again.
      auto locked = os::lock_byte(fd->get(), kHolders, false, true);
      if (!locked) return locked.error();
      links = os::link_count(fd->get());
      if (!links) return links.error();
      if (*links == 0) continue;
      os::unlock_byte(fd->get(), kOpenerTurn);
      auto map = os::map_shared_file(fd->get(), kFileSize);
      if (!map)
        return map.error() == make_error_code(errc::kBadPipe) ? errc::kInvalidHandle : map.error();
      auto& s = *static_cast<NamedEvent::Shared*>(map->address());
      std::uint32_t size = s.name_size;
      if (s.magic.load(std::memory_order_acquire) != kMagic || size != stored.size() ||
          std::memcmp(s.name, stored.data(), size) != 0) {
        return errc::kInvalidHandle;  // not an event of this name (Windows' answer for that)
      }
      auto event = std::make_shared<NamedEvent>(os::UniqueFd(dir->release()), file, std::move(*fd),
                                                std::move(*map));
      return OpenedEvent{std::move(event), true};
    }
    if (fd.error() != make_error_code(errc::kFileNotFound)) return fd.error();
    if (!create) return errc::kFileNotFound;

    auto fresh = os::create_unnamed_file(dir->get(), kFileSize, kFileMode);
    if (!fresh) return fresh.error();
    auto map = os::map_shared_file(fresh->get(), kFileSize);
    if (!map) return map.error();
    auto& s = *static_cast<NamedEvent::Shared*>(map->address());
    s.name_size = static_cast<std::uint32_t>(stored.size());
    std::memcpy(s.name, stored.data(), stored.size());
    s.manual.store(manual ? 1 : 0, std::memory_order_relaxed);
    s.state.store(initial ? 1 : 0, std::memory_order_relaxed);
    s.magic.store(kMagic, std::memory_order_release);
    auto locked = os::lock_byte(fresh->get(), kHolders, false, false);
    if (!locked) return locked.error();
    auto linked = os::link_file_at(fresh->get(), dir->get(), file);
    if (!linked) return linked.error();
    if (!*linked) continue;  // another process created the name first: open theirs
    auto event = std::make_shared<NamedEvent>(os::UniqueFd(dir->release()), file, std::move(*fresh),
                                              std::move(*map));
    return OpenedEvent{std::move(event), false};
  }
  return errc::kSemTimeout;  // the name kept changing under us
}

WatchGuard::WatchGuard(std::shared_ptr<NamedEvent> event, std::shared_ptr<Waiter> waiter)
    : event_(std::move(event)), waiter_(std::move(waiter)) {
  Watcher::instance().add(event_.get(), waiter_);
}

WatchGuard::~WatchGuard() { Watcher::instance().remove(event_.get(), waiter_.get()); }

}  // namespace sluice::objects
