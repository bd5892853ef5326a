// sluice-bench — the list of echo servers (the hook for more rows, e.g. echo-asio).
#include "echo.hpp"

namespace sluice::bench {

std::vector<EchoServerKind> echo_server_kinds() {
  std::vector<EchoServerKind> kinds;
#if SLUICE_BENCH_HAVE_WIN32
  kinds.push_back({"echo-iocp", true, make_iocp_echo_server, make_iocp_echo_client});
#endif
  // TODO(perf): {"echo-asio", true, make_asio_echo_server, make_iocp_echo_client} once the
  // sluice::asio adapter's server lands (issue 4, item 3).
  kinds.push_back(
      {"echo-epoll-unix", false, make_epoll_unix_echo_server, make_epoll_unix_echo_client});
  return kinds;
}

std::vector<std::string> echo_server_names() { return {"echo-iocp", "echo-epoll-unix"}; }

bool find_echo_server_kind(std::string_view name, EchoServerKind& kind, std::string& why_not) {
  for (const EchoServerKind& candidate : echo_server_kinds()) {
    if (candidate.name == name) {
      kind = candidate;
      return true;
    }
  }
  why_not = name == "echo-iocp" ? "not built (no sluice::win32 target)" : "unknown echo server";
  return false;
}

}  // namespace sluice::bench
