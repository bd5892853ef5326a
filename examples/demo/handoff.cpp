#include "handoff.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>

#include <sluice/named_pipe.hpp>
#include <sluice/process.hpp>

#include "text.hpp"

namespace demo {
namespace {

constexpr const char* kPipe = R"(\\.\pipe\sluice-demo-handoff)";

std::string read_message(sluice::PipeEnd& end, std::size_t size, bool* more = nullptr) {
  std::vector<std::byte> buffer(size);
  auto got = end.read(buffer);
  if (!got) return "(" + got.error().message() + ")";
  if (more) *more = got->more_data;
  return std::string(as_text(std::span(buffer.data(), got->bytes)));
}

}  // namespace

bool run_handoff(sluice::Registry& registry, const std::string& self) {
  using namespace std::chrono_literals;
  sluice::ServerOptions options;
  options.type = sluice::PipeType::kMessage;
  options.read_mode = sluice::ReadMode::kMessage;
  auto server = sluice::ServerEnd::create(registry, kPipe, options);
  if (!server) return report("create the pipe", server.error());
  auto client = sluice::ClientEnd::open(registry, kPipe);
  if (!client) return report("open the pipe", client.error());
  if (auto mode = client->set_state(sluice::ReadMode::kMessage, sluice::WaitMode::kWait); !mode)
    return report("set message read mode", mode.error());

  if (auto sent = server->write(as_bytes("first half|second half")); !sent)
    return report("write the message", sent.error());
  bool more = false;
  std::string head = read_message(*client, 11, &more);
  std::printf("  %-44s \"%s\"%s\n", "this process reads 11 bytes of a message:", head.c_str(),
              more ? " (ERROR_MORE_DATA: the rest waits)" : "");

  auto portable = client->share();
  if (!portable) return report("share the client end", portable.error());
  sluice::SpawnOptions spawn;
  spawn.argv = {self, "--worker", registry.directory(), portable->to_text()};
  spawn.pass_descriptors = portable->descriptors();
  auto worker = sluice::Process::spawn(spawn);
  if (!worker) return report("start the worker", worker.error());
  *portable = {};  // our copies of its descriptors: the worker has its own now

  std::string answer = read_message(*server, 256);
  std::printf("  %-44s \"%s\"\n", "the server gets, from the worker:", answer.c_str());
  auto code = worker->wait(10s);
  if (!code) return report("wait for the worker", code.error());

  // The worker's exit closed its handle, not the end: it is still ours.
  if (auto sent = server->write(as_bytes("still here")); !sent)
    return report("write after the worker", sent.error());
  std::string after = read_message(*client, 256);
  std::printf("  %-44s \"%s\"\n", "after the worker left, this process reads:", after.c_str());
  client->close();
  std::byte buffer[16];
  auto last = server->read(buffer);
  bool closed = !last && last.error() == sluice::errc::kBrokenPipe;
  std::printf("  %-44s %s\n", "its last holder closed it; the server sees:",
              closed ? "ERROR_BROKEN_PIPE" : "something else");
  return head == "first half|" && more && answer.rfind("worker read \"second half\"", 0) == 0 &&
         *code == 0 && after == "still here" && closed;
}

int run_worker_process(const std::vector<std::string>& args) {
  if (args.size() != 2) return 2;
  auto registry = sluice::Registry::open(args[0]);
  if (!registry) return report("worker: open registry", registry.error()), 3;
  auto portable = sluice::PortableEnd::from_text(args[1]);
  if (!portable) return report("worker: read the end", portable.error()), 4;
  auto end = sluice::ClientEnd::adopt(*registry, std::move(*portable));
  if (!end) return report("worker: adopt the end", end.error()), 4;
  std::string rest = read_message(*end, 256);  // the same end: the message goes on
  std::string answer = "worker read \"" + rest + "\" (pid " + std::to_string(::getpid()) + ")";
  if (auto sent = end->write(as_bytes(answer)); !sent)
    return report("worker: answer", sent.error()), 5;
  return 0;
}

}  // namespace demo
