// The access check of include/sluice/security.hpp. The order of the checks is Windows' (the
// "How DACLs Control Access to an Object" page of Microsoft's documentation): rules in order,
// a deny that names a right still wanted ends the check, allows add up until all is granted.
#include "sluice/security.hpp"

#include <algorithm>
#include <charconv>
#include <sstream>

namespace sluice {
namespace {

constexpr std::uint32_t kOwnerImplicit = rights::kReadControl | rights::kWriteDac;
constexpr const char* kTextTag = "sd1";

char kind_letter(Trustee::Kind kind) {
  switch (kind) {
    case Trustee::Kind::kUser:
      return 'u';
    case Trustee::Kind::kGroup:
      return 'g';
    case Trustee::Kind::kEveryone:
      return 'e';
    case Trustee::Kind::kAdministrators:
      return 'r';
    case Trustee::Kind::kNobody:
      return 'n';
    case Trustee::Kind::kOwner:
      return 'o';
  }
  return 'n';
}

bool kind_from_letter(char c, Trustee::Kind* kind) {
  switch (c) {
    case 'u':
      *kind = Trustee::Kind::kUser;
      return true;
    case 'g':
      *kind = Trustee::Kind::kGroup;
      return true;
    case 'e':
      *kind = Trustee::Kind::kEveryone;
      return true;
    case 'r':
      *kind = Trustee::Kind::kAdministrators;
      return true;
    case 'n':
      *kind = Trustee::Kind::kNobody;
      return true;
    case 'o':
      *kind = Trustee::Kind::kOwner;
      return true;
    default:
      return false;
  }
}

bool parse_u32(const std::string& s, std::uint32_t* out, int base = 10) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out, base);
  return ec == std::errc() && end == s.data() + s.size() && !s.empty();
}

std::string optional_id(const std::optional<std::uint32_t>& id) {
  return id ? std::to_string(*id) : std::string("-");
}

bool parse_optional_id(const std::string& s, std::optional<std::uint32_t>* out) {
  if (s == "-") {
    out->reset();
    return true;
  }
  std::uint32_t v = 0;
  if (!parse_u32(s, &v)) return false;
  *out = v;
  return true;
}

}  // namespace

bool Identity::in_group(std::uint32_t group_id) const noexcept {
  return gid == group_id || std::find(groups.begin(), groups.end(), group_id) != groups.end();
}

bool Trustee::matches(const Identity& who, std::uint32_t owner_uid) const noexcept {
  switch (kind) {
    case Kind::kOwner:
      return who.uid == owner_uid;
    case Kind::kUser:
      return who.uid == id;
    case Kind::kGroup:
      return who.in_group(id);
    case Kind::kEveryone:
      return true;
    case Kind::kAdministrators:
      return who.uid == 0;
    case Kind::kNobody:
      return false;
  }
  return false;
}

SecurityDescriptor SecurityDescriptor::owner_only() {
  SecurityDescriptor sd;
  sd.rules = {{AccessRule::Type::kAllow, Trustee::owner(), rights::kAll},
              {AccessRule::Type::kAllow, Trustee::administrators(), rights::kAll}};
  return sd;
}

SecurityDescriptor SecurityDescriptor::windows_default() {
  SecurityDescriptor sd = owner_only();
  sd.rules.push_back({AccessRule::Type::kAllow, Trustee::everyone(), rights::kRead});
  return sd;
}

SecurityDescriptor SecurityDescriptor::unrestricted() {
  SecurityDescriptor sd;
  sd.has_rules = false;
  return sd;
}

SecurityDescriptor SecurityDescriptor::empty() { return SecurityDescriptor{}; }

SecurityDescriptor& SecurityDescriptor::allow(Trustee who, std::uint32_t mask) {
  rules.push_back({AccessRule::Type::kAllow, who, mask});
  return *this;
}

SecurityDescriptor& SecurityDescriptor::deny(Trustee who, std::uint32_t mask) {
  rules.push_back({AccessRule::Type::kDeny, who, mask});
  return *this;
}

std::uint32_t SecurityDescriptor::granted(const Identity& who,
                                          std::uint32_t desired) const noexcept {
  const bool maximum = (desired & rights::kMaximumAllowed) != 0;
  std::uint32_t wanted = maximum ? rights::kAll : rights::map_generic(desired) & rights::kAll;
  if (!has_rules) return wanted;
  std::uint32_t got = 0;
  std::uint32_t denied = 0;
  // No uid is 2^32-1 ((uid_t)-1 means "no change" to the kernel), so an unset owner matches
  // nobody.
  const std::uint32_t owner_uid = owner.value_or(0xFFFFFFFFu);
  // The owner's implicit rights (Windows: unless an OWNER RIGHTS entry says otherwise).
  if (who.uid == owner_uid) got |= wanted & kOwnerImplicit;
  for (const auto& rule : rules) {
    if (!maximum && (got & wanted) == wanted) break;
    if (!rule.who.matches(who, owner_uid)) continue;
    std::uint32_t mask = rights::map_generic(rule.rights);
    if (rule.type == AccessRule::Type::kDeny) {
      std::uint32_t refused = mask & wanted & ~got;
      if (!maximum && refused) return got & ~refused;  // a deny of a wanted right ends it
      denied |= refused;
    } else {
      got |= mask & wanted & ~denied;
    }
  }
  return got & wanted;
}

bool SecurityDescriptor::permits(const Identity& who, std::uint32_t desired) const noexcept {
  std::uint32_t wanted = rights::map_generic(desired) & rights::kAll;
  if (desired & rights::kMaximumAllowed) return granted(who, desired) != 0;
  if (wanted == 0) wanted = rights::kReadAttributes;
  return (granted(who, wanted) & wanted) == wanted;
}

std::string SecurityDescriptor::to_text() const {
  std::ostringstream out;
  out << kTextTag << ' ' << optional_id(owner) << ' ' << optional_id(group) << ' ';
  if (!has_rules) {
    out << "null";
    return out.str();
  }
  out << rules.size();
  for (const auto& rule : rules) {
    out << ' ' << (rule.type == AccessRule::Type::kAllow ? 'a' : 'd') << kind_letter(rule.who.kind)
        << ':' << rule.who.id << ':' << std::hex << rule.rights << std::dec;
  }
  return out.str();
}

Result<SecurityDescriptor> SecurityDescriptor::from_text(const std::string& text) {
  std::istringstream in(text);
  std::string tag, owner_text, group_text, count_text;
  if (!(in >> tag >> owner_text >> group_text >> count_text) || tag != kTextTag)
    return errc::kInvalidParameter;
  SecurityDescriptor sd;
  if (!parse_optional_id(owner_text, &sd.owner) || !parse_optional_id(group_text, &sd.group))
    return errc::kInvalidParameter;
  if (count_text == "null") {
    sd.has_rules = false;
  } else {
    std::uint32_t count = 0;
    if (!parse_u32(count_text, &count) || count > 4096) return errc::kInvalidParameter;
    for (std::uint32_t i = 0; i < count; ++i) {
      std::string item;
      if (!(in >> item) || item.size() < 6 || item[2] != ':') return errc::kInvalidParameter;
      AccessRule rule;
      if (item[0] == 'a')
        rule.type = AccessRule::Type::kAllow;
      else if (item[0] == 'd')
        rule.type = AccessRule::Type::kDeny;
      else
        return errc::kInvalidParameter;
      if (!kind_from_letter(item[1], &rule.who.kind)) return errc::kInvalidParameter;
      auto colon = item.find(':', 3);
      if (colon == std::string::npos) return errc::kInvalidParameter;
      if (!parse_u32(item.substr(3, colon - 3), &rule.who.id) ||
          !parse_u32(item.substr(colon + 1), &rule.rights, 16))
        return errc::kInvalidParameter;
      sd.rules.push_back(rule);
    }
  }
  std::string extra;
  if (in >> extra) return errc::kInvalidParameter;
  return sd;
}

}  // namespace sluice
