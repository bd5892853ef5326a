// Text a Win32 call copies out to its caller's buffer, in the caller's characters (char for the
// A functions, WCHAR for the W ones).
#pragma once

#include <string>

#include "win32/objects.hpp"

namespace sluice::win32 {

/// `utf8` in the caller's characters: as it is for char (the ANSI code page is UTF-8), converted
/// for WCHAR.
template <class Char>
std::basic_string<Char> in_chars(const std::string& utf8) {
  if constexpr (sizeof(Char) == 1)
    return utf8;
  else
    return from_utf8(utf8);
}

/// Copies `text` and its NUL to `buffer` when `room` characters hold both; otherwise (or with
/// no buffer) copies nothing and returns false.
template <class Char>
bool copy_out(const std::basic_string<Char>& text, Char* buffer, std::size_t room) {
  if (buffer == nullptr || room <= text.size()) return false;
  text.copy(buffer, text.size());
  buffer[text.size()] = Char{};
  return true;
}

}  // namespace sluice::win32
