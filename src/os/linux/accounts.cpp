#include "os/linux/accounts.hpp"

#include <grp.h>
#include <pwd.h>

#include <cerrno>
#include <vector>

#include "os/linux/errno_map.hpp"

namespace sluice::os {
namespace {

// The *_r lookups need a caller buffer whose size sysconf only suggests: grow it on ERANGE
// (a group with many members needs more than the suggestion).
template <class Entry, class Lookup>
Result<bool> look_up(Entry* entry, std::vector<char>* buffer, Lookup lookup) {
  buffer->resize(1024);
  for (;;) {
    Entry* found = nullptr;
    int rc = lookup(entry, buffer->data(), buffer->size(), &found);
    if (rc == ERANGE && buffer->size() < (1u << 20)) {
      buffer->resize(buffer->size() * 2);
      continue;
    }
    // "Not found" is 0 with no entry, or one of these errors, depending on the NSS source.
    if (rc == 0 || rc == ENOENT || rc == ESRCH || rc == EBADF || rc == EPERM)
      return found != nullptr;
    return from_errno(rc);
  }
}

}  // namespace

Result<std::string> user_name_of(std::uint32_t uid) {
  struct passwd pw {};
  std::vector<char> buffer;
  auto found = look_up(&pw, &buffer, [uid](passwd* e, char* b, std::size_t n, passwd** r) {
    return ::getpwuid_r(uid, e, b, n, r);
  });
  if (!found) return found.error();
  if (!*found) return errc::kNotFound;
  return std::string(pw.pw_name);
}

Result<std::string> group_name_of(std::uint32_t gid) {
  struct group gr {};
  std::vector<char> buffer;
  auto found = look_up(&gr, &buffer, [gid](group* e, char* b, std::size_t n, group** r) {
    return ::getgrgid_r(gid, e, b, n, r);
  });
  if (!found) return found.error();
  if (!*found) return errc::kNotFound;
  return std::string(gr.gr_name);
}

Result<std::uint32_t> user_id_of(const std::string& name) {
  struct passwd pw {};
  std::vector<char> buffer;
  auto found = look_up(&pw, &buffer, [&name](passwd* e, char* b, std::size_t n, passwd** r) {
    return ::getpwnam_r(name.c_str(), e, b, n, r);
  });
  if (!found) return found.error();
  if (!*found) return errc::kNotFound;
  return static_cast<std::uint32_t>(pw.pw_uid);
}

Result<std::uint32_t> group_id_of(const std::string& name) {
  struct group gr {};
  std::vector<char> buffer;
  auto found = look_up(&gr, &buffer, [&name](group* e, char* b, std::size_t n, group** r) {
    return ::getgrnam_r(name.c_str(), e, b, n, r);
  });
  if (!found) return found.error();
  if (!*found) return errc::kNotFound;
  return static_cast<std::uint32_t>(gr.gr_gid);
}

}  // namespace sluice::os
