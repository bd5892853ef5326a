// Security descriptors as SDDL strings (sddl.h): the subset of Microsoft's "Security Descriptor
// String Format" and "ACE Strings" pages that pipe programs write, in both directions.
#include <windows.h>
#include <sddl.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "win32/objects.hpp"
#include "win32/security.hpp"

namespace sluice::win32 {
namespace {

struct Code {
  const char* text;
  DWORD value;
};

// Whole-right codes first: writing a mask prefers one of them when it is exactly that mask.
constexpr Code kFullRights[] = {
    {"FA", FILE_ALL_ACCESS},
    {"FR", FILE_GENERIC_READ},
    {"FW", FILE_GENERIC_WRITE},
    {"FX", FILE_GENERIC_EXECUTE},
};
// Single rights, in the order Windows writes them.
constexpr Code kRights[] = {
    {"GA", GENERIC_ALL}, {"GR", GENERIC_READ}, {"GW", GENERIC_WRITE}, {"GX", GENERIC_EXECUTE},
    {"CC", 0x1},         {"DC", 0x2},          {"LC", 0x4},           {"SW", 0x8},
    {"RP", 0x10},        {"WP", 0x20},         {"DT", 0x40},          {"LO", 0x80},
    {"CR", 0x100},       {"SD", DELETE},       {"RC", READ_CONTROL},  {"WD", WRITE_DAC},
    {"WO", WRITE_OWNER},
};
// Registry codes: read, never written (they share values with the file codes).
constexpr Code kKeyRights[] = {
    {"KA", 0xF003F},
    {"KR", 0x20019},
    {"KW", 0x20006},
    {"KX", 0x20019},
};
constexpr Code kAceFlags[] = {
    {"OI", OBJECT_INHERIT_ACE},
    {"CI", CONTAINER_INHERIT_ACE},
    {"NP", NO_PROPAGATE_INHERIT_ACE},
    {"IO", INHERIT_ONLY_ACE},
    {"ID", INHERITED_ACE},
    {"SA", SUCCESSFUL_ACCESS_ACE_FLAG},
    {"FA", FAILED_ACCESS_ACE_FLAG},
};
constexpr Code kDaclFlags[] = {
    {"NO_ACCESS_CONTROL", 0},
    {"P", SE_DACL_PROTECTED},
    {"AR", SE_DACL_AUTO_INHERIT_REQ},
    {"AI", SE_DACL_AUTO_INHERITED},
};

std::string_view trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

template <std::size_t N>
const Code* find_code(const Code (&table)[N], std::string_view text) {
  for (const auto& c : table)
    if (text.substr(0, std::strlen(c.text)) == c.text) return &c;
  return nullptr;
}

// A run of two-letter codes from `tables`, or false.
template <std::size_t N>
bool parse_codes(std::string_view text, const Code (&table)[N], DWORD* out) {
  *out = 0;
  while (!text.empty()) {
    if (text.size() < 2) return false;
    const Code* c = find_code(table, text.substr(0, 2));
    if (!c) return false;
    *out |= c->value;
    text.remove_prefix(2);
  }
  return true;
}

bool parse_rights(std::string_view text, DWORD* out) {
  if (!text.empty() && std::isdigit(static_cast<unsigned char>(text[0]))) {
    // One number, C syntax ("0x1F01FF", or decimal); no codes may follow it.
    std::string number(text);
    char* end = nullptr;
    unsigned long long v = std::strtoull(number.c_str(), &end, 0);
    if (*end != '\0' || v > 0xFFFFFFFFull) return false;
    *out = static_cast<DWORD>(v);
    return true;
  }
  *out = 0;
  while (!text.empty()) {
    DWORD v = 0;
    std::string_view code = text.substr(0, 2);
    if (const Code* c = find_code(kFullRights, code)) {
      v = c->value;
    } else if (const Code* r = find_code(kRights, code)) {
      v = r->value;
    } else if (const Code* k = find_code(kKeyRights, code)) {
      v = k->value;
    } else {
      return false;
    }
    if (code.size() < 2) return false;
    *out |= v;
    text.remove_prefix(2);
  }
  return true;
}

// "(type;flags;rights;object guid;inherit object guid;sid)".
DWORD parse_ace(std::string_view text, AceSpec* ace) {
  std::string_view fields[6];
  for (int i = 0; i < 6; ++i) {
    std::size_t semi = text.find(';');
    if ((i < 5) == (semi == std::string_view::npos)) return ERROR_INVALID_ACL;
    fields[i] = trim(text.substr(0, semi));
    text.remove_prefix(i < 5 ? semi + 1 : text.size());
  }
  if (fields[0] == "A")
    ace->type = ACCESS_ALLOWED_ACE_TYPE;
  else if (fields[0] == "D")
    ace->type = ACCESS_DENIED_ACE_TYPE;
  else
    return ERROR_INVALID_ACL;
  DWORD flags = 0;
  if (!parse_codes(fields[1], kAceFlags, &flags) || !parse_rights(fields[2], &ace->mask) ||
      !fields[3].empty() || !fields[4].empty())
    return ERROR_INVALID_ACL;
  ace->flags = static_cast<BYTE>(flags);
  auto sid = sid_from_string(fields[5]);
  if (!sid) return ERROR_INVALID_ACL;
  ace->sid = std::move(*sid);
  return ERROR_SUCCESS;
}

// "D:" flags and ACEs.
DWORD parse_dacl(std::string_view text, DescriptorParts* out) {
  out->dacl_present = true;
  bool null_dacl = false;
  text = trim(text);
  while (!text.empty() && text.front() != '(') {
    const Code* c = find_code(kDaclFlags, text);
    if (!c) return ERROR_INVALID_PARAMETER;
    if (c->value == 0) null_dacl = true;
    out->extra_control = static_cast<WORD>(out->extra_control | c->value);
    text.remove_prefix(std::strlen(c->text));
  }
  std::vector<AceSpec> aces;
  while (!(text = trim(text)).empty()) {
    std::size_t close = text.find(')');
    if (text.front() != '(' || close == std::string_view::npos) return ERROR_INVALID_ACL;
    AceSpec ace;
    if (DWORD e = parse_ace(text.substr(1, close - 1), &ace)) return e;
    aces.push_back(std::move(ace));
    text.remove_prefix(close + 1);
  }
  if (null_dacl && !aces.empty()) return ERROR_INVALID_PARAMETER;
  if (!null_dacl) out->dacl = make_acl(aces);
  return ERROR_SUCCESS;
}

// Where the part that starts at `from` ends: at the next "X:" (X one of O G D S) outside
// parentheses.
std::size_t part_end(std::string_view s, std::size_t from) {
  int depth = 0;
  for (std::size_t i = from; i < s.size(); ++i) {
    if (s[i] == '(')
      ++depth;
    else if (s[i] == ')')
      --depth;
    else if (depth == 0 && i + 1 < s.size() && s[i + 1] == ':' && std::strchr("OGDS", s[i]))
      return i;
  }
  return s.size();
}

DWORD parse_descriptor(std::string_view s, DescriptorParts* out) {
  s = trim(s);
  std::size_t at = 0;
  while (at < s.size()) {
    if (at + 1 >= s.size() || s[at + 1] != ':' || !std::strchr("OGDS", s[at]))
      return ERROR_INVALID_PARAMETER;
    std::size_t end = part_end(s, at + 2);
    std::string_view body = trim(s.substr(at + 2, end - at - 2));
    switch (s[at]) {
      case 'O':
      case 'G': {
        auto sid = sid_from_string(body);
        if (!sid) return ERROR_INVALID_SID;
        (s[at] == 'O' ? out->owner : out->group) = std::move(*sid);
        break;
      }
      case 'D':
        if (DWORD e = parse_dacl(body, out)) return e;
        break;
      default:  // 'S': a SACL says what to audit; nothing is audited here
        break;
    }
    at = end;
  }
  return ERROR_SUCCESS;
}

std::string sid_text(const void* sid) {
  std::string alias = sid_alias(sid);
  return alias.empty() ? sid_to_string(sid) : alias;
}

std::string rights_text(DWORD mask) {
  for (const auto& c : kFullRights)
    if (mask == c.value) return c.text;
  std::string text;
  DWORD left = mask;
  for (const auto& c : kRights) {
    if ((mask & c.value) == c.value) {
      text += c.text;
      left &= ~c.value;
    }
  }
  if (left == 0 && !text.empty()) return text;
  char hex[16];
  std::snprintf(hex, sizeof hex, "0x%x", mask);
  return hex;
}

DWORD write_descriptor(const void* sd, SECURITY_INFORMATION what, std::string* out) {
  DescriptorView v = view_of(sd);
  if (v.revision != SECURITY_DESCRIPTOR_REVISION) return ERROR_UNKNOWN_REVISION;
  if ((v.owner && !sid_valid(v.owner)) || (v.group && !sid_valid(v.group)))
    return ERROR_INVALID_SID;
  if (v.dacl && !acl_valid(v.dacl)) return ERROR_INVALID_ACL;
  if ((what & OWNER_SECURITY_INFORMATION) && v.owner) *out += "O:" + sid_text(v.owner);
  if ((what & GROUP_SECURITY_INFORMATION) && v.group) *out += "G:" + sid_text(v.group);
  if (!(what & DACL_SECURITY_INFORMATION) || !(v.control & SE_DACL_PRESENT)) return ERROR_SUCCESS;
  *out += "D:";
  for (const auto& flag : kDaclFlags)
    if (flag.value && (v.control & flag.value)) *out += flag.text;
  if (!v.dacl) {
    *out += "NO_ACCESS_CONTROL";
    return ERROR_SUCCESS;
  }
  for (const auto& ace : aces_of(v.dacl)) {
    *out += ace.type == ACCESS_ALLOWED_ACE_TYPE ? "(A;" : "(D;";
    for (const auto& flag : kAceFlags)
      if (ace.flags & flag.value) *out += flag.text;
    *out += ";" + rights_text(ace.mask) + ";;;" + sid_text(ace.sid.data()) + ")";
  }
  return ERROR_SUCCESS;
}

BOOL string_to_descriptor(const std::string& text, DWORD revision, PSECURITY_DESCRIPTOR* sd,
                          PULONG size) {
  if (revision != SDDL_REVISION_1) return fail(ERROR_UNKNOWN_REVISION);
  DescriptorParts parts;
  if (DWORD e = parse_descriptor(text, &parts)) return fail(e);
  DWORD bytes = 0;
  *sd = make_self_relative(parts, &bytes);
  if (!*sd) return FALSE;
  if (size) *size = bytes;
  return TRUE;
}

template <class Char>
BOOL descriptor_to_string(PSECURITY_DESCRIPTOR sd, DWORD revision, SECURITY_INFORMATION what,
                          Char** out, PULONG length) {
  if (!sd || !out) return fail(ERROR_INVALID_PARAMETER);
  if (revision != SDDL_REVISION_1) return fail(ERROR_UNKNOWN_REVISION);
  std::string text;
  if (DWORD e = write_descriptor(sd, what, &text)) return fail(e);
  std::basic_string<Char> result;
  if constexpr (sizeof(Char) == 1) {
    result = text;
  } else {
    result = from_utf8(text);
  }
  auto* copy = static_cast<Char*>(LocalAlloc(LMEM_FIXED, (result.size() + 1) * sizeof(Char)));
  if (!copy) return FALSE;
  std::memcpy(copy, result.c_str(), (result.size() + 1) * sizeof(Char));
  *out = copy;
  if (length) *length = static_cast<ULONG>(result.size() + 1);
  return TRUE;
}

}  // namespace
}  // namespace sluice::win32

using namespace sluice::win32;

extern "C" {

BOOL WINAPI ConvertStringSecurityDescriptorToSecurityDescriptorA(
    LPCSTR StringSecurityDescriptor, DWORD StringSDRevision,
    PSECURITY_DESCRIPTOR* SecurityDescriptor, PULONG SecurityDescriptorSize) {
  return guarded<BOOL>(FALSE, [&]() -> BOOL {
    if (!StringSecurityDescriptor || !SecurityDescriptor) return fail(ERROR_INVALID_PARAMETER);
    return string_to_descriptor(StringSecurityDescriptor, StringSDRevision, SecurityDescriptor,
                                SecurityDescriptorSize);
  });
}

BOOL WINAPI ConvertStringSecurityDescriptorToSecurityDescriptorW(
    LPCWSTR StringSecurityDescriptor, DWORD StringSDRevision,
    PSECURITY_DESCRIPTOR* SecurityDescriptor, PULONG SecurityDescriptorSize) {
  return guarded<BOOL>(FALSE, [&]() -> BOOL {
    if (!StringSecurityDescriptor || !SecurityDescriptor) return fail(ERROR_INVALID_PARAMETER);
    return string_to_descriptor(to_utf8(StringSecurityDescriptor), StringSDRevision,
                                SecurityDescriptor, SecurityDescriptorSize);
  });
}

BOOL WINAPI ConvertSecurityDescriptorToStringSecurityDescriptorA(
    PSECURITY_DESCRIPTOR SecurityDescriptor, DWORD RequestedStringSDRevision,
    SECURITY_INFORMATION SecurityInformation, LPSTR* StringSecurityDescriptor,
    PULONG StringSecurityDescriptorLen) {
  return guarded<BOOL>(FALSE, [&]() -> BOOL {
    return descriptor_to_string(SecurityDescriptor, RequestedStringSDRevision, SecurityInformation,
                                StringSecurityDescriptor, StringSecurityDescriptorLen);
  });
}

BOOL WINAPI ConvertSecurityDescriptorToStringSecurityDescriptorW(
    PSECURITY_DESCRIPTOR SecurityDescriptor, DWORD RequestedStringSDRevision,
    SECURITY_INFORMATION SecurityInformation, LPWSTR* StringSecurityDescriptor,
    PULONG StringSecurityDescriptorLen) {
  return guarded<BOOL>(FALSE, [&]() -> BOOL {
    return descriptor_to_string(SecurityDescriptor, RequestedStringSDRevision, SecurityInformation,
                                StringSecurityDescriptor, StringSecurityDescriptorLen);
  });
}

}  // extern "C"
