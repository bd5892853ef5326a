// file_service: a root service that reads files for the members of one group, each with the
// rights of the client who asked (Windows' classic: a service impersonating its pipe client).
//
//   file_service serve GID [REQUESTS]   # as root: serve the group GID (REQUESTS, then exit)
//   file_service ask PATH               # as anyone: print PATH's first line, as the service
//                                       # read it with your rights
//
// Only the group's members may open the pipe (the descriptor; checked by the service's agent
// with the kernel's credentials); everyone else gets "Access is denied." at once. The service
// then opens each file as its client, so a member cannot read through it what they could not
// read themselves. examples/file_service_test.sh runs it with users 1001-1003.
#include <sluice/impersonation.hpp>
#include <sluice/named_pipe.hpp>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <thread>

namespace {

constexpr std::string_view kPipe = R"(\\.\pipe\sluice-file-service)";

std::span<const std::byte> bytes(std::string_view s) { return std::as_bytes(std::span(s)); }

// The first line of `path`, opened with the calling thread's credentials.
std::string first_line(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "r");
  if (!f) return std::string("error: ") + std::strerror(errno);
  char line[256] = {};
  if (!std::fgets(line, sizeof line, f)) line[0] = '\0';
  std::fclose(f);
  std::string out = line;
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

// One client: a path in, its first line (or why not) out.
void serve_one(sluice::ServerEnd& server) {
  char request[512];
  auto got = server.read(std::as_writable_bytes(std::span(request)));
  if (!got) return;
  std::string path(request, got->bytes);
  std::string reply;
  {
    auto as_client = sluice::Impersonation::of(server);
    // Never serve with the service's own rights: no impersonation, no answer.
    if (!as_client || !as_client->acts_as_client())
      reply = "error: the service cannot act as you";
    else
      reply = first_line(path);
  }  // back to the service's own rights here
  (void)server.write(bytes(reply));
  (void)server.flush();
}

int serve(std::uint32_t group, long requests) {
  auto registry = sluice::Registry::open();
  if (!registry) {
    std::fprintf(stderr, "file_service: %s\n", registry.error().message().c_str());
    return 1;
  }
  sluice::ServerOptions options;
  options.type = sluice::PipeType::kMessage;
  options.read_mode = sluice::ReadMode::kMessage;
  options.first_instance = true;  // a squatter holding the name is an error, not our pipe
  // Read and write, but not the right to add instances (which GENERIC_WRITE includes): a
  // member must not be able to serve the others' requests.
  options.security = sluice::SecurityDescriptor::owner_only().allow(
      sluice::Trustee::group(group),
      sluice::rights::kRead | (sluice::rights::kWrite & ~sluice::rights::kCreatePipeInstance));
  auto server = sluice::ServerEnd::create(*registry, kPipe, options);
  if (!server) {
    std::fprintf(stderr, "file_service: %s\n", server.error().message().c_str());
    return 1;
  }
  std::printf("file_service: serving group %u at %s\n", group, registry->directory().c_str());
  std::fflush(stdout);
  for (long served = 0; requests < 0 || served < requests; ++served) {
    if (!server->connect()) continue;
    serve_one(*server);
    (void)server->disconnect();
  }
  return 0;
}

int ask(const std::string& path) {
  auto registry = sluice::Registry::open();
  if (!registry) {
    std::fprintf(stderr, "file_service: %s\n", registry.error().message().c_str());
    return 1;
  }
  auto client = sluice::ClientEnd::open(*registry, kPipe);
  for (int tries = 0; !client && client.error() == sluice::errc::kPipeBusy && tries < 50; ++tries) {
    (void)sluice::wait_for_instance(*registry, kPipe, std::chrono::milliseconds(1000));
    client = sluice::ClientEnd::open(*registry, kPipe);
  }
  if (!client) {
    std::fprintf(stderr, "file_service: %s\n", client.error().message().c_str());
    return 2;
  }
  (void)client->set_state(sluice::ReadMode::kMessage, sluice::WaitMode::kWait);
  char reply[512];
  auto got = client->transact(bytes(path), std::as_writable_bytes(std::span(reply)));
  if (!got) {
    std::fprintf(stderr, "file_service: %s\n", got.error().message().c_str());
    return 3;
  }
  std::printf("%.*s\n", static_cast<int>(got->bytes), reply);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string_view mode = argc > 1 ? argv[1] : "";
  if (mode == "serve" && argc >= 3)
    return serve(static_cast<std::uint32_t>(std::strtoul(argv[2], nullptr, 10)),
                 argc >= 4 ? std::strtol(argv[3], nullptr, 10) : -1);
  if (mode == "ask" && argc == 3) return ask(argv[2]);
  std::fprintf(stderr, "usage: file_service serve GID [REQUESTS] | file_service ask PATH\n");
  return 64;
}
