// Uses only the installed headers and library: round-trips bytes through an anonymous pipe.
#include <sluice/anonymous_pipe.hpp>

#include <cstdio>
#include <cstring>

int main() {
  auto pipe = sluice::AnonymousPipe::create();
  if (!pipe) {
    std::fprintf(stderr, "AnonymousPipe::create: %s\n", pipe.error().message().c_str());
    return 1;
  }
  const char message[] = "installed sluice works";
  auto written = pipe->write.write(std::as_bytes(std::span(message)));
  if (!written || *written != sizeof message) {
    std::fprintf(stderr, "write: %s\n", written.error().message().c_str());
    return 1;
  }
  char buffer[sizeof message] = {};
  auto got = pipe->read.read(std::as_writable_bytes(std::span(buffer)));
  if (!got || *got != sizeof message || std::memcmp(buffer, message, sizeof message) != 0) {
    std::fprintf(stderr, "read back something else\n");
    return 1;
  }
  pipe->write.close();
  if (pipe->read.read(std::as_writable_bytes(std::span(buffer))).error() !=
      sluice::errc::kBrokenPipe) {
    std::fprintf(stderr, "no kBrokenPipe after the writer closed\n");
    return 1;
  }
  std::printf("%s\n", buffer);
  return 0;
}
