#include "registry/pipe_name.hpp"

#include <cstdint>
#include <cstdio>
#include <vector>

#include "os/linux/host_name.hpp"
#include "registry/upcase.hpp"

namespace sluice::registry {
namespace {

// "The entire pipe name string can be up to 256 characters long" (Pipe Names, Microsoft Learn);
// Windows refuses 260 or more with ERROR_FILENAME_EXCED_RANGE, counting UTF-16 units (the A
// functions convert to UTF-16 first), so 259 is the longest that works.
constexpr std::size_t kMaxNameUnits = 259;
constexpr std::string_view kLocalPrefix = "\\\\.\\pipe\\";

// One character of UTF-8 text: its code point and its length in bytes. A byte that starts no
// valid sequence is a character of its own (as a converter's U+FFFD would be), `valid` false.
struct Utf8Char {
  char32_t code = 0;
  std::size_t size = 1;
  bool valid = false;
};

Utf8Char decode(std::string_view s, std::size_t i) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const unsigned char lead = b(0);
  if (lead < 0x80) return {lead, 1, true};
  std::size_t size = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 0;
  if (size == 0 || lead > 0xF4 || i + size > s.size()) return {};
  char32_t code = lead & (0x7F >> size);
  for (std::size_t k = 1; k < size; ++k) {
    if ((b(k) & 0xC0) != 0x80) return {};
    code = (code << 6) | (b(k) & 0x3F);
  }
  constexpr char32_t kSmallest[] = {0, 0, 0x80, 0x800, 0x10000};
  if (code < kSmallest[size] || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return {};
  return {code, size, true};
}

void append_utf8(std::string& out, char32_t c) {
  if (c < 0x80) {
    out += static_cast<char>(c);
  } else if (c < 0x800) {
    out += static_cast<char>(0xC0 | (c >> 6));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else {  // simple_uppercase never leaves the BMP
    out += static_cast<char>(0xE0 | (c >> 12));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  }
}

std::size_t utf16_units(std::string_view s) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < s.size();) {
    Utf8Char c = decode(s, i);
    n += c.valid && c.code > 0xFFFF ? 2 : 1;  // a surrogate pair beyond the BMP
    i += c.size;
  }
  return n;
}

// Upper-cases `s` one UTF-16 unit at a time (upcase.hpp); bytes that are no UTF-8 stay as they
// are, so different ones stay different names.
std::string fold(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    Utf8Char c = decode(s, i);
    if (c.valid && c.code <= 0xFFFF)
      append_utf8(out, simple_uppercase(c.code));
    else
      out.append(s.substr(i, c.size));
    i += c.size;
  }
  return out;
}

bool iequals(std::string_view a, std::string_view b) { return fold(a) == fold(b); }

std::vector<std::string> split(std::string_view s) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == '\\') {
      parts.emplace_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  return parts;
}

std::uint64_t fnv1a(std::string_view s, std::uint64_t seed) {
  std::uint64_t h = seed;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  // splitmix finaliser: FNV alone mixes the last bytes poorly
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebull;
  return h ^ (h >> 31);
}

// Fills `out` for the (parsed, normalised) pipe name `pipe`.
void name_pipe(std::string_view pipe, PipeName* out) {
  out->display = std::string(kLocalPrefix) + std::string(pipe);
  out->via_network = false;
  out->folded = fold(pipe);
  char key[33];
  std::snprintf(key, sizeof key, "%016llx%016llx",
                static_cast<unsigned long long>(fnv1a(out->folded, 0xcbf29ce484222325ull)),
                static_cast<unsigned long long>(fnv1a(out->folded, 0x84222325cbf29ce4ull)));
  out->key = key;
}

// Whether `s` is a dotted-decimal IPv4 address in 127.0.0.0/8, the loopback network.
bool ipv4_loopback(std::string_view s) {
  std::size_t octets = 0;
  std::size_t i = 0;
  while (i <= s.size()) {
    std::size_t end = s.find('.', i);
    if (end == std::string_view::npos) end = s.size();
    std::string_view part = s.substr(i, end - i);
    if (part.empty() || part.size() > 3) return false;
    unsigned value = 0;
    for (char c : part) {
      if (c < '0' || c > '9') return false;
      value = value * 10 + static_cast<unsigned>(c - '0');
    }
    if (value > 255 || (octets == 0 && value != 127)) return false;
    ++octets;
    i = end + 1;
  }
  return octets == 4;
}

}  // namespace

bool names_this_computer(std::string_view server) {
  if (server.empty()) return false;
  if (iequals(server, "localhost") || ipv4_loopback(server) || server == "::1" ||
      server == "[::1]" || iequals(server, "0--1.ipv6-literal.net"))
    return true;
  auto host = os::host_name();
  if (!host) return false;
  std::string_view full = *host;
  std::string_view first = full.substr(0, full.find('.'));
  // GetComputerName's NetBIOS name: the first label cut to MAX_COMPUTERNAME_LENGTH (15).
  std::string_view netbios = first.substr(0, 15);
  return iequals(server, full) || iequals(server, first) || iequals(server, netbios);
}

NameProblem parse_pipe_name(std::string_view name, PipeName* out) {
  if (name.empty()) return NameProblem::kEmpty;
  if (utf16_units(name) > kMaxNameUnits) return NameProblem::kTooLong;
  if (name.find('\0') != std::string_view::npos) return NameProblem::kInvalidCharacter;
  // Win32 takes `/` for `\` in a path, the `\\.\` prefix included; only the `\\?\` prefix,
  // spelled with backslashes, skips normalising ("Naming Files, Paths, and Namespaces",
  // Microsoft Learn).
  const auto separator = [](char c) { return c == '\\' || c == '/'; };
  if (name.size() < 4 || !separator(name[0]) || !separator(name[1])) return NameProblem::kNotAPipe;
  const bool verbatim = name.starts_with("\\\\?\\");
  std::string path(name.substr(2));
  if (!verbatim)
    for (char& c : path)
      if (c == '/') c = '\\';
  std::vector<std::string> parts = split(path);
  // parts[0] is the server, parts[1] must be "pipe", the rest is the pipe name.
  std::string server = parts[0];
  if (!verbatim) {
    std::vector<std::string> resolved;
    for (std::size_t i = 1; i < parts.size(); ++i) {
      if (parts[i] == ".") continue;
      if (parts[i] == "..") {
        if (!resolved.empty()) resolved.pop_back();
        continue;
      }
      resolved.push_back(parts[i]);
    }
    if (!resolved.empty()) {
      std::string& last = resolved.back();
      while (!last.empty() && (last.back() == '.' || last.back() == ' ')) last.pop_back();
    }
    resolved.insert(resolved.begin(), server);
    parts = std::move(resolved);
  }
  if (parts.size() < 2 || !iequals(parts[1], "pipe")) return NameProblem::kNotAPipe;
  bool via_network = false;
  if (server != "." && server != "?") {
    if (!names_this_computer(server)) return NameProblem::kRemote;
    via_network = true;
  }
  std::string pipe;
  for (std::size_t i = 2; i < parts.size(); ++i) {
    if (i > 2) pipe += '\\';
    pipe += parts[i];
  }
  if (pipe.empty()) return NameProblem::kNotAPipe;
  name_pipe(pipe, out);
  out->via_network = via_network;
  return NameProblem::kNone;
}

NameProblem parse_stored_name(std::string_view display, PipeName* out) {
  if (!display.starts_with(kLocalPrefix) || display.size() == kLocalPrefix.size())
    return NameProblem::kNotAPipe;
  if (utf16_units(display) > kMaxNameUnits) return NameProblem::kTooLong;
  if (display.find('\0') != std::string_view::npos) return NameProblem::kInvalidCharacter;
  name_pipe(display.substr(kLocalPrefix.size()), out);
  return NameProblem::kNone;
}

std::error_code error_for_server(NameProblem problem) {
  switch (problem) {
    case NameProblem::kNone:
      return {};
    case NameProblem::kEmpty:
      return errc::kPathNotFound;
    case NameProblem::kTooLong:
      return errc::kFilenameExcedRange;
    case NameProblem::kNotAPipe:
    case NameProblem::kRemote:
    case NameProblem::kInvalidCharacter:
      return errc::kInvalidName;
  }
  return errc::kInvalidName;
}

std::error_code error_for_client(NameProblem problem) {
  switch (problem) {
    case NameProblem::kNone:
      return {};
    case NameProblem::kEmpty:
      return errc::kPathNotFound;
    case NameProblem::kTooLong:
      return errc::kFilenameExcedRange;
    case NameProblem::kNotAPipe:
      return errc::kFileNotFound;
    case NameProblem::kRemote:
      return errc::kBadNetpath;
    case NameProblem::kInvalidCharacter:
      return errc::kInvalidName;
  }
  return errc::kFileNotFound;
}

std::error_code error_for_wait(NameProblem problem) {
  switch (problem) {
    case NameProblem::kNone:
      return {};
    case NameProblem::kEmpty:
    case NameProblem::kNotAPipe:
      return errc::kBadPathname;
    case NameProblem::kTooLong:
      return errc::kFilenameExcedRange;
    case NameProblem::kRemote:
      return errc::kBadNetpath;
    case NameProblem::kInvalidCharacter:
      return errc::kInvalidName;
  }
  return errc::kBadPathname;
}

}  // namespace sluice::registry
