// sluice-bench — the list of transports and the common error helper.
#include "transport.hpp"

#include "payload.hpp"

#include <cerrno>
#include <cstring>

namespace sluice::bench {

void throw_errno(std::string_view what) {
  throw BenchError(std::string(what) + ": " + std::strerror(errno));
}

void Channel::receive_checksummed(std::span<std::byte> buffer, Checksum& checksum) {
  receive(buffer);
  checksum.update(buffer);
}

void Channel::wait_for_close() { throw BenchError("wait_for_close: not supported here"); }

std::unique_ptr<Listener> Transport::listen(const TransportConfig&, const std::function<void()>&) {
  throw BenchError(std::string(name()) + ": no connect rows");
}

std::unique_ptr<Channel> Transport::dial() {
  throw BenchError(std::string(name()) + ": no connect rows");
}

bool has_connect_rows(std::string_view name) {
  std::string why_not;
  const std::unique_ptr<Transport> transport = make_transport(name, why_not);
  return transport != nullptr && transport->supports_connect();
}

std::vector<std::string> transport_names() {
  return {"pipe",       "unix-stream", "unix-seqpacket", std::string(kReaderAloneName),
          "shm-ring",   "sluice-byte", "sluice-msg",     "sluice-view",
          "win32-byte", "win32-msg"};
}

std::unique_ptr<Transport> make_transport(std::string_view name, std::string& why_not) {
  if (name == "pipe") return make_pipe_transport();
  if (name == "unix-stream") return make_unix_stream_transport();
  if (name == "unix-seqpacket") return make_unix_seqpacket_transport();
  if (name == "shm-ring") return make_shm_ring_transport();
  if (name == "sluice-byte") return make_sluice_transport(false, why_not);
  if (name == "sluice-msg") return make_sluice_transport(true, why_not);
  if (name == "sluice-view") return make_sluice_transport(true, why_not, true);
#if SLUICE_BENCH_HAVE_WIN32
  if (name == "win32-byte") return make_win32_transport(false, why_not);
  if (name == "win32-msg") return make_win32_transport(true, why_not);
#else
  if (name == "win32-byte" || name == "win32-msg") {
    why_not = "not built (no sluice::win32 target)";
    return nullptr;
  }
#endif
  if (name == kReaderAloneName) {
    why_not = "not a transport (the job runner runs it in one process)";
    return nullptr;
  }
  why_not = "unknown transport";
  return nullptr;
}

}  // namespace sluice::bench
