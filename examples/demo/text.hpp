// sluice-demo: small helpers for bytes, text and error messages.
#pragma once

#include <cstdio>
#include <span>
#include <string>
#include <string_view>
#include <system_error>

namespace demo {

inline std::span<const std::byte> as_bytes(std::string_view text) {
  return std::as_bytes(std::span(text.data(), text.size()));
}

inline std::string_view as_text(std::span<const std::byte> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

/// "what: Windows text (error N)" on stderr; returns false so callers can `return report(...)`.
inline bool report(std::string_view what, std::error_code error) {
  std::fprintf(stderr, "sluice-demo: %.*s: %s (error %d)\n", static_cast<int>(what.size()),
               what.data(), error.message().c_str(), error.value());
  return false;
}

}  // namespace demo
