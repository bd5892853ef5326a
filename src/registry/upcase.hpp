// Upper-casing one UTF-16 code unit, as Windows compares pipe names.
#pragma once

namespace sluice::registry {

/// The Unicode simple uppercase mapping of `c` (UnicodeData.txt, field 12; Unicode 14.0) for a
/// character of the Basic Multilingual Plane; `c` itself when it has none, is a surrogate or is
/// beyond the BMP. Windows compares names case-insensitively one UTF-16 code unit at a time, so
/// characters beyond the BMP (two units) are never folded; a character whose uppercase is
/// several characters (`ß`) stays itself.
char32_t simple_uppercase(char32_t c) noexcept;

}  // namespace sluice::registry
