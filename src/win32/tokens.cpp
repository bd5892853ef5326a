// Access tokens (processthreadsapi.h, securitybaseapi.h): OpenProcessToken, OpenThreadToken and
// GetTokenInformation over a snapshot of an identity — the process's, or the client a thread
// impersonates (sluice::Impersonation). SIDs are Samba's for Unix ids (S-1-22-1-<uid>,
// S-1-22-2-<gid>), so they survive ConvertSidToStringSid and back.
#include <windows.h>

#include <cstddef>
#include <cstring>
#include <vector>

#include "sluice/impersonation.hpp"
#include "sluice/process.hpp"
#include "win32/objects.hpp"
#include "win32/security.hpp"

namespace sluice::win32 {
namespace {

// TOKEN_* rights that GENERIC_* stand for (Microsoft's "Access Rights for Access-Token Objects").
DWORD token_rights(DWORD desired) {
  DWORD r = desired & (STANDARD_RIGHTS_REQUIRED | 0x01FF);
  if (desired & (GENERIC_READ | GENERIC_ALL)) r |= TOKEN_READ;
  if (desired & GENERIC_ALL) r |= TOKEN_ALL_ACCESS;
  if (desired & GENERIC_WRITE)
    r |= STANDARD_RIGHTS_WRITE | TOKEN_ADJUST_PRIVILEGES | TOKEN_ADJUST_GROUPS |
         TOKEN_ADJUST_DEFAULT;
  if (desired & GENERIC_EXECUTE) r |= STANDARD_RIGHTS_EXECUTE;
  return r;
}

BOOL insert_token(std::shared_ptr<TokenObject> token, DWORD desired, PHANDLE out) {
  token->access = token_rights(desired);
  *out = globals().handles.insert(std::move(token), 0);
  return TRUE;
}

SECURITY_IMPERSONATION_LEVEL level_of(ImpersonationLevel level) {
  switch (level) {
    case ImpersonationLevel::kAnonymous:
      return SecurityAnonymous;
    case ImpersonationLevel::kIdentification:
      return SecurityIdentification;
    case ImpersonationLevel::kImpersonation:
      return SecurityImpersonation;
    case ImpersonationLevel::kDelegation:
      return SecurityDelegation;
  }
  return SecurityAnonymous;
}

// A structure of `header` bytes whose pointers lead to SIDs copied right after it (Windows
// returns variable-sized token information in one block the caller frees at once).
class Block {
 public:
  explicit Block(std::size_t header) : bytes_(header) {}
  // Appends `sid` and returns its offset; SIDs are 4-byte aligned by construction.
  std::size_t add_sid(const Bytes& sid) {
    std::size_t at = bytes_.size();
    bytes_.insert(bytes_.end(), sid.begin(), sid.end());
    return at;
  }
  std::size_t size() const { return bytes_.size(); }
  // Copies the block to `out`, turning the offsets recorded by `fix` into pointers there.
  template <typename Fix>
  void write(void* out, Fix fix) const {
    std::memcpy(out, bytes_.data(), bytes_.size());
    fix(static_cast<BYTE*>(out));
  }

 private:
  Bytes bytes_;
};

// The group SIDs of an identity: its primary group, its supplementary groups, then Everyone
// (which every Windows token holds and every local process is).
std::vector<Bytes> group_sids(const Identity& who) {
  std::vector<Bytes> sids{group_sid(who.gid)};
  for (std::uint32_t g : who.groups)
    if (g != who.gid) sids.push_back(group_sid(g));
  sids.push_back(make_sid(1, {0}));  // S-1-1-0
  return sids;
}

constexpr DWORD kGroupAttributes =
    SE_GROUP_MANDATORY | SE_GROUP_ENABLED_BY_DEFAULT | SE_GROUP_ENABLED;

// Writes one fixed-size value: ERROR_BAD_LENGTH when it does not fit (STATUS_INFO_LENGTH_MISMATCH
// in NtQueryInformationToken), as Windows answers for those classes.
template <typename T>
BOOL put_value(T value, LPVOID out, DWORD length, PDWORD returned) {
  *returned = sizeof(T);
  if (!out || length < sizeof(T)) return fail(ERROR_BAD_LENGTH);
  std::memcpy(out, &value, sizeof(T));
  return TRUE;
}

// Writes a block: ERROR_INSUFFICIENT_BUFFER, with the size needed, when it does not fit.
template <typename Fix>
BOOL put_block(const Block& block, Fix fix, LPVOID out, DWORD length, PDWORD returned) {
  *returned = static_cast<DWORD>(block.size());
  if (!out || length < block.size()) return fail(ERROR_INSUFFICIENT_BUFFER);
  block.write(out, fix);
  return TRUE;
}

// TOKEN_USER, TOKEN_OWNER and TOKEN_PRIMARY_GROUP: one SID pointer (then attributes for
// TOKEN_USER), the SID after the structure.
template <typename T>
BOOL put_one_sid(const Bytes& sid, LPVOID out, DWORD length, PDWORD returned) {
  Block block(sizeof(T));
  std::size_t at = block.add_sid(sid);
  return put_block(
      block,
      [at](BYTE* base) {
        PSID p = base + at;
        std::memcpy(base, &p, sizeof p);  // the first member of each is the SID pointer
      },
      out, length, returned);
}

}  // namespace
}  // namespace sluice::win32

using namespace sluice;
using namespace sluice::win32;

static_assert(offsetof(TOKEN_USER, User.Sid) == 0 && offsetof(TOKEN_OWNER, Owner) == 0 &&
              offsetof(TOKEN_PRIMARY_GROUP, PrimaryGroup) == 0);

extern "C" {

BOOL WINAPI OpenProcessToken(HANDLE ProcessHandle, DWORD DesiredAccess, PHANDLE TokenHandle) {
  return guarded<BOOL>(FALSE, [&]() -> BOOL {
    if (!TokenHandle) return fail(ERROR_NOACCESS);
    if (ProcessHandle != GetCurrentProcess()) {
      auto object = globals().handles.get(ProcessHandle);
      if (!object || object->kind() != Kind::kProcess) return fail(ERROR_INVALID_HANDLE);
      return fail(ERROR_NOT_SUPPORTED);  // TODO(compat): another process's token
    }
    auto own = process_identity();
    if (!own) return fail(own.error());
    auto token = std::make_shared<TokenObject>();
    token->identity = std::move(*own);
    return insert_token(std::move(token), DesiredAccess, TokenHandle);
  });
}

BOOL WINAPI OpenThreadToken(HANDLE ThreadHandle, DWORD DesiredAccess, BOOL OpenAsSelf,
                            PHANDLE TokenHandle) {
  (void)OpenAsSelf;  // decides whose rights open the token; here every token opens
  return guarded<BOOL>(FALSE, [&]() -> BOOL {
    if (!TokenHandle) return fail(ERROR_NOACCESS);
    if (ThreadHandle != GetCurrentThread()) {
      auto object = globals().handles.get(ThreadHandle);
      if (!object || object->kind() != Kind::kThread) return fail(ERROR_INVALID_HANDLE);
      std::uint32_t tid = static_cast<ThreadObject&>(*object).tid.load();
      // Impersonation is per-thread state only that thread can read.
      if (tid != current_thread_id()) return fail(ERROR_NOT_SUPPORTED);  // TODO(compat)
    }
    auto as_client = Impersonation::current();
    if (!as_client) return fail(ERROR_NO_TOKEN);
    // Windows refuses to open a token of anonymous level.
    if (as_client->level == ImpersonationLevel::kAnonymous) return fail(ERROR_CANT_OPEN_ANONYMOUS);
    auto token = std::make_shared<TokenObject>();
    token->identity = as_client->client;
    token->impersonation = true;
    token->level = level_of(as_client->level);
    return insert_token(std::move(token), DesiredAccess, TokenHandle);
  });
}

BOOL WINAPI GetTokenInformation(HANDLE TokenHandle, TOKEN_INFORMATION_CLASS TokenInformationClass,
                                LPVOID TokenInformation, DWORD TokenInformationLength,
                                PDWORD ReturnLength) {
  return guarded<BOOL>(FALSE, [&]() -> BOOL {
    auto object = globals().handles.get(TokenHandle);
    if (!object || object->kind() != Kind::kToken) return fail(ERROR_INVALID_HANDLE);
    const auto& token = static_cast<const TokenObject&>(*object);
    if (!(token.access & TOKEN_QUERY)) return fail(ERROR_ACCESS_DENIED);
    if (!ReturnLength) return fail(ERROR_NOACCESS);
    LPVOID out = TokenInformation;
    DWORD length = TokenInformationLength;
    switch (TokenInformationClass) {
      case TokenUser:
        return put_one_sid<TOKEN_USER>(user_sid(token.identity.uid), out, length, ReturnLength);
      case TokenOwner:
        return put_one_sid<TOKEN_OWNER>(user_sid(token.identity.uid), out, length, ReturnLength);
      case TokenPrimaryGroup:
        return put_one_sid<TOKEN_PRIMARY_GROUP>(group_sid(token.identity.gid), out, length,
                                                ReturnLength);
      case TokenGroups: {
        auto sids = group_sids(token.identity);
        Block block(offsetof(TOKEN_GROUPS, Groups) + sids.size() * sizeof(SID_AND_ATTRIBUTES));
        std::vector<std::size_t> at;
        for (const auto& sid : sids) at.push_back(block.add_sid(sid));
        return put_block(
            block,
            [&](BYTE* base) {
              auto* groups = reinterpret_cast<TOKEN_GROUPS*>(base);
              groups->GroupCount = static_cast<DWORD>(at.size());
              // Groups is declared with one element; the others follow it in the block.
              auto* entries =
                  reinterpret_cast<SID_AND_ATTRIBUTES*>(base + offsetof(TOKEN_GROUPS, Groups));
              for (std::size_t i = 0; i < at.size(); ++i)
                entries[i] = SID_AND_ATTRIBUTES{base + at[i], kGroupAttributes};
            },
            out, length, ReturnLength);
      }
      case TokenType:
        return put_value(token.impersonation ? TokenImpersonation : TokenPrimary, out, length,
                         ReturnLength);
      case TokenImpersonationLevel:
        // Only an impersonation token has a level (NtQueryInformationToken fails otherwise).
        if (!token.impersonation) return fail(ERROR_INVALID_PARAMETER);
        return put_value(token.level, out, length, ReturnLength);
      default:
        if (TokenInformationClass <= 0 || TokenInformationClass >= MaxTokenInfoClass)
          return fail(ERROR_INVALID_PARAMETER);
        return fail(ERROR_NOT_SUPPORTED);  // TODO(compat): privileges, statistics, ...
    }
  });
}

}  // extern "C"
