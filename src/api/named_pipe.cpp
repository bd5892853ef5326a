#include "sluice/named_pipe.hpp"

#include "core/pipe_end_core.hpp"

namespace sluice {

PipeEnd::PipeEnd() noexcept = default;
PipeEnd::PipeEnd(std::shared_ptr<core::PipeEndCore> end) noexcept : end_(std::move(end)) {}
PipeEnd::PipeEnd(PipeEnd&&) noexcept = default;
PipeEnd& PipeEnd::operator=(PipeEnd&& other) noexcept {
  if (this != &other) {
    close();
    end_ = std::move(other.end_);
  }
  return *this;
}
PipeEnd::~PipeEnd() { close(); }

bool PipeEnd::is_open() const noexcept { return end_ != nullptr; }

void PipeEnd::close() noexcept {
  if (end_) end_->close();
  end_.reset();
}

Result<ReadResult> PipeEnd::read(std::span<std::byte> buffer) {
  if (!end_) return errc::kInvalidHandle;
  return end_->read(buffer);
}

Result<std::size_t> PipeEnd::write(std::span<const std::byte> data) {
  if (!end_) return errc::kInvalidHandle;
  return end_->write(data);
}

Result<PeekResult> PipeEnd::peek(std::span<std::byte> buffer) {
  if (!end_) return errc::kInvalidHandle;
  return end_->peek(buffer);
}

Result<ReadResult> PipeEnd::transact(std::span<const std::byte> request,
                                     std::span<std::byte> reply) {
  if (!end_) return errc::kInvalidHandle;
  return end_->transact(request, reply);
}

Result<void> PipeEnd::flush() {
  if (!end_) return errc::kInvalidHandle;
  return end_->flush();
}

Result<PipeInfo> PipeEnd::info() const {
  if (!end_) return errc::kInvalidHandle;
  return end_->info();
}

Result<HandleState> PipeEnd::state() const {
  if (!end_) return errc::kInvalidHandle;
  return end_->state();
}

Result<void> PipeEnd::set_state(ReadMode read_mode, WaitMode wait_mode) {
  if (!end_) return errc::kInvalidHandle;
  return end_->set_state(read_mode, wait_mode);
}

namespace {
template <class Pick>
Result<std::uint32_t> identity_field(const Result<core::ProcessIdentity>& who, Pick pick) {
  if (!who) return who.error();
  return pick(*who);
}
std::uint32_t pid_of(const core::ProcessIdentity& who) { return who.pid; }
std::uint32_t session_of(const core::ProcessIdentity& who) { return who.session; }
}  // namespace

Result<std::uint32_t> PipeEnd::client_process_id() const {
  if (!end_) return errc::kInvalidHandle;
  return identity_field(end_->client_identity(), pid_of);
}

Result<std::uint32_t> PipeEnd::server_process_id() const {
  if (!end_) return errc::kInvalidHandle;
  return identity_field(end_->server_identity(), pid_of);
}

Result<std::uint32_t> PipeEnd::client_session_id() const {
  if (!end_) return errc::kInvalidHandle;
  return identity_field(end_->client_identity(), session_of);
}

Result<std::uint32_t> PipeEnd::server_session_id() const {
  if (!end_) return errc::kInvalidHandle;
  return identity_field(end_->server_identity(), session_of);
}

namespace {

// The engine's completion callback: hands the outcome to the user's handler via the executor.
template <class T, class Map>
core::PipeEndCore::IoCallback completion(std::shared_ptr<Executor> executor,
                                         std::shared_ptr<std::function<void(Result<T>)>> handler,
                                         Map map) {
  return [executor, handler, map](const core::PipeEndCore::IoResult& r) {
    Result<T> value = r.error ? Result<T>(r.error) : Result<T>(map(r));
    (*executor)([handler, value] { (*handler)(value); });
  };
}

ReadResult read_result(const core::PipeEndCore::IoResult& r) { return {r.bytes, r.more_data}; }
std::size_t write_result(const core::PipeEndCore::IoResult& r) { return r.bytes; }

}  // namespace

Result<void> PipeEnd::async_read(std::span<std::byte> buffer, Executor executor,
                                 std::function<void(Result<ReadResult>)> handler) {
  if (!end_) return errc::kInvalidHandle;
  auto ex = std::make_shared<Executor>(std::move(executor));
  auto h = std::make_shared<std::function<void(Result<ReadResult>)>>(std::move(handler));
  auto started = end_->start_read(buffer, completion<ReadResult>(ex, h, read_result));
  if (!started.now) return {};
  if (started.now->error) return started.now->error;
  (*ex)([h, value = read_result(*started.now)] { (*h)(value); });
  return {};
}

Result<void> PipeEnd::async_write(std::span<const std::byte> data, Executor executor,
                                  std::function<void(Result<std::size_t>)> handler) {
  if (!end_) return errc::kInvalidHandle;
  auto ex = std::make_shared<Executor>(std::move(executor));
  auto h = std::make_shared<std::function<void(Result<std::size_t>)>>(std::move(handler));
  auto started = end_->start_write(data, completion<std::size_t>(ex, h, write_result));
  if (!started.now) return {};
  if (started.now->error) return started.now->error;
  (*ex)([h, value = write_result(*started.now)] { (*h)(value); });
  return {};
}

Result<void> PipeEnd::async_transact(std::span<const std::byte> request,
                                     std::span<std::byte> reply, Executor executor,
                                     std::function<void(Result<ReadResult>)> handler) {
  if (!end_) return errc::kInvalidHandle;
  auto ex = std::make_shared<Executor>(std::move(executor));
  auto h = std::make_shared<std::function<void(Result<ReadResult>)>>(std::move(handler));
  auto started = end_->start_transact(request, reply, completion<ReadResult>(ex, h, read_result));
  if (!started.now) return {};
  if (started.now->error) return started.now->error;
  (*ex)([h, value = read_result(*started.now)] { (*h)(value); });
  return {};
}

std::size_t PipeEnd::cancel() { return end_ ? end_->cancel() : 0; }

Result<void> ServerEnd::async_connect(Executor executor,
                                      std::function<void(Result<ConnectStatus>)> handler) {
  if (!end_) return errc::kInvalidHandle;
  auto ex = std::make_shared<Executor>(std::move(executor));
  auto h = std::make_shared<std::function<void(Result<ConnectStatus>)>>(std::move(handler));
  auto connected = [](const core::PipeEndCore::IoResult&) { return ConnectStatus::kConnected; };
  auto started = end_->start_connect(completion<ConnectStatus>(ex, h, connected));
  if (!started.now) return {};
  if (started.now->error != errc::kPipeConnected) return started.now->error;
  (*ex)([h] { (*h)(ConnectStatus::kAlreadyConnected); });
  return {};
}

Result<ServerEnd> ServerEnd::create(Registry& registry, std::string_view name,
                                    const ServerOptions& options) {
  auto end = core::PipeEndCore::create_server(registry.engine(), name, options);
  if (!end) return end.error();
  return ServerEnd(std::move(*end));
}

Result<ConnectStatus> ServerEnd::connect() {
  if (!end_) return errc::kInvalidHandle;
  return end_->connect(std::nullopt);
}

Result<ConnectStatus> ServerEnd::connect_for(std::chrono::milliseconds timeout) {
  if (!end_) return errc::kInvalidHandle;
  return end_->connect(std::chrono::steady_clock::now() + timeout);
}

Result<void> ServerEnd::disconnect() {
  if (!end_) return errc::kInvalidHandle;
  return end_->disconnect();
}

Result<ClientEnd> ClientEnd::open(Registry& registry, std::string_view name,
                                  const ClientOptions& options) {
  auto end = core::PipeEndCore::open_client(registry.engine(), name, options);
  if (!end) return end.error();
  return ClientEnd(std::move(*end));
}

Result<void> wait_for_instance(Registry& registry, std::string_view name,
                               std::chrono::milliseconds timeout) {
  return core::PipeEndCore::wait_for_instance(registry.engine(), name, timeout);
}

Result<ReadResult> call(Registry& registry, std::string_view name,
                        std::span<const std::byte> request, std::span<std::byte> reply,
                        std::chrono::milliseconds timeout) {
  auto client = ClientEnd::open(registry, name);
  if (!client && client.error() == errc::kPipeBusy) {
    auto waited = wait_for_instance(registry, name, timeout);
    if (!waited) return waited.error();
    client = ClientEnd::open(registry, name);
  }
  if (!client) return client.error();
  if (auto mode = client->set_state(ReadMode::kMessage, WaitMode::kWait); !mode) return mode.error();
  return client->transact(request, reply);
}

}  // namespace sluice
