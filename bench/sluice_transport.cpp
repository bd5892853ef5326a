// sluice-bench — sluice named pipes, byte mode and message mode, through the public C++ API.
#include <unistd.h>

#include <algorithm>
#include <optional>
#include <string>

#include "sluice/named_pipe.hpp"
#include "sluice/registry.hpp"
#include "transport.hpp"

namespace sluice::bench {
namespace {

template <class T>
T checked(Result<T> result, std::string_view what) {
  if (!result) throw BenchError(std::string(what) + ": " + result.error().message());
  if constexpr (!std::is_void_v<T>) return std::move(result).value();
}

/// Owns the process's Registry (and so its agent thread) together with the end made from it.
class SluiceChannel final : public Channel {
 public:
  SluiceChannel(Registry registry, PipeEnd end, bool message_mode)
      : registry_(std::move(registry)), end_(std::move(end)), message_mode_(message_mode) {}

  void send(std::span<const std::byte> data) override {
    const std::size_t written = checked(end_.write(data), "PipeEnd::write");
    if (written != data.size()) {
      throw BenchError("PipeEnd::write wrote " + std::to_string(written) + " of " +
                       std::to_string(data.size()) + " bytes");
    }
  }

  void receive(std::span<std::byte> buffer) override {
    if (message_mode_) {
      const ReadResult got = checked(end_.read(buffer), "PipeEnd::read");
      if (got.more_data || got.bytes != buffer.size()) {
        throw BenchError("PipeEnd::read: message of " + std::to_string(got.bytes) +
                         (got.more_data ? "+ (more data)" : "") + " bytes, expected " +
                         std::to_string(buffer.size()));
      }
      return;
    }
    while (!buffer.empty()) {
      const ReadResult got = checked(end_.read(buffer), "PipeEnd::read");
      if (got.bytes == 0) throw BenchError("PipeEnd::read returned 0 bytes in byte mode");
      buffer = buffer.subspan(got.bytes);
    }
  }

 private:
  Registry registry_;
  PipeEnd end_;
  bool message_mode_;
};

class SluiceTransport final : public Transport {
 public:
  explicit SluiceTransport(bool message_mode) : message_mode_(message_mode) {}

  std::string_view name() const override { return message_mode_ ? "sluice-msg" : "sluice-byte"; }

  void prepare(const TransportConfig& config) override {
    // A subdirectory of the private mkdtemp directory: Registry::open creates it with the mode
    // it insists on (sticky, owned by us), which mkdtemp's 0700 is not.
    directory_ = config.scratch_dir + "/pipes";
    pipe_name_ = "\\\\.\\pipe\\sluice-bench-" + std::to_string(::getpid());
    // Throughput keeps up to four messages in flight; never below 1 MiB so small messages are
    // not throttled by the quota rather than by the engine.
    const std::size_t quota = std::max<std::size_t>(1 << 20, 4 * config.max_message_bytes);
    buffer_size_ = static_cast<std::uint32_t>(std::min<std::size_t>(quota, 1u << 30));
  }

  std::unique_ptr<Channel> open_leader(const std::function<void()>& follower_may_connect) override {
    Registry registry = checked(Registry::open(directory_), "Registry::open (leader)");
    ServerOptions options;
    options.access = PipeAccess::kDuplex;
    options.type = message_mode_ ? PipeType::kMessage : PipeType::kByte;
    options.read_mode = message_mode_ ? ReadMode::kMessage : ReadMode::kByte;
    options.max_instances = 1;
    options.out_buffer_size = buffer_size_;
    options.in_buffer_size = buffer_size_;
    options.first_instance = true;
    ServerEnd server =
        checked(ServerEnd::create(registry, pipe_name_, options), "ServerEnd::create");
    follower_may_connect();
    (void)checked(server.connect(), "ServerEnd::connect");
    if (message_mode_) {
      checked(server.set_state(ReadMode::kMessage, WaitMode::kWait), "PipeEnd::set_state (server)");
    }
    return std::make_unique<SluiceChannel>(std::move(registry), std::move(server), message_mode_);
  }

  std::unique_ptr<Channel> open_follower() override {
    // A fresh Registry in the child: the parent's agent thread does not survive fork.
    Registry registry = checked(Registry::open(directory_), "Registry::open (follower)");
    ClientEnd client = checked(ClientEnd::open(registry, pipe_name_), "ClientEnd::open");
    if (message_mode_) {
      checked(client.set_state(ReadMode::kMessage, WaitMode::kWait), "PipeEnd::set_state (client)");
    }
    return std::make_unique<SluiceChannel>(std::move(registry), std::move(client), message_mode_);
  }

 private:
  bool message_mode_;
  std::string directory_;
  std::string pipe_name_;
  std::uint32_t buffer_size_ = 0;
};

}  // namespace

std::unique_ptr<Transport> make_sluice_transport(bool message_mode, std::string&) {
  return std::make_unique<SluiceTransport>(message_mode);
}

}  // namespace sluice::bench
