// sluice-bench — the list of echo servers.
#include "echo.hpp"

namespace sluice::bench {

std::vector<EchoServerKind> echo_server_kinds() {
  std::vector<EchoServerKind> kinds;
#if SLUICE_BENCH_HAVE_WIN32
  kinds.push_back({"echo-iocp", true, make_iocp_echo_server, make_iocp_echo_client});
#endif
#if SLUICE_BENCH_HAVE_WIN32 && SLUICE_BENCH_HAVE_ASIO
  // Its clients are echo-iocp's: the Win32 pipe clients.
  kinds.push_back({"echo-asio", true, make_asio_echo_server, make_iocp_echo_client});
#endif
  kinds.push_back(
      {"echo-epoll-unix", false, make_epoll_unix_echo_server, make_epoll_unix_echo_client});
  return kinds;
}

std::vector<std::string> echo_server_names() {
  return {"echo-iocp", "echo-asio", "echo-epoll-unix"};
}

bool find_echo_server_kind(std::string_view name, EchoServerKind& kind, std::string& why_not) {
  for (const EchoServerKind& candidate : echo_server_kinds()) {
    if (candidate.name == name) {
      kind = candidate;
      return true;
    }
  }
  if (name == "echo-iocp") {
    why_not = "not built (no sluice::win32 target)";
  } else if (name == "echo-asio") {
    why_not = "not built (needs the sluice::win32 and sluice::asio targets)";
  } else {
    why_not = "unknown echo server";
  }
  return false;
}

}  // namespace sluice::bench
