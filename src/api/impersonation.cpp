#include "sluice/impersonation.hpp"

#include <cstdio>
#include <cstdlib>
#include <utility>

#include "os/linux/thread_credentials.hpp"
#include "sluice/named_pipe.hpp"

namespace sluice {
namespace {

// The uid and gid identity queries report for an anonymous client: "nobody".
constexpr std::uint32_t kNobody = 65534;

// What the calling thread impersonates. One per thread; `generation` tells the Impersonation
// that made the current state from an older one. The switch itself and the way back (also at
// thread exit) are os::act_as's.
struct ThreadState {
  bool active = false;
  ThreadImpersonation what;
  bool switched = false;  // whether os::act_as changed the thread's ids
  std::uint64_t generation = 0;

  ~ThreadState();
};

// Trivially destructible, so it still reads true while the other thread-local objects of an
// exiting thread are destroyed after the state (an Impersonation kept in one, as the Win32
// layer does, must not touch the state then).
thread_local bool t_state_gone = false;
thread_local ThreadState t_state;

ThreadState::~ThreadState() { t_state_gone = true; }

[[noreturn]] void die(const char* what) {
  // Going on would leave the thread running as the client where it means to be itself: a
  // security bug no caller could recover from.
  std::fprintf(stderr, "sluice: impersonation: %s\n", what);
  std::abort();
}

std::uint64_t next_generation() {
  static thread_local std::uint64_t counter = 0;
  return ++counter;
}

}  // namespace

Result<Impersonation> Impersonation::of(const ServerEnd& server) {
  if (!server.is_open()) return errc::kInvalidHandle;
  auto creds = server.client_credentials();
  if (!creds) return creds.error();
  if (t_state_gone) return errc::kCannotImpersonate;  // called from a thread-exit destructor
  ThreadState& state = t_state;
  if (state.active) return errc::kCannotImpersonate;

  ThreadImpersonation what;
  what.level = creds->qos.level;
  what.client = Identity{creds->uid, creds->gid, creds->groups};
  bool switched = false;
  if (what.level == ImpersonationLevel::kAnonymous) {
    what.client = Identity{kNobody, kNobody, {}};
  } else if (what.level != ImpersonationLevel::kIdentification) {
    auto own = os::thread_credentials();
    if (!own) return errc::kAccessDenied;
    bool same = what.client.uid == own->euid && what.client.gid == own->egid &&
                what.client.groups == own->groups;
    auto acted =
        same ? Result<void>{} : os::act_as(what.client.uid, what.client.gid, what.client.groups);
    // Only a refusal for want of privilege downgrades; anything else is a failure (the caller
    // must then not serve the request at all).
    if (!acted && acted.error() != errc::kAccessDenied) return errc::kCannotImpersonate;
    if (same) {
      what.acts_as_client = true;  // nothing to switch (Windows: the same user may impersonate)
    } else if (acted) {
      what.acts_as_client = true;
      switched = true;
    } else if (what.client.uid == own->euid) {
      // Same user, other groups, no CAP_SETGID: Windows lets the same user impersonate; the
      // thread acts with its own ids, which are the client's user.
      what.acts_as_client = true;
    } else {
      // Windows gives a server without SeImpersonatePrivilege an identification-level token
      // (ImpersonateNamedPipeClient, Remarks); CAP_SETUID and CAP_SETGID are that here.
      what.level = ImpersonationLevel::kIdentification;
    }
  }

  Impersonation result;
  result.owner_ = &state;
  result.generation_ = next_generation();
  result.level_ = what.level;
  result.acts_as_client_ = what.acts_as_client;
  state.active = true;
  state.what = std::move(what);
  state.switched = switched;
  state.generation = result.generation_;
  return result;
}

std::optional<ThreadImpersonation> Impersonation::current() {
  if (t_state_gone || !t_state.active) return std::nullopt;
  return t_state.what;
}

Impersonation::Impersonation(Impersonation&& other) noexcept
    : owner_(std::exchange(other.owner_, nullptr)),
      generation_(std::exchange(other.generation_, 0)),
      level_(other.level_),
      acts_as_client_(other.acts_as_client_) {}

Impersonation& Impersonation::operator=(Impersonation&& other) noexcept {
  if (this != &other) {
    if (!revert()) die("cannot switch back");
    owner_ = std::exchange(other.owner_, nullptr);
    generation_ = std::exchange(other.generation_, 0);
    level_ = other.level_;
    acts_as_client_ = other.acts_as_client_;
  }
  return *this;
}

Impersonation::~Impersonation() {
  if (!revert()) die("cannot switch back");
}

Result<void> Impersonation::revert() {
  if (generation_ == 0) return {};
  if (t_state_gone) {  // the thread is exiting; os::act_as switches it back by itself
    generation_ = 0;
    return {};
  }
  ThreadState& state = t_state;
  if (owner_ != &state) die("reverted on a thread other than the one impersonating");
  if (!state.active || state.generation != generation_) {
    generation_ = 0;  // superseded (cannot happen while one impersonation per thread holds)
    return {};
  }
  if (state.switched) {
    if (auto back = os::end_acting_as(); !back) return back.error();
  }
  state.active = false;
  state.what = {};
  state.switched = false;
  generation_ = 0;
  return {};
}

Result<Identity> process_identity() {
  // The kernel keeps credentials per thread, and the calling thread may be acting as a client.
  ProcessIdentityScope as_process;
  auto own = os::thread_credentials();
  if (!own) return own.error();
  return Identity{own->euid, own->egid, std::move(own->groups)};
}

ProcessIdentityScope::ProcessIdentityScope() { os::enter_own_credentials(); }

ProcessIdentityScope::~ProcessIdentityScope() { os::leave_own_credentials(); }

}  // namespace sluice
