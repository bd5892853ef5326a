// The text sent between processes through the inbox (inbox.hpp: handle items, completion-packet
// messages):
// fields split at one separator, and decimal numbers that must fill their field.
#pragma once

#include <charconv>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::objects {

/// The fields of `text` between `separator`s (one more than there are separators).
inline std::vector<std::string> split_fields(std::string_view text, char separator) {
  std::vector<std::string> fields;
  for (;;) {
    std::size_t at = text.find(separator);
    fields.emplace_back(text.substr(0, at));
    if (at == std::string_view::npos) return fields;
    text.remove_prefix(at + 1);
  }
}

/// Whether `field` is an unsigned decimal number that fits `*out` and nothing else (stored
/// there).
template <class Unsigned>
bool parse_decimal(std::string_view field, Unsigned* out) {
  const char* end = field.data() + field.size();
  auto [at, error] = std::from_chars(field.data(), end, *out);
  return error == std::errc{} && at == end;
}

}  // namespace sluice::objects
