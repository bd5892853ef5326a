#include "os/linux/thread_credentials.hpp"

#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <utility>

#include "os/linux/errno_map.hpp"

namespace sluice::os {
namespace {

// -1 as the system calls take it: "leave this id as it is".
constexpr long kKeep = -1;

long raw_setresuid(long r, long e, long s) { return ::syscall(SYS_setresuid, r, e, s); }
long raw_setresgid(long r, long e, long s) { return ::syscall(SYS_setresgid, r, e, s); }

long raw_setgroups(const std::vector<std::uint32_t>& groups) {
  static_assert(sizeof(gid_t) == sizeof(std::uint32_t));
  return ::syscall(SYS_setgroups, groups.size(), groups.data());
}

std::error_code switch_error() {
  // EPERM: the thread lacks CAP_SETUID / CAP_SETGID for these ids.
  if (errno == EPERM) return errc::kAccessDenied;
  return last_errno();
}

}  // namespace

Result<ThreadCredentials> thread_credentials() {
  ThreadCredentials c;
  uid_t ru = 0, eu = 0, su = 0;
  gid_t rg = 0, eg = 0, sg = 0;
  // getresuid and getgroups read the calling thread's credentials (glibc passes them straight
  // to the kernel; only the setters are broadcast to every thread).
  if (::getresuid(&ru, &eu, &su) != 0 || ::getresgid(&rg, &eg, &sg) != 0) return last_errno();
  c.ruid = ru;
  c.euid = eu;
  c.suid = su;
  c.rgid = rg;
  c.egid = eg;
  c.sgid = sg;
  for (;;) {
    int n = ::getgroups(0, nullptr);
    if (n < 0) return last_errno();
    std::vector<gid_t> groups(static_cast<std::size_t>(n));
    int got = ::getgroups(n, groups.data());
    if (got < 0 && errno == EINVAL) continue;  // the list grew meanwhile
    if (got < 0) return last_errno();
    c.groups.assign(groups.begin(), groups.begin() + got);
    return c;
  }
}

Result<void> switch_thread_credentials(std::uint32_t uid, std::uint32_t gid,
                                       const std::vector<std::uint32_t>& groups) {
  auto before = thread_credentials();
  if (!before) return before.error();
  // Groups and gid first: once the effective uid is no longer 0 the kernel clears the effective
  // capabilities and CAP_SETGID with them. The real and saved ids stay, so the way back exists.
  if (raw_setgroups(groups) != 0) return switch_error();
  if (raw_setresgid(kKeep, gid, kKeep) != 0) {
    auto error = switch_error();
    (void)raw_setgroups(before->groups);
    return error;
  }
  if (raw_setresuid(kKeep, uid, kKeep) != 0) {
    auto error = switch_error();
    (void)raw_setresgid(kKeep, before->egid, kKeep);
    (void)raw_setgroups(before->groups);
    return error;
  }
  return {};
}

Result<void> restore_thread_credentials(const ThreadCredentials& saved) {
  // The uid first: it is the switch back to an effective uid that brings back the capabilities
  // (from the permitted set) which changing gid and groups needs.
  if (raw_setresuid(kKeep, saved.euid, kKeep) != 0) return switch_error();
  if (raw_setresgid(kKeep, saved.egid, kKeep) != 0) return switch_error();
  if (raw_setgroups(saved.groups) != 0) return switch_error();
  return {};
}

namespace {

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "sluice: thread credentials: %s\n", what);
  std::abort();
}

// The calling thread's switch: whom it acts as, and its own credentials, the way back.
struct Acting {
  std::optional<ThreadCredentials> own;  // set while acting as someone
  std::uint32_t uid = 0, gid = 0;
  std::vector<std::uint32_t> groups;
  int own_scopes = 0;  // OwnCredentialsScope depth

  ~Acting();
};

// Trivially destructible, so it stays readable while the thread's other thread-local objects
// are destroyed after t_acting (one may hold an impersonation that ends then).
thread_local bool t_acting_gone = false;
thread_local Acting t_acting;

Acting::~Acting() {
  // A thread that ends while acting as someone: its remaining thread-local destructors would
  // run with the other identity, and so would a thread a pool reuses.
  if (own && own_scopes == 0 && !restore_thread_credentials(*own)) die("no way back at exit");
  own.reset();
  t_acting_gone = true;
}

}  // namespace

Result<void> act_as(std::uint32_t uid, std::uint32_t gid,
                    const std::vector<std::uint32_t>& groups) {
  if (t_acting_gone) return errc::kInvalidParameter;  // the thread is ending
  Acting& a = t_acting;
  if (a.own_scopes != 0) return errc::kInvalidParameter;  // would switch inside a scope
  if (auto back = end_acting_as(); !back) return back.error();
  auto own = thread_credentials();
  if (!own) return own.error();
  if (auto switched = switch_thread_credentials(uid, gid, groups); !switched)
    return switched.error();
  a.own = std::move(*own);
  a.uid = uid;
  a.gid = gid;
  a.groups = groups;
  return {};
}

Result<void> end_acting_as() {
  if (t_acting_gone) return {};  // the thread is ending and is itself again already
  Acting& a = t_acting;
  if (!a.own) return {};
  if (a.own_scopes == 0) {
    if (auto back = restore_thread_credentials(*a.own); !back) return back.error();
  }
  a.own.reset();
  return {};
}

void enter_own_credentials() {
  if (t_acting_gone) return;
  Acting& a = t_acting;
  if (a.own_scopes++ == 0 && a.own && !restore_thread_credentials(*a.own))
    die("cannot switch back for a moment");
}

void leave_own_credentials() {
  if (t_acting_gone) return;
  Acting& a = t_acting;
  if (--a.own_scopes == 0 && a.own && !switch_thread_credentials(a.uid, a.gid, a.groups))
    die("cannot switch again after a moment as itself");
}

}  // namespace sluice::os
