// Pipe names: parsing `\\.\pipe\NAME`, Win32 normalisation, case folding and the on-disk key.
#pragma once

#include <string>
#include <string_view>

#include "sluice/result.hpp"

namespace sluice::registry {

/// A parsed local pipe name.
struct PipeName {
  std::string display;  ///< `\\.\pipe\` + the pipe name as given (after normalisation)
  std::string folded;   ///< the pipe name upper-cased (upcase.hpp): what "the same pipe" compares
  std::string key;      ///< 32 hex digits naming the pipe's directory in the namespace
};

/// Why a name is not usable; each caller maps it to its own Windows error.
enum class NameProblem { kNone, kEmpty, kTooLong, kNotAPipe, kRemote, kInvalidCharacter };

/// Parses `name` (UTF-8). Accepts `\\.\pipe\X` and `\\?\pipe\X` (any case); X may hold any
/// character but NUL (kInvalidCharacter: no Win32 string can hold one). Names other than
/// `\\?\` ones get Win32 path normalisation (`/` as `\`, in the prefix too, so `//./pipe/X`
/// is `\\.\pipe\X`; `.` and `..` resolved, trailing dots and spaces of the last component
/// removed). A name of 260 or more UTF-16 units is kTooLong; `\\host\pipe\X` kRemote.
NameProblem parse_pipe_name(std::string_view name, PipeName* out);

/// Parses a PipeName::display read back from the namespace: its pipe name is taken as it is,
/// never normalised again (a `\\?\pipe\trail.` keeps its dot), so it gives the same key.
NameProblem parse_stored_name(std::string_view display, PipeName* out);

/// The error each call reports for a problem, as Windows reports it (e.g. a name of 260
/// characters or more: ERROR_FILENAME_EXCED_RANGE).
std::error_code error_for_server(NameProblem problem);  // CreateNamedPipe
std::error_code error_for_client(NameProblem problem);  // CreateFile, CallNamedPipe
std::error_code error_for_wait(NameProblem problem);    // WaitNamedPipe

}  // namespace sluice::registry
