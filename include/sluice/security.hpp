// sluice — who may use a pipe: access rights, security descriptors (an owner, a group and a list
// of allow and deny rules), the identity of a process, and what a client lets its server do
// with its identity (impersonation levels).
//
// The agent of the process that serves an instance checks each connecting process against the
// pipe's descriptor with the credentials the kernel recorded for the connection (SO_PEERCRED,
// SO_PEERGROUPS), never with values the process sends. docs/security.md has the model and the
// threat it answers; Microsoft's "Named Pipe Security and Access Rights" page has Windows' rules.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sluice/result.hpp"

namespace sluice {

/// Access rights (Windows values; combine with |).
namespace rights {
inline constexpr std::uint32_t kReadData = 0x0001;
inline constexpr std::uint32_t kWriteData = 0x0002;
inline constexpr std::uint32_t kAppendData = 0x0004;
/// Add an instance to a pipe created by someone else (the same bit as kAppendData).
inline constexpr std::uint32_t kCreatePipeInstance = 0x0004;
inline constexpr std::uint32_t kReadEa = 0x0008;
inline constexpr std::uint32_t kWriteEa = 0x0010;
inline constexpr std::uint32_t kExecute = 0x0020;
inline constexpr std::uint32_t kReadAttributes = 0x0080;
inline constexpr std::uint32_t kWriteAttributes = 0x0100;
inline constexpr std::uint32_t kDelete = 0x00010000;
inline constexpr std::uint32_t kReadControl = 0x00020000;
inline constexpr std::uint32_t kWriteDac = 0x00040000;
inline constexpr std::uint32_t kWriteOwner = 0x00080000;
inline constexpr std::uint32_t kSynchronize = 0x00100000;
/// GENERIC_READ as mapped for pipes (FILE_GENERIC_READ): read data and attributes.
inline constexpr std::uint32_t kRead = 0x00120089;
/// GENERIC_WRITE as mapped for pipes (FILE_GENERIC_WRITE): write data and attributes, and
/// kCreatePipeInstance (which is why Microsoft advises granting single rights to other users).
inline constexpr std::uint32_t kWrite = 0x00120116;
/// GENERIC_EXECUTE as mapped for pipes (FILE_GENERIC_EXECUTE).
inline constexpr std::uint32_t kExecuteGeneric = 0x001200A0;
/// GENERIC_ALL as mapped for pipes (FILE_ALL_ACCESS).
inline constexpr std::uint32_t kAll = 0x001F01FF;

/// The generic bits (GENERIC_READ, _WRITE, _EXECUTE, _ALL), as they may appear in a rule.
inline constexpr std::uint32_t kGenericRead = 0x80000000;
inline constexpr std::uint32_t kGenericWrite = 0x40000000;
inline constexpr std::uint32_t kGenericExecute = 0x20000000;
inline constexpr std::uint32_t kGenericAll = 0x10000000;
/// MAXIMUM_ALLOWED: as a desired access, "whatever the descriptor grants".
inline constexpr std::uint32_t kMaximumAllowed = 0x02000000;

/// Replaces the generic bits of `mask` with the pipe rights they stand for.
constexpr std::uint32_t map_generic(std::uint32_t mask) noexcept {
  std::uint32_t out = mask & ~(kGenericRead | kGenericWrite | kGenericExecute | kGenericAll);
  if (mask & kGenericRead) out |= kRead;
  if (mask & kGenericWrite) out |= kWrite;
  if (mask & kGenericExecute) out |= kExecuteGeneric;
  if (mask & kGenericAll) out |= kAll;
  return out;
}
}  // namespace rights

/// The identity of a process as the kernel reports it: effective user and group ids and the
/// supplementary groups.
struct Identity {
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
  std::vector<std::uint32_t> groups;

  /// Whether the identity has `gid` as its primary or a supplementary group.
  bool in_group(std::uint32_t group_id) const noexcept;
};

/// Whom an access rule is about.
struct Trustee {
  enum class Kind : std::uint8_t {
    kUser,            ///< one uid (Windows: a user SID; S-1-22-1-<uid>)
    kGroup,           ///< one gid, primary or supplementary (S-1-22-2-<gid>)
    kEveryone,        ///< every local process (Everyone, Authenticated Users, Users)
    kAdministrators,  ///< uid 0 (LocalSystem, BUILTIN\Administrators)
    kNobody,          ///< no local process (Anonymous, Network: there are no remote clients)
    kOwner,           ///< the pipe's owner, whoever it is (CREATOR OWNER, OWNER RIGHTS)
  };
  Kind kind = Kind::kNobody;
  std::uint32_t id = 0;  ///< the uid or gid for kUser and kGroup, else 0

  static constexpr Trustee user(std::uint32_t uid) noexcept { return {Kind::kUser, uid}; }
  static constexpr Trustee group(std::uint32_t gid) noexcept { return {Kind::kGroup, gid}; }
  static constexpr Trustee everyone() noexcept { return {Kind::kEveryone, 0}; }
  static constexpr Trustee administrators() noexcept { return {Kind::kAdministrators, 0}; }
  static constexpr Trustee nobody() noexcept { return {Kind::kNobody, 0}; }
  static constexpr Trustee owner() noexcept { return {Kind::kOwner, 0}; }

  /// Whether a process with identity `who` is this trustee, on a pipe owned by `owner_uid`.
  bool matches(const Identity& who, std::uint32_t owner_uid) const noexcept;
  friend bool operator==(const Trustee&, const Trustee&) = default;
};

/// One entry of a descriptor's rule list (an ACE): allow or deny `rights` to `who`.
struct AccessRule {
  enum class Type : std::uint8_t { kAllow, kDeny };
  Type type = Type::kAllow;
  Trustee who;
  std::uint32_t rights = 0;  ///< may hold generic bits; they are mapped when checked
  friend bool operator==(const AccessRule&, const AccessRule&) = default;
};

/// A pipe's security descriptor, set by the instance that creates the name and in force for
/// every instance of it. Rules are checked in order as Windows checks an ACL: a deny rule that
/// names a right still wanted refuses the open; allow rules grant until every wanted right is
/// granted; what no rule grants is refused. The owner always has kReadControl and kWriteDac.
///
///   auto sd = sluice::SecurityDescriptor::owner_only()
///                 .allow(sluice::Trustee::group(staff), sluice::rights::kRead |
///                                                       sluice::rights::kWriteData);
class SecurityDescriptor {
 public:
  /// Full control to the owner and to root; nobody else. The C++ API's default.
  static SecurityDescriptor owner_only();
  /// Windows' default for a named pipe created without security attributes: full control to
  /// the owner and to root (LocalSystem, Administrators), read (kRead) to everyone.
  static SecurityDescriptor windows_default();
  /// No rule list at all (Windows' NULL DACL): every process gets every right.
  static SecurityDescriptor unrestricted();
  /// An empty rule list: nobody gets any right but the owner's implicit ones.
  static SecurityDescriptor empty();

  /// Appends an allow rule or a deny rule. Windows puts deny rules first; so do you, if a deny
  /// rule must win over an earlier allow rule.
  SecurityDescriptor& allow(Trustee who, std::uint32_t rights);
  SecurityDescriptor& deny(Trustee who, std::uint32_t rights);

  /// The owner's uid; unset means the effective uid of the process that creates the pipe.
  std::optional<std::uint32_t> owner;
  /// The group's gid; unset means the effective gid of the process that creates the pipe.
  std::optional<std::uint32_t> group;
  /// False for a NULL DACL (every right to everyone); then `rules` is ignored.
  bool has_rules = true;
  std::vector<AccessRule> rules;

  /// The rights among `desired` (generic bits mapped; kMaximumAllowed for all there are) that
  /// `who` gets. An unset owner matches nobody: the pipe sets it when it is created.
  std::uint32_t granted(const Identity& who, std::uint32_t desired) const noexcept;
  /// Whether `who` gets every right in `desired` (at least one right must be asked for; an
  /// open that asks for none is checked for kReadAttributes, as Windows grants it).
  bool permits(const Identity& who, std::uint32_t desired) const noexcept;

  /// A one-line text form (stored in the namespace; also shown by diagnostics), and back.
  /// from_text: kInvalidParameter for anything that is not what to_text writes.
  std::string to_text() const;
  static Result<SecurityDescriptor> from_text(const std::string& text);

  friend bool operator==(const SecurityDescriptor&, const SecurityDescriptor&) = default;
};

/// What a client lets the server do with its identity (Windows' SECURITY_SQOS_PRESENT levels).
enum class ImpersonationLevel : std::uint32_t {
  kAnonymous = 0,       ///< the server learns nothing and cannot act as the client
  kIdentification = 1,  ///< the server may learn who the client is, not act as it
  kImpersonation = 2,   ///< the server may act as the client on this machine (the default)
  kDelegation = 3,      ///< as kImpersonation (there are no remote machines)
};

/// A client's security quality of service: the level, and whether the server sees the client's
/// identity as of each write (dynamic tracking, the default) or as of the open (static).
struct SecurityQos {
  ImpersonationLevel level = ImpersonationLevel::kImpersonation;
  bool dynamic_tracking = true;
  bool effective_only = false;
  friend bool operator==(const SecurityQos&, const SecurityQos&) = default;
};

}  // namespace sluice
