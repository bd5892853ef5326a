// sluice — a pipe server acting as its client (Windows' ImpersonateNamedPipeClient and
// RevertToSelf) as a scoped object.
//
//   auto as_client = sluice::Impersonation::of(server);
//   if (!as_client) return;  // never serve the request with the server's own rights
//   if (as_client->acts_as_client()) open_the_file_the_client_asked_for();
//   // the destructor switches the thread back
//
// Impersonating switches the calling thread alone, never the process: its effective uid, gid
// and supplementary groups become the client's as the kernel recorded them when the client
// connected (SO_PEERCRED, SO_PEERGROUPS), so every access check the kernel makes for this thread
// (open, connect, ...) is the client's. Microsoft's "Impersonating a Named Pipe Client" and
// "Impersonation Levels" pages describe the Windows behaviour followed here.
#pragma once

#include <cstdint>
#include <optional>

#include "sluice/result.hpp"
#include "sluice/security.hpp"

namespace sluice {

class ServerEnd;

/// What the calling thread does with a client's identity (Impersonation::current()).
struct ThreadImpersonation {
  /// The level the thread got: the client's SQOS level, or kIdentification when the process
  /// may not switch to the client (see Impersonation::of).
  ImpersonationLevel level = ImpersonationLevel::kIdentification;
  /// Whom the thread stands for; at kAnonymous, nobody (uid and gid 65534, no groups).
  Identity client;
  /// Whether the thread's ids are the client's now (kImpersonation and kDelegation only).
  bool acts_as_client = false;
};

/// The calling thread impersonating the client of a server end, until revert() or destruction.
///
/// Levels (the client's SecurityQos, ClientOptions::qos):
/// * kImpersonation, kDelegation: the thread's effective uid, gid and groups become the
///   client's (acts_as_client()). A process that may not switch ids (no CAP_SETUID and
///   CAP_SETGID: Windows' SeImpersonatePrivilege) gets kIdentification instead, as Windows
///   downgrades such a server; a client of the same user needs no switch.
/// * kIdentification: the thread is marked (current() reports the client) and keeps its ids.
/// * kAnonymous: the thread is marked as nobody and keeps its ids.
///
/// Thread safety: an Impersonation belongs to the thread that made it; move it only within that
/// thread and destroy or revert it there (elsewhere aborts: another thread's credentials cannot
/// be changed). A thread impersonates one client at a time: of() while the thread already
/// impersonates fails. Other threads of the process, threads started while impersonating and
/// children spawned meanwhile (Process::spawn) run with the process's credentials. A thread
/// that exits while impersonating is switched back first, so a pooled thread never keeps a
/// client's identity.
///
/// Differences from Windows: the identity is the one the client had when it connected (static
/// tracking) whatever it asked for: the data travels in shared memory, so no per-message
/// credentials exist (TODO(compat): dynamic tracking). of() does not require a read first
/// (ImpersonateNamedPipeClient does). An end adopted from another process impersonates at
/// kIdentification at most (its client's groups are unknown there).
class Impersonation {
 public:
  /// Starts impersonating `server`'s client on the calling thread. Errors: kInvalidHandle (not
  /// open), kNotFound / kPipeNotConnected (no client), kCannotImpersonate (the thread already
  /// impersonates, is inside a ProcessIdentityScope, or the switch failed for another reason
  /// than missing privilege), kAccessDenied (the thread's ids could not be read).
  static Result<Impersonation> of(const ServerEnd& server);

  /// What the calling thread impersonates now, if anything (also Win32's).
  static std::optional<ThreadImpersonation> current();

  /// No impersonation.
  Impersonation() noexcept = default;
  Impersonation(Impersonation&& other) noexcept;
  Impersonation& operator=(Impersonation&& other) noexcept;
  Impersonation(const Impersonation&) = delete;
  Impersonation& operator=(const Impersonation&) = delete;
  /// Reverts, as revert() does; aborts if the thread cannot get its own credentials back (it
  /// would go on running as the client).
  ~Impersonation();

  /// Whether this object still impersonates.
  bool active() const noexcept { return generation_ != 0; }
  /// The level obtained (see the class comment).
  ImpersonationLevel level() const noexcept { return level_; }
  /// Whether the thread's ids are the client's (kImpersonation or kDelegation obtained).
  bool acts_as_client() const noexcept { return acts_as_client_; }

  /// Switches the thread back to the process's credentials (RevertToSelf). Nothing to do when
  /// not active. Errors: kAccessDenied (the thread's saved ids no longer allow the way back).
  Result<void> revert();

 private:
  const void* owner_ = nullptr;  // the owning thread's state
  std::uint64_t generation_ = 0;
  ImpersonationLevel level_ = ImpersonationLevel::kIdentification;
  bool acts_as_client_ = false;
};

/// The process's own identity: the effective uid, gid and supplementary groups of its threads
/// outside any impersonation (what a ProcessIdentityScope gives the calling thread), as the
/// kernel holds them now. Any thread, impersonating or not. Errors: what the kernel reports
/// when asked (none expected). Win32: OpenProcessToken(GetCurrentProcess())
/// and GetTokenInformation (TokenUser, TokenPrimaryGroup, TokenGroups).
Result<Identity> process_identity();

/// While it lives, the calling thread runs with the process's own credentials even if it
/// impersonates; the impersonation resumes when it ends. For making threads and children, which
/// inherit their creator's kernel credentials, start as the process. Nests; same thread only.
class ProcessIdentityScope {
 public:
  ProcessIdentityScope();
  ~ProcessIdentityScope();
  ProcessIdentityScope(const ProcessIdentityScope&) = delete;
  ProcessIdentityScope& operator=(const ProcessIdentityScope&) = delete;
};

}  // namespace sluice
