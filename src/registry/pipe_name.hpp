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
  /// Named through a server name that is this computer (`\\myhost\pipe\X`,
  /// `\\localhost\pipe\X`, `\\127.0.0.1\pipe\X`) rather than `.`: on Windows such a client
  /// comes through the network redirector, and the server treats it as remote.
  bool via_network = false;
};

/// Why a name is not usable; each caller maps it to its own Windows error.
enum class NameProblem { kNone, kEmpty, kTooLong, kNotAPipe, kRemote, kInvalidCharacter };

/// Parses `name` (UTF-8). Accepts `\\.\pipe\X` and `\\?\pipe\X` (any case); X may hold any
/// character but NUL (kInvalidCharacter: no Win32 string can hold one). Names other than
/// `\\?\` ones get Win32 path normalisation (`/` as `\`, in the prefix too, so `//./pipe/X`
/// is `\\.\pipe\X`; `.` and `..` resolved, trailing dots and spaces of the last component
/// removed). A name of 260 or more UTF-16 units is kTooLong. `\\server\pipe\X` names the
/// local pipe X, `via_network` set, when names_this_computer(server); any other server is
/// kRemote.
NameProblem parse_pipe_name(std::string_view name, PipeName* out);

/// Whether `server`, the server part of a UNC name, is this computer: `localhost`, the host
/// name (os::host_name(): all of it, its first label, or the NetBIOS name Windows makes of that,
/// its first 15 characters), an IPv4 loopback address (127.x.y.z) or the IPv6 one (`::1`,
/// `[::1]`, or Windows' UNC spelling `0--1.ipv6-literal.net`), in any case.
/// TODO(compat): the computer's other addresses and DNS aliases are not recognised (Windows
/// would reach itself through them too); they stay kRemote.
bool names_this_computer(std::string_view server);

/// Parses a PipeName::display read back from the namespace: its pipe name is taken as it is,
/// never normalised again (a `\\?\pipe\trail.` keeps its dot), so it gives the same key.
NameProblem parse_stored_name(std::string_view display, PipeName* out);

/// The error each call reports for a problem, as Windows reports it (e.g. a name of 260
/// characters or more: ERROR_FILENAME_EXCED_RANGE).
std::error_code error_for_server(NameProblem problem);  // CreateNamedPipe
std::error_code error_for_client(NameProblem problem);  // CreateFile, CallNamedPipe
std::error_code error_for_wait(NameProblem problem);    // WaitNamedPipe

}  // namespace sluice::registry
