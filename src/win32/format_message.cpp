// FormatMessageA/W (winbase.h): system texts, insert sequences and output line width.
//
// A message definition (a string, or a system text followed by "\r\n" as in Windows' message
// tables) is parsed once into pieces, stopping at %0. Then the arguments are read: from an array
// of DWORD_PTR (FORMAT_MESSAGE_ARGUMENT_ARRAY) or from a va_list, in insert order 1, 2, 3 ...
// with the type each insert's format asks for (an insert no format names is read as a pointer-
// sized slot, as Windows reads every va_list argument). Last, the pieces are written through a
// LineWriter that applies the width rules of the low byte of dwFlags.
//
// Formatting works in wchar_t for both entry points; FormatMessageA converts the result to UTF-8
// (this layer's ANSI code page), so widths count characters, not bytes.
#include <windows.h>

#include <algorithm>
#include <array>
#include <bit>
#include <climits>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "win32/objects.hpp"

namespace sluice::win32 {
namespace {

// ---- system texts -------------------------------------------------------------------------------

// Texts for codes outside the C++ error category (which has every pipe error's text).
const char* extra_text(DWORD code) {
  switch (code) {
    case ERROR_INVALID_ACCESS:
      return "The access code is invalid.";
    case ERROR_INVALID_DATA:
      return "The data is invalid.";
    case ERROR_OUTOFMEMORY:
      return "Not enough memory resources are available to complete this operation.";
    case ERROR_NO_MORE_FILES:
      return "There are no more files.";
    case ERROR_BAD_LENGTH:
      return "The program issued a command but the command length is incorrect.";
    case ERROR_GEN_FAILURE:
      return "A device attached to the system is not functioning.";
    case ERROR_SHARING_VIOLATION:
      return "The process cannot access the file because it is being used by another process.";
    case ERROR_FILE_EXISTS:
      return "The file exists.";
    case ERROR_CALL_NOT_IMPLEMENTED:
      return "This function is not supported on this system.";
    case ERROR_MOD_NOT_FOUND:
      return "The specified module could not be found.";
    case ERROR_BUSY:
      return "The requested resource is in use.";
    case ERROR_ENVVAR_NOT_FOUND:
      return "The system could not find the environment option that was entered.";
    case ERROR_DIRECTORY:
      return "The directory name is invalid.";
    case ERROR_MR_MID_NOT_FOUND:
      return "The system cannot find message text for message number 0x%1 in the message "
             "file for %2.";
    case ERROR_NOACCESS:
      return "Invalid access to memory location.";
    case ERROR_NO_TOKEN:
      return "An attempt was made to reference a token that does not exist.";
    case ERROR_BAD_IMPERSONATION_LEVEL:
      return "Either a required impersonation level was not provided, or the provided "
             "impersonation level is invalid.";
    case ERROR_CANT_OPEN_ANONYMOUS:
      return "Cannot open an anonymous level security token.";
    case ERROR_PRIVILEGE_NOT_HELD:
      return "A required privilege is not held by the client.";
    case ERROR_INVALID_FLAGS:
      return "Invalid flags.";
    case ERROR_UNKNOWN_REVISION:
      return "The revision level is unknown.";
    case ERROR_REVISION_MISMATCH:
      return "Indicates two revision levels are incompatible.";
    case ERROR_INVALID_OWNER:
      return "This security ID may not be assigned as the owner of this object.";
    case ERROR_INVALID_PRIMARY_GROUP:
      return "This security ID may not be assigned as the primary group of an object.";
    case ERROR_NONE_MAPPED:
      return "No mapping between account names and security IDs was done.";
    case ERROR_INVALID_ACL:
      return "The access control list (ACL) structure is invalid.";
    case ERROR_INVALID_SID:
      return "The security ID structure is invalid.";
    case ERROR_INVALID_SECURITY_DESCR:
      return "The security descriptor structure is invalid.";
    case ERROR_ALLOTTED_SPACE_EXCEEDED:
      return "No more memory is available for security information updates.";
    case ERROR_BAD_DESCRIPTOR_FORMAT:
      return "A security descriptor is not in the right format (absolute or self-relative).";
    case ERROR_TIMEOUT:
      return "This operation returned because the timeout period expired.";
    case ERROR_RESOURCE_TYPE_NOT_FOUND:
      return "The specified resource type cannot be found in the image file.";
    default:
      return nullptr;
  }
}

// The message definition of a system code, or false when the system has none.
bool system_definition(DWORD code, std::wstring* out) {
  const char* text = extra_text(code);
  if (!text) text = sluice::system_text(static_cast<sluice::errc>(code));
  if (!text) return false;
  *out = from_utf8(text) + L"\r\n";  // message-table entries end with a line break
  return true;
}

// ---- parsing ------------------------------------------------------------------------------------

// How a va_list argument is read.
enum class ArgType : std::uint8_t { kSlot, kInt, kInt64, kDouble };

// The printf-style format of an insert (%n!format!), in Microsoft's conventions.
struct Format {
  std::string flags;            // of "-+ #0"
  int width = -1;               // -1: none
  int precision = -1;           // -1: none
  bool width_star = false;      // '*': the width is the insert's first argument
  bool precision_star = false;  // '*': the precision is the next one
  enum class Size : std::uint8_t { kDefault, kShort, kLong, kLongLong, kPointer } size{};
  bool wide_prefix = false;    // l or w before c/s
  bool narrow_prefix = false;  // h before c/s
  char conversion = 's';
};

struct Piece {
  enum class Kind : std::uint8_t { kText, kInsert, kHardBreak, kReturn, kSourceBreak } kind;
  std::wstring text;  // kText
  int insert = 0;     // kInsert: 1..99
  Format format;      // kInsert
};

bool parse_format(const std::wstring& s, Format* f) {
  std::size_t i = 0;
  while (i < s.size() && std::wcschr(L"-+ #0", s[i]) && s[i] != 0)
    f->flags += static_cast<char>(s[i++]);
  auto number = [&](int* out, bool* star) {
    if (i < s.size() && s[i] == L'*') {
      *star = true;
      ++i;
      return;
    }
    if (i >= s.size() || s[i] < L'0' || s[i] > L'9') return;
    int v = 0;
    while (i < s.size() && s[i] >= L'0' && s[i] <= L'9' && v < 100000) v = v * 10 + (s[i++] - L'0');
    *out = v;
  };
  number(&f->width, &f->width_star);
  if (i < s.size() && s[i] == L'.') {
    ++i;
    f->precision = 0;
    number(&f->precision, &f->precision_star);
  }
  auto rest = s.substr(i);
  auto take = [&](const wchar_t* prefix) {
    std::size_t n = std::wcslen(prefix);
    if (rest.compare(0, n, prefix) != 0) return false;
    rest.erase(0, n);
    return true;
  };
  using Size = Format::Size;
  if (take(L"I64") || take(L"ll")) {
    f->size = Size::kLongLong;
  } else if (take(L"I32")) {
    f->size = Size::kDefault;
  } else if (take(L"I")) {
    f->size = Size::kPointer;
  } else if (take(L"hh") || take(L"h")) {
    f->size = Size::kShort;
    f->narrow_prefix = true;
  } else if (take(L"l") || take(L"w")) {
    f->size = Size::kLong;  // Windows' long is 32 bits
    f->wide_prefix = true;
  }
  if (rest.size() != 1) return false;
  wchar_t c = rest[0];
  // %n would write through an argument: never a conversion of an insert.
  if (!std::wcschr(L"cCdiouxXsSpeEfgGaA", c) || c == 0) return false;
  f->conversion = static_cast<char>(c);
  return true;
}

// Parses `message` into pieces; false for a malformed definition (ERROR_INVALID_PARAMETER).
// With `ignore_inserts`, inserts and the escapes other than %0, %n, %r and %t stay as written.
bool parse(const std::wstring& message, bool ignore_inserts, std::vector<Piece>* out) {
  std::wstring text;
  auto flush = [&] {
    if (!text.empty()) out->push_back(Piece{Piece::Kind::kText, std::move(text), 0, {}});
    text.clear();
  };
  auto mark = [&](Piece::Kind kind) {
    flush();
    out->push_back(Piece{kind, {}, 0, {}});
  };
  std::size_t i = 0;
  const std::size_t n = message.size();
  while (i < n) {
    wchar_t c = message[i];
    if (c == L'\r' || c == L'\n') {
      // A line break in the definition: \r\n, \n or \r alone.
      i += (c == L'\r' && i + 1 < n && message[i + 1] == L'\n') ? 2 : 1;
      mark(Piece::Kind::kSourceBreak);
      continue;
    }
    if (c != L'%') {
      text += c;
      ++i;
      continue;
    }
    if (i + 1 >= n) {
      if (!ignore_inserts) return false;  // a lone % at the end
      text += c;
      ++i;
      continue;
    }
    wchar_t e = message[i + 1];
    if (e == L'0') break;  // end of the message, without a line break
    if (e == L'n') {
      mark(Piece::Kind::kHardBreak);
      i += 2;
      continue;
    }
    if (e == L'r') {
      mark(Piece::Kind::kReturn);
      i += 2;
      continue;
    }
    if (e == L't') {
      text += L'\t';
      i += 2;
      continue;
    }
    if (e >= L'1' && e <= L'9') {
      std::size_t start = i;
      int number = e - L'0';
      i += 2;
      if (i < n && message[i] >= L'0' && message[i] <= L'9')
        number = number * 10 + (message[i++] - L'0');
      Format format;
      if (i < n && message[i] == L'!') {
        std::size_t close = message.find(L'!', i + 1);
        if (close == std::wstring::npos) {
          if (!ignore_inserts) return false;
        } else {
          if (!ignore_inserts && !parse_format(message.substr(i + 1, close - i - 1), &format)) {
            return false;
          }
          i = close + 1;
        }
      }
      if (ignore_inserts) {
        text.append(message, start, i - start);
        continue;
      }
      flush();
      out->push_back(Piece{Piece::Kind::kInsert, {}, number, format});
      continue;
    }
    // %%, %space, %., %! and any other character: that character alone.
    if (ignore_inserts) text += L'%';
    text += e;
    i += 2;
  }
  flush();
  return true;
}

// ---- arguments ----------------------------------------------------------------------------------

// Insert numbers reach 99, and an insert with two '*' reads two more.
constexpr int kMaxArgs = 101;

// The argument indices an insert uses: [width], [precision], value.
struct ArgIndices {
  int width = 0, precision = 0, value = 0;  // 0: not used
};
ArgIndices indices_of(const Piece& p) {
  ArgIndices r;
  int next = p.insert;
  if (p.format.width_star) r.width = next++;
  if (p.format.precision_star) r.precision = next++;
  r.value = next;
  return r;
}

ArgType type_of(const Format& f) {
  switch (f.conversion) {
    case 'e':
    case 'E':
    case 'f':
    case 'g':
    case 'G':
    case 'a':
    case 'A':
      return ArgType::kDouble;
    case 's':
    case 'S':
    case 'p':
      return ArgType::kSlot;
    default:
      return f.size == Format::Size::kLongLong || f.size == Format::Size::kPointer ? ArgType::kInt64
                                                                                   : ArgType::kInt;
  }
}

// The argument values, read once: from the array as needed, or from the va_list in order.
class Arguments {
 public:
  Arguments(DWORD flags, va_list* arguments)
      : array_((flags & FORMAT_MESSAGE_ARGUMENT_ARRAY) != 0), list_(arguments) {}

  // Reads what the pieces need; false when there are inserts but no arguments.
  bool load(const std::vector<Piece>& pieces) {
    std::array<ArgType, kMaxArgs + 1> types;
    types.fill(ArgType::kSlot);
    std::array<bool, kMaxArgs + 1> typed{};
    int last = 0;
    auto note = [&](int index, ArgType type) {
      if (index == 0) return;
      if (!typed[index]) types[index] = type;  // the first use decides
      typed[index] = true;
      last = std::max(last, index);
    };
    for (const auto& p : pieces) {
      if (p.kind != Piece::Kind::kInsert) continue;
      auto ix = indices_of(p);
      note(ix.width, ArgType::kInt);
      note(ix.precision, ArgType::kInt);
      note(ix.value, type_of(p.format));
    }
    if (last == 0) return true;
    if (!list_) return false;
    for (int i = 1; i <= last; ++i) values_[i] = read(i, types[i]);
    return true;
  }

  std::uint64_t operator[](int index) const { return values_[index]; }

 private:
  std::uint64_t read(int index, ArgType type) {
    if (array_) {
      return reinterpret_cast<const DWORD_PTR*>(list_)[index - 1];
    }
    switch (type) {
      case ArgType::kInt:
        return static_cast<std::uint32_t>(va_arg(*list_, int));
      case ArgType::kInt64:
        return static_cast<std::uint64_t>(va_arg(*list_, long long));
      case ArgType::kDouble:
        return std::bit_cast<std::uint64_t>(va_arg(*list_, double));
      case ArgType::kSlot:
        break;
    }
    return static_cast<std::uint64_t>(va_arg(*list_, std::uintptr_t));
  }

  bool array_;
  va_list* list_;
  std::array<std::uint64_t, kMaxArgs + 1> values_{};
};

// ---- rendering ----------------------------------------------------------------------------------

// One printf conversion built at run time, as long as it comes out (widths reach 99999).
template <class T>
std::wstring printf_one(const std::string& spec, T value) {
  int n = std::snprintf(nullptr, 0, spec.c_str(), value);
  if (n <= 0) return {};
  std::string out(static_cast<std::size_t>(n) + 1, '\0');
  std::snprintf(out.data(), out.size(), spec.c_str(), value);
  return std::wstring(out.begin(), out.begin() + n);  // ASCII only
}

std::wstring pad(std::wstring s, int width, bool left) {
  if (width > 0 && s.size() < static_cast<std::size_t>(width)) {
    std::wstring fill(static_cast<std::size_t>(width) - s.size(), L' ');
    s = left ? s + fill : fill + s;
  }
  return s;
}

// One insert, formatted as Windows' printf does for FormatMessage `wide_api` (W) or not (A).
std::wstring render(const Piece& p, const Arguments& args, bool wide_api) {
  Format f = p.format;
  auto ix = indices_of(p);
  if (ix.width) {
    auto w = static_cast<int>(static_cast<std::uint32_t>(args[ix.width]));
    if (w < 0) {
      f.flags += '-';
      w = w == INT_MIN ? 0 : -w;
    }
    f.width = w;
  }
  if (ix.precision) {
    auto prec = static_cast<int>(static_cast<std::uint32_t>(args[ix.precision]));
    f.precision = prec < 0 ? -1 : prec;
  }
  const std::uint64_t v = args[ix.value];
  const bool left = f.flags.find('-') != std::string::npos;
  const char c = f.conversion;

  if (c == 's' || c == 'S' || c == 'c' || c == 'C') {
    // s/c take the entry point's width, S/C the other one; h forces narrow, l and w wide.
    bool wide = (c == 's' || c == 'c') ? wide_api : !wide_api;
    if (f.narrow_prefix) wide = false;
    if (f.wide_prefix) wide = true;
    std::wstring s;
    if (c == 's' || c == 'S') {
      if (v == 0) {
        s = L"(null)";
      } else if (wide) {
        s = reinterpret_cast<const wchar_t*>(static_cast<std::uintptr_t>(v));
      } else {
        s = from_utf8(reinterpret_cast<const char*>(static_cast<std::uintptr_t>(v)));
      }
      if (f.precision >= 0 && s.size() > static_cast<std::size_t>(f.precision)) {
        s.resize(static_cast<std::size_t>(f.precision));
      }
    } else if (wide) {
      s.assign(1, static_cast<wchar_t>(static_cast<std::uint32_t>(v)));
    } else {
      s = from_utf8(std::string(1, static_cast<char>(v)));
    }
    return pad(std::move(s), f.width, left);
  }

  std::string spec = "%" + f.flags;
  if (f.width >= 0) spec += std::to_string(f.width);
  if (f.precision >= 0) spec += "." + std::to_string(f.precision);
  if (c == 'p') {
    // Microsoft prints a pointer as all its hex digits, upper case, without 0x.
    return pad(printf_one("%016llX", static_cast<unsigned long long>(v)), f.width, left);
  }
  if (type_of(f) == ArgType::kDouble) return printf_one(spec + c, std::bit_cast<double>(v));
  const bool is_signed = c == 'd' || c == 'i';
  using Size = Format::Size;
  if (f.size == Size::kLongLong || f.size == Size::kPointer) {
    spec += "ll";
    spec += c;
    if (is_signed) return printf_one(spec, static_cast<long long>(v));
    return printf_one(spec, static_cast<unsigned long long>(v));
  }
  if (f.size == Size::kShort) spec += "h";
  spec += c;
  if (is_signed) return printf_one(spec, static_cast<int>(static_cast<std::uint32_t>(v)));
  return printf_one(spec, static_cast<unsigned>(v));
}

// Applies the line-width rules of dwFlags' low byte: 0 keeps the definition's line breaks (as
// \r\n); FORMAT_MESSAGE_MAX_WIDTH_MASK turns them into spaces; another value also turns them into
// spaces and breaks every line that reaches that many characters, at its last space (dropping the
// spaces before the break), or right there when the line has no space. %n and %r always break.
class LineWriter {
 public:
  explicit LineWriter(DWORD width_byte) : mode_(width_byte) {}

  void put(wchar_t c) {
    line_ += c;
    if (mode_ != 0 && mode_ != FORMAT_MESSAGE_MAX_WIDTH_MASK && line_.size() >= mode_) wrap();
  }
  void put(const std::wstring& s) {
    for (wchar_t c : s) put(c);
  }
  void source_break() {
    if (mode_ == 0) {
      end_line(L"\r\n");
    } else {
      put(L' ');
    }
  }
  void end_line(const wchar_t* with) {
    out_ += line_;
    out_ += with;
    line_.clear();
  }
  std::wstring finish() {
    out_ += line_;
    line_.clear();
    return std::move(out_);
  }

 private:
  void wrap() {
    auto space = line_.rfind(L' ');
    if (space == std::wstring::npos) {
      end_line(L"\r\n");
      return;
    }
    auto end = space;
    while (end > 0 && line_[end - 1] == L' ') --end;
    out_.append(line_, 0, end);
    out_ += L"\r\n";
    line_.erase(0, space + 1);
  }

  const DWORD mode_;
  std::wstring out_;
  std::wstring line_;  // the current output line, not yet in out_
};

// Formats a message definition; false with the last error set.
bool format(DWORD flags, const std::wstring& definition, va_list* arguments, bool wide_api,
            std::wstring* out) {
  const bool ignore = (flags & FORMAT_MESSAGE_IGNORE_INSERTS) != 0;
  std::vector<Piece> pieces;
  if (!parse(definition, ignore, &pieces)) {
    set_last_error(ERROR_INVALID_PARAMETER);
    return false;
  }
  Arguments args(flags, ignore ? nullptr : arguments);
  if (!args.load(pieces)) {
    set_last_error(ERROR_INVALID_PARAMETER);
    return false;
  }
  LineWriter writer(flags & FORMAT_MESSAGE_MAX_WIDTH_MASK);
  for (const auto& p : pieces) {
    switch (p.kind) {
      case Piece::Kind::kText:
        writer.put(p.text);
        break;
      case Piece::Kind::kInsert:
        writer.put(render(p, args, wide_api));
        break;
      case Piece::Kind::kHardBreak:
        writer.end_line(L"\r\n");
        break;
      case Piece::Kind::kReturn:
        writer.end_line(L"\r");
        break;
      case Piece::Kind::kSourceBreak:
        writer.source_break();
        break;
    }
  }
  *out = writer.finish();
  return true;
}

// The message definition for dwFlags' source; false with the last error set.
bool definition_of(DWORD flags, const std::wstring* string, DWORD id, std::wstring* out) {
  if (flags & FORMAT_MESSAGE_FROM_STRING) {
    if (!string) {
      set_last_error(ERROR_INVALID_PARAMETER);  // Windows faults on a null string
      return false;
    }
    *out = *string;
    return true;
  }
  if (flags & FORMAT_MESSAGE_FROM_SYSTEM) {
    // No module has a message table here, so FROM_HMODULE | FROM_SYSTEM is the system table.
    if (system_definition(id, out)) return true;
    set_last_error(ERROR_MR_MID_NOT_FOUND);
    return false;
  }
  set_last_error((flags & FORMAT_MESSAGE_FROM_HMODULE) ? ERROR_RESOURCE_TYPE_NOT_FOUND
                                                       : ERROR_INVALID_PARAMETER);
  return false;
}

// Copies the formatted text out with Windows' rules for each entry point.
template <class Char>
DWORD deliver(DWORD flags, const std::basic_string<Char>& text, Char* buffer, DWORD size) {
  constexpr bool kWide = sizeof(Char) != 1;
  const auto length = static_cast<DWORD>(text.size());
  if (flags & FORMAT_MESSAGE_ALLOCATE_BUFFER) {
    // lpBuffer is really the address of the caller's pointer (cleared on entry).
    if (text.empty()) {
      set_last_error(ERROR_NO_WORK_DONE);
      return 0;
    }
    std::size_t chars = std::max<std::size_t>(text.size() + 1, size);
    auto* p = static_cast<Char*>(LocalAlloc(LMEM_ZEROINIT, chars * sizeof(Char)));
    if (!p) return 0;
    std::memcpy(p, text.c_str(), (text.size() + 1) * sizeof(Char));
    *reinterpret_cast<Char**>(buffer) = p;
    return length;
  }
  if (kWide && !buffer) {
    set_last_error(ERROR_INVALID_PARAMETER);
    return 0;
  }
  if (text.empty()) {
    if (kWide && size > 0) buffer[0] = 0;
    set_last_error(ERROR_NO_WORK_DONE);
    return 0;
  }
  if (!buffer || size < length + 1) {
    // FormatMessageW fills what fits; FormatMessageA leaves the buffer alone.
    if (kWide && size > 0) {
      std::memcpy(buffer, text.data(), (size - 1) * sizeof(Char));
      buffer[size - 1] = 0;
    }
    set_last_error(ERROR_INSUFFICIENT_BUFFER);
    return 0;
  }
  std::memcpy(buffer, text.c_str(), (text.size() + 1) * sizeof(Char));
  return length;
}

// Both entry points; lpSource is a Char string with FORMAT_MESSAGE_FROM_STRING.
template <class Char>
DWORD format_message(DWORD flags, const void* source, DWORD id, Char* buffer, DWORD size,
                     va_list* arguments) {
  constexpr bool kWide = sizeof(Char) != 1;
  if (flags & FORMAT_MESSAGE_ALLOCATE_BUFFER) {
    if (!buffer) {
      set_last_error(kWide ? ERROR_INVALID_PARAMETER : ERROR_NOT_ENOUGH_MEMORY);
      return 0;
    }
    *reinterpret_cast<Char**>(buffer) = nullptr;
  }
  std::wstring string;
  if ((flags & FORMAT_MESSAGE_FROM_STRING) && source) {
    if constexpr (kWide) {
      string = static_cast<const wchar_t*>(source);
    } else {
      string = from_utf8(static_cast<const char*>(source));
    }
  }
  std::wstring definition;
  if (!definition_of(flags, source ? &string : nullptr, id, &definition)) return 0;
  std::wstring text;
  if (!format(flags, definition, arguments, kWide, &text)) return 0;
  if constexpr (kWide) {
    return deliver<wchar_t>(flags, text, buffer, size);
  } else {
    return deliver<char>(flags, to_utf8(text.c_str(), text.size()), buffer, size);
  }
}

}  // namespace
}  // namespace sluice::win32

using namespace sluice::win32;

extern "C" {

DWORD WINAPI FormatMessageA(DWORD dwFlags, LPCVOID lpSource, DWORD dwMessageId, DWORD dwLanguageId,
                            LPSTR lpBuffer, DWORD nSize, va_list* Arguments) {
  (void)dwLanguageId;
  return guarded<DWORD>(0, [&] {
    return format_message<char>(dwFlags, lpSource, dwMessageId, lpBuffer, nSize, Arguments);
  });
}

DWORD WINAPI FormatMessageW(DWORD dwFlags, LPCVOID lpSource, DWORD dwMessageId, DWORD dwLanguageId,
                            LPWSTR lpBuffer, DWORD nSize, va_list* Arguments) {
  (void)dwLanguageId;
  return guarded<DWORD>(0, [&] {
    return format_message<wchar_t>(dwFlags, lpSource, dwMessageId, lpBuffer, nSize, Arguments);
  });
}

}  // extern "C"
