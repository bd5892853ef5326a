// FindFirstFile, FindNextFile and FindClose over the pipe namespace: how pipelist-like programs
// and .NET's Directory.GetFiles(@"\\.\pipe\") list the pipes of a machine.
//
// What Windows reports comes from its named-pipe file system (npfs.sys), which answers a
// directory query on `\\.\pipe\` with one entry per pipe: the pipe's name, FILE_ATTRIBUTE_NORMAL,
// EndOfFile = the number of instances, AllocationSize = the maximum (pipelist shows both;
// "PipeList", Sysinternals, Microsoft Learn), times left zero. FindFirstFile copies EndOfFile to
// nFileSizeHigh:nFileSizeLow and has no field for AllocationSize.
#include <windows.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "win32/objects.hpp"

namespace sluice::win32 {
namespace {

class FindObject final : public Object {
 public:
  struct Item {
    std::string name;  // without the `\\.\pipe\` prefix, as cFileName shows it
    std::uint32_t instances = 0;
  };
  explicit FindObject(std::vector<Item> items) : Object(Kind::kFind), items_(std::move(items)) {}

  // The next item, or false at the end of the list.
  bool next(Item* out) {
    std::lock_guard lock(mu_);
    if (next_ >= items_.size()) return false;
    *out = items_[next_++];
    return true;
  }

 private:
  std::mutex mu_;
  const std::vector<Item> items_;
  std::size_t next_ = 0;  // guarded by mu_
};

// Windows' kernel32 hands the file system a DOS pattern: before the query it turns `?` into
// DOS_QM, a `*` followed by `.` into DOS_STAR and a `.` followed by `?`, `*` or the end into
// DOS_DOT, which FsRtlIsNameInExpression (Microsoft Learn) then matches as below.
constexpr char kDosStar = '<';
constexpr char kDosQm = '>';
constexpr char kDosDot = '"';

char fold(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }

std::string dos_pattern(std::string_view pattern) {
  std::string out;
  out.reserve(pattern.size());
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    const char next = i + 1 < pattern.size() ? pattern[i + 1] : '\0';
    if (c == '?')
      out += kDosQm;
    else if (c == '*' && next == '.')
      out += kDosStar;
    else if (c == '.' && (next == '?' || next == '*' || next == '\0'))
      out += kDosDot;
    else
      out += fold(c);
  }
  return out;
}

// Whether `name` matches the DOS pattern `p`, case-insensitively (pipe names are). `*` matches
// any run; DOS_STAR any run that stops short of the name's last dot; DOS_QM one character, or
// nothing at a dot or the end; DOS_DOT a dot, or nothing at the end.
bool matches(const std::string& p, std::string_view name) {
  const std::size_t n = name.size();
  const std::size_t last_dot = name.rfind('.');
  // reach[i]: the part of the pattern matched so far can end at name position i.
  std::vector<char> reach(n + 1, 0), next(n + 1, 0);
  reach[0] = 1;
  for (char c : p) {
    std::fill(next.begin(), next.end(), 0);
    for (std::size_t i = 0; i <= n; ++i) {
      if (!reach[i]) continue;
      switch (c) {
        case '*':
          for (std::size_t j = i; j <= n; ++j) next[j] = 1;
          break;
        case kDosStar: {
          std::size_t end = (last_dot != std::string_view::npos && last_dot >= i) ? last_dot : n;
          for (std::size_t j = i; j <= end; ++j) next[j] = 1;
          break;
        }
        case kDosQm:
          if (i == n || name[i] == '.')
            next[i] = 1;
          else
            next[i + 1] = 1;
          break;
        case kDosDot:
          if (i == n)
            next[i] = 1;
          else if (name[i] == '.')
            next[i + 1] = 1;
          break;
        default:
          if (i < n && fold(name[i]) == c) next[i + 1] = 1;
      }
    }
    reach.swap(next);
  }
  return reach[n] != 0;
}

bool is_separator(char c) { return c == '\\' || c == '/'; }

// The pattern of a path in the pipe directory, i.e. what follows `\\.\pipe\` (or `\\?\pipe\`).
// False when the path is not in the pipe directory at all.
bool pipe_pattern(std::string_view path, std::string_view* pattern) {
  constexpr std::string_view kPipe = "PIPE";
  if (path.size() < 9 || !is_separator(path[0]) || !is_separator(path[1]) ||
      (path[2] != '.' && path[2] != '?') || !is_separator(path[3]) || !is_separator(path[8]))
    return false;
  for (std::size_t i = 0; i < kPipe.size(); ++i)
    if (fold(path[4 + i]) != kPipe[i]) return false;
  *pattern = path.substr(9);
  return true;
}

HANDLE fail_handle(DWORD code) {
  set_last_error(code);
  return INVALID_HANDLE_VALUE;
}

template <class Data>
void clear(Data* data) {
  std::memset(data, 0, sizeof *data);
}

void fill(const FindObject::Item& item, WIN32_FIND_DATAA* data) {
  clear(data);
  data->dwFileAttributes = FILE_ATTRIBUTE_NORMAL;
  data->nFileSizeLow = item.instances;
  // Pipe names are at most 256 characters; in UTF-8 a few could still be longer than MAX_PATH.
  std::size_t n = std::min<std::size_t>(item.name.size(), MAX_PATH - 1);
  std::memcpy(data->cFileName, item.name.data(), n);
}

void fill(const FindObject::Item& item, WIN32_FIND_DATAW* data) {
  clear(data);
  data->dwFileAttributes = FILE_ATTRIBUTE_NORMAL;
  data->nFileSizeLow = item.instances;
  std::wstring wide = from_utf8(item.name);
  std::size_t n = std::min<std::size_t>(wide.size(), MAX_PATH - 1);
  std::wmemcpy(data->cFileName, wide.data(), n);
}

template <class Data>
HANDLE find_first(const char* path, Data* data) {
  if (!path || !data) return fail_handle(ERROR_INVALID_PARAMETER);
  std::string_view pattern;
  if (!pipe_pattern(path, &pattern)) {
    // TODO(compat): ordinary directories are not listed yet.
    return fail_handle(*path ? ERROR_NOT_SUPPORTED : ERROR_PATH_NOT_FOUND);
  }
  // A trailing backslash names no file; a path below the pipe directory names a directory
  // that npfs does not have (pipe names may hold backslashes, but they are not directories).
  if (pattern.empty() || pattern.find_first_of("\\/") != std::string_view::npos)
    return fail_handle(ERROR_FILE_NOT_FOUND);
  std::error_code error;
  Registry* reg = registry(&error);
  if (!reg) return fail_handle(win32_code(error));
  auto pipes = reg->list_pipes();
  if (!pipes) return fail_handle(win32_code(pipes.error()));
  const std::string dos = dos_pattern(pattern);
  constexpr std::string_view kPrefix = "\\\\.\\pipe\\";
  std::vector<FindObject::Item> items;
  for (auto& p : *pipes) {
    std::string_view name = p.name;
    if (name.substr(0, kPrefix.size()) != kPrefix) continue;
    name.remove_prefix(kPrefix.size());
    if (matches(dos, name)) items.push_back({std::string(name), p.instances});
  }
  // TODO(compat): npfs itself answers STATUS_NO_MORE_FILES to a first query that matches
  // nothing; this follows FindFirstFile's page ("no matching files": ERROR_FILE_NOT_FOUND).
  if (items.empty()) return fail_handle(ERROR_FILE_NOT_FOUND);
  auto find = std::make_shared<FindObject>(std::move(items));
  FindObject::Item first;
  find->next(&first);
  fill(first, data);
  return globals().handles.insert(std::move(find), 0);
}

template <class Data>
BOOL find_next(HANDLE handle, Data* data) {
  auto object = globals().handles.get(handle);
  if (!object || object->kind() != Kind::kFind) return fail(ERROR_INVALID_HANDLE);
  if (!data) return fail(ERROR_INVALID_PARAMETER);
  FindObject::Item item;
  if (!static_cast<FindObject&>(*object).next(&item)) return fail(ERROR_NO_MORE_FILES);
  fill(item, data);
  return TRUE;
}

}  // namespace

extern "C" {

HANDLE WINAPI FindFirstFileA(LPCSTR lpFileName, LPWIN32_FIND_DATAA lpFindFileData) {
  return guarded<HANDLE>(INVALID_HANDLE_VALUE,
                         [&] { return find_first(lpFileName, lpFindFileData); });
}

HANDLE WINAPI FindFirstFileW(LPCWSTR lpFileName, LPWIN32_FIND_DATAW lpFindFileData) {
  return guarded<HANDLE>(INVALID_HANDLE_VALUE, [&] {
    if (!lpFileName) return find_first(nullptr, lpFindFileData);
    std::string path = to_utf8(lpFileName);
    return find_first(path.c_str(), lpFindFileData);
  });
}

BOOL WINAPI FindNextFileA(HANDLE hFindFile, LPWIN32_FIND_DATAA lpFindFileData) {
  return guarded<BOOL>(FALSE, [&] { return find_next(hFindFile, lpFindFileData); });
}

BOOL WINAPI FindNextFileW(HANDLE hFindFile, LPWIN32_FIND_DATAW lpFindFileData) {
  return guarded<BOOL>(FALSE, [&] { return find_next(hFindFile, lpFindFileData); });
}

BOOL WINAPI FindClose(HANDLE hFindFile) {
  return guarded<BOOL>(FALSE, [&]() -> BOOL {
    auto object = globals().handles.get(hFindFile);
    if (!object || object->kind() != Kind::kFind) return fail(ERROR_INVALID_HANDLE);
    if (auto ec = globals().handles.close(hFindFile)) return fail(ec);
    return TRUE;
  });
}

}  // extern "C"

}  // namespace sluice::win32
