// sluice-bench — sluice named pipes, byte mode and message mode, through the public C++ API.
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <string>
#include <utility>

#include "payload.hpp"
#include "sluice/error.hpp"
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

/// One end; owns the process's Registry (and so its agent thread) too when it is the process's
/// only end (the throughput and ping-pong rows), else the registry outlives it.
class SluiceChannel final : public Channel {
 public:
  SluiceChannel(std::optional<Registry> registry, PipeEnd end, bool message_mode, bool in_place)
      : registry_(std::move(registry)),
        end_(std::move(end)),
        message_mode_(message_mode),
        in_place_(in_place) {}

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

  void receive_checksummed(std::span<std::byte> buffer, Checksum& checksum) override {
    if (!in_place_) return Channel::receive_checksummed(buffer, checksum);
    // The message is checksummed where it lies; one that wraps round the ring comes in two
    // pieces, which are glued in `buffer` first (the checksum works on 8-byte words).
    std::size_t glued = 0;
    const ReadResult got = checked(end_.read_in_place([&](std::span<const std::byte> piece) {
      if (glued == 0 && piece.size() == buffer.size()) {
        checksum.update(piece);
        glued = buffer.size() + 1;  // done
        return;
      }
      if (glued + piece.size() > buffer.size()) throw BenchError("read_in_place: message too long");
      std::memcpy(buffer.data() + glued, piece.data(), piece.size());
      glued += piece.size();
    }),
                                   "PipeEnd::read_in_place");
    if (got.bytes != buffer.size()) {
      throw BenchError("PipeEnd::read_in_place: message of " + std::to_string(got.bytes) +
                       " bytes, expected " + std::to_string(buffer.size()));
    }
    if (glued == buffer.size()) checksum.update(buffer);
  }

  void wait_for_close() override {
    std::byte byte;
    const Result<ReadResult> got = end_.read(std::span(&byte, 1));
    if (got) throw BenchError("PipeEnd::read: data where the client's close was expected");
    if (got.error() != errc::kBrokenPipe) {
      throw BenchError("PipeEnd::read (waiting for the close): " + got.error().message());
    }
  }

 private:
  std::optional<Registry> registry_;  // destroyed after the end
  PipeEnd end_;
  bool message_mode_;
  bool in_place_;
};

/// The connect test's server: an instance per client, as a Windows server that hands each
/// connected instance on makes the next one (CreateNamedPipe, ConnectNamedPipe, CreateNamedPipe
/// again for the next client while this one is served).
class SluiceListener final : public Listener {
 public:
  SluiceListener(Registry registry, std::string name, ServerOptions options)
      : registry_(std::move(registry)), name_(std::move(name)), options_(std::move(options)) {
    options_.first_instance = true;
    listening_ = checked(ServerEnd::create(registry_, name_, options_), "ServerEnd::create");
    options_.first_instance = false;
  }

  std::unique_ptr<Channel> accept() override {
    (void)checked(listening_.connect(), "ServerEnd::connect");
    ServerEnd next = checked(ServerEnd::create(registry_, name_, options_), "ServerEnd::create");
    return std::make_unique<SluiceChannel>(std::nullopt, std::exchange(listening_, std::move(next)),
                                           options_.type == PipeType::kMessage, false);
  }

 private:
  Registry registry_;
  std::string name_;
  ServerOptions options_;
  ServerEnd listening_;  // the instance the next client will find
};

class SluiceTransport final : public Transport {
 public:
  SluiceTransport(bool message_mode, bool in_place)
      : message_mode_(message_mode), in_place_(in_place) {}

  std::string_view name() const override {
    return in_place_ ? "sluice-view" : message_mode_ ? "sluice-msg" : "sluice-byte";
  }

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
    ServerOptions options = server_options(buffer_size_);
    options.max_instances = 1;
    options.first_instance = true;
    ServerEnd server =
        checked(ServerEnd::create(registry, pipe_name_, options), "ServerEnd::create");
    follower_may_connect();
    (void)checked(server.connect(), "ServerEnd::connect");
    if (message_mode_) {
      checked(server.set_state(ReadMode::kMessage, WaitMode::kWait), "PipeEnd::set_state (server)");
    }
    return std::make_unique<SluiceChannel>(std::move(registry), std::move(server), message_mode_,
                                           in_place_);
  }

  std::unique_ptr<Channel> open_follower() override {
    // A fresh Registry in the child: the parent's agent thread does not survive fork.
    Registry registry = checked(Registry::open(directory_), "Registry::open (follower)");
    ClientEnd client = open_client(registry);
    return std::make_unique<SluiceChannel>(std::move(registry), std::move(client), message_mode_,
                                           in_place_);
  }

  bool supports_connect() const override { return true; }

  std::unique_ptr<Listener> listen(const TransportConfig& config,
                                   const std::function<void()>& follower_may_connect) override {
    Registry registry = checked(Registry::open(directory_), "Registry::open (leader)");
    const auto buffer_size = static_cast<std::uint32_t>(config.buffer_bytes);
    auto listener = std::make_unique<SluiceListener>(std::move(registry), pipe_name_,
                                                     server_options(buffer_size));
    follower_may_connect();
    return listener;
  }

  std::unique_ptr<Channel> dial() override {
    // Made at the first call (the calibration's, untimed), after the fork, as in open_follower.
    if (!client_registry_) {
      client_registry_ = checked(Registry::open(directory_), "Registry::open (follower)");
    }
    return std::make_unique<SluiceChannel>(std::nullopt, open_client(*client_registry_),
                                           message_mode_, in_place_);
  }

 private:
  ServerOptions server_options(std::uint32_t buffer_size) const {
    ServerOptions options;
    options.access = PipeAccess::kDuplex;
    options.type = message_mode_ ? PipeType::kMessage : PipeType::kByte;
    options.read_mode = message_mode_ ? ReadMode::kMessage : ReadMode::kByte;
    options.out_buffer_size = buffer_size;
    options.in_buffer_size = buffer_size;
    return options;
  }

  ClientEnd open_client(Registry& registry) const {
    ClientEnd client = checked(ClientEnd::open(registry, pipe_name_), "ClientEnd::open");
    if (message_mode_) {
      checked(client.set_state(ReadMode::kMessage, WaitMode::kWait), "PipeEnd::set_state (client)");
    }
    return client;
  }

  bool message_mode_;
  bool in_place_;
  std::string directory_;
  std::string pipe_name_;
  std::uint32_t buffer_size_ = 0;
  std::optional<Registry> client_registry_;  // connect test, follower
};

}  // namespace

std::unique_ptr<Transport> make_sluice_transport(bool message_mode, std::string&, bool in_place) {
  return std::make_unique<SluiceTransport>(message_mode, in_place);
}

}  // namespace sluice::bench
