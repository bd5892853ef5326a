#include "registry/pipe_name.hpp"

#include <cstdint>
#include <cstdio>
#include <vector>

namespace sluice::registry {
namespace {

constexpr std::size_t kMaxNameCharacters = 259;  // 260 or more: ERROR_FILENAME_EXCED_RANGE

std::size_t count_characters(std::string_view utf8) {
  std::size_t n = 0;
  for (unsigned char c : utf8) n += (c & 0xC0) != 0x80;  // count lead bytes only
  return n;
}

char fold(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (fold(a[i]) != fold(b[i])) return false;
  return true;
}

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

}  // namespace

NameProblem parse_pipe_name(std::string_view name, PipeName* out) {
  if (name.empty()) return NameProblem::kEmpty;
  if (count_characters(name) > kMaxNameCharacters) return NameProblem::kTooLong;
  if (name.size() < 4 || name[0] != '\\' || name[1] != '\\') return NameProblem::kNotAPipe;
  std::string_view rest = name.substr(2);
  bool verbatim = rest.size() >= 2 && rest[0] == '?' && rest[1] == '\\';  // \\?\ skips normalising
  std::string path(rest);
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
  if (server != "." && server != "?") return NameProblem::kRemote;
  std::string pipe;
  for (std::size_t i = 2; i < parts.size(); ++i) {
    if (i > 2) pipe += '\\';
    pipe += parts[i];
  }
  if (pipe.empty()) return NameProblem::kNotAPipe;
  out->display = "\\\\.\\pipe\\" + pipe;
  out->folded.clear();
  for (char c : pipe) out->folded += fold(c);
  char key[33];
  std::snprintf(key, sizeof key, "%016llx%016llx",
                static_cast<unsigned long long>(fnv1a(out->folded, 0xcbf29ce484222325ull)),
                static_cast<unsigned long long>(fnv1a(out->folded, 0x84222325cbf29ce4ull)));
  out->key = key;
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
  }
  return errc::kBadPathname;
}

}  // namespace sluice::registry
