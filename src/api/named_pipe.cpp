#include "sluice/named_pipe.hpp"

#include <algorithm>
#include <charconv>
#include <optional>
#include <utility>

#include "api/engine_access.hpp"
#include "core/pipe_end_core.hpp"

namespace sluice {

namespace {

// The C++ API has one time-out code, kWaitTimeout (Event::wait's, Process::wait's); the core
// reports WaitNamedPipe's and ConnectNamedPipe's, which the Win32 layer keeps.
template <class T>
Result<T> one_timeout_code(Result<T> r) {
  if (!r && r.error() == errc::kSemTimeout) return errc::kWaitTimeout;
  return r;
}

}  // namespace

PortableEnd::PortableEnd(PortableEnd&& other) noexcept
    : description_(std::move(other.description_)), fds_(std::exchange(other.fds_, {})) {}

PortableEnd& PortableEnd::operator=(PortableEnd&& other) noexcept {
  if (this != &other) {
    for (int fd : fds_) os::close_fd(fd);
    description_ = std::move(other.description_);
    fds_ = std::exchange(other.fds_, {});
  }
  return *this;
}

PortableEnd::~PortableEnd() {
  for (int fd : fds_) os::close_fd(fd);
}

PortableEnd PortableEnd::from(std::string description, std::vector<int> descriptors) noexcept {
  PortableEnd end;
  end.description_ = std::move(description);
  end.fds_ = std::move(descriptors);
  return end;
}

std::vector<int> PortableEnd::release() noexcept { return std::exchange(fds_, {}); }

// "<description>/<fd>:<fd>:..."; a description is letters, digits and dots.
std::string PortableEnd::to_text() const {
  std::string text = description_ + "/";
  for (std::size_t i = 0; i < fds_.size(); ++i) text += (i ? ":" : "") + std::to_string(fds_[i]);
  return text;
}

Result<PortableEnd> PortableEnd::from_text(std::string_view text) {
  std::size_t slash = text.find('/');
  if (slash == std::string_view::npos) return errc::kInvalidParameter;
  std::vector<int> fds;
  for (std::string_view rest = text.substr(slash + 1); !rest.empty();) {
    std::size_t colon = std::min(rest.find(':'), rest.size());
    int fd = -1;
    auto [end, ec] = std::from_chars(rest.data(), rest.data() + colon, fd);
    if (ec != std::errc() || end != rest.data() + colon || fd < 0) return errc::kInvalidParameter;
    fds.push_back(fd);
    rest.remove_prefix(std::min(colon + 1, rest.size()));
  }
  return from(std::string(text.substr(0, slash)), std::move(fds));
}

Result<PortableEnd> PipeEnd::share() {
  if (!end_) return errc::kInvalidHandle;
  auto exported = end_->share();
  if (!exported) return exported.error();
  std::vector<int> fds;
  for (auto& fd : exported->fds) fds.push_back(fd.release());
  return PortableEnd::from(std::move(exported->description), std::move(fds));
}

namespace {
Result<std::shared_ptr<core::PipeEndCore>> adopt_end(Registry& registry, PortableEnd end,
                                                     bool server) {
  if (end.server_end() != server) return errc::kInvalidParameter;
  std::string description = end.description();
  std::vector<os::UniqueFd> fds;
  for (int fd : end.release()) fds.emplace_back(fd);
  return core::PipeEndCore::adopt(EngineAccess::engine(registry), description, std::move(fds));
}
}  // namespace

Result<ServerEnd> ServerEnd::adopt(Registry& registry, PortableEnd end) {
  auto core = adopt_end(registry, std::move(end), true);
  if (!core) return core.error();
  return ServerEnd(std::move(*core));
}

Result<ClientEnd> ClientEnd::adopt(Registry& registry, PortableEnd end) {
  auto core = adopt_end(registry, std::move(end), false);
  if (!core) return core.error();
  return ClientEnd(std::move(*core));
}

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

Result<ReadResult> PipeEnd::read_in_place(
    const std::function<void(std::span<const std::byte>)>& visit) {
  if (!end_) return errc::kInvalidHandle;
  if (!visit) return errc::kInvalidParameter;
  return end_->read({}, &visit);
}

Result<std::string> PipeEnd::read_string() {
  std::string text;
  auto got = read_in_place([&](std::span<const std::byte> piece) {
    text.append(reinterpret_cast<const char*>(piece.data()), piece.size());
  });
  if (!got) return got.error();
  return text;
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

Result<ProcessCredentials> PipeEnd::client_credentials() const {
  if (!end_) return errc::kInvalidHandle;
  auto who = end_->client_identity();
  if (!who) return who.error();
  return ProcessCredentials{who->pid, who->uid, who->gid, who->groups, who->qos};
}

Result<bool> PipeEnd::client_via_network() const {
  if (!end_) return errc::kInvalidHandle;
  auto who = end_->client_identity();
  if (!who) return who.error();
  return who->via_network;
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

Result<SecurityDescriptor> PipeEnd::security() const {
  if (!end_) return errc::kInvalidHandle;
  if (!end_->is_server()) return errc::kNotSupported;
  return end_->security();
}

Result<void> PipeEnd::set_security(const SecurityDescriptor& security) {
  if (!end_) return errc::kInvalidHandle;
  if (!end_->is_server()) return errc::kNotSupported;
  end_->set_security(security);
  return {};
}

namespace {

using IoResult = core::PipeEndCore::IoResult;

// Turns an engine start into the API contract: failed at once → the error, and the handler
// never runs; anything else → the handler runs once, through the executor. `immediate` maps an
// outcome that came at once (a success, or an error that means success, like kPipeConnected)
// to the value to hand over, or to nullopt when it is a failure to return.
template <class T, class Start, class Map, class Immediate>
Result<void> start_async(Start start, Executor executor, std::function<void(Result<T>)> handler,
                         Map map, Immediate immediate) {
  auto ex = std::make_shared<Executor>(std::move(executor));
  auto h = std::make_shared<std::function<void(Result<T>)>>(std::move(handler));
  auto started = start([ex, h, map](const IoResult& r) {
    Result<T> value = r.error ? Result<T>(r.error) : Result<T>(map(r));
    (*ex)([h, value] { (*h)(value); });
  });
  if (!started.now) return {};
  std::optional<T> value = immediate(*started.now);
  if (!value) return started.now->error;
  (*ex)([h, v = *value] { (*h)(v); });
  return {};
}

ReadResult read_result(const IoResult& r) { return {r.bytes, r.more_data}; }
std::size_t write_result(const IoResult& r) { return r.bytes; }

template <class Map>
auto success_or_error(Map map) {
  return [map](const IoResult& r) -> std::optional<decltype(map(r))> {
    if (r.error) return std::nullopt;
    return map(r);
  };
}

}  // namespace

Result<void> PipeEnd::async_read(std::span<std::byte> buffer, Executor executor,
                                 std::function<void(Result<ReadResult>)> handler) {
  if (!end_) return errc::kInvalidHandle;
  return start_async<ReadResult>(
      [&](auto done) { return end_->start_read(buffer, std::move(done)); }, std::move(executor),
      std::move(handler), read_result, success_or_error(read_result));
}

Result<void> PipeEnd::async_write(std::span<const std::byte> data, Executor executor,
                                  std::function<void(Result<std::size_t>)> handler) {
  if (!end_) return errc::kInvalidHandle;
  return start_async<std::size_t>(
      [&](auto done) { return end_->start_write(data, std::move(done)); }, std::move(executor),
      std::move(handler), write_result, success_or_error(write_result));
}

Result<void> PipeEnd::async_transact(std::span<const std::byte> request, std::span<std::byte> reply,
                                     Executor executor,
                                     std::function<void(Result<ReadResult>)> handler) {
  if (!end_) return errc::kInvalidHandle;
  return start_async<ReadResult>(
      [&](auto done) { return end_->start_transact(request, reply, std::move(done)); },
      std::move(executor), std::move(handler), read_result, success_or_error(read_result));
}

std::size_t PipeEnd::cancel() { return end_ ? end_->cancel() : 0; }

Result<void> ServerEnd::async_connect(Executor executor,
                                      std::function<void(Result<ConnectStatus>)> handler) {
  if (!end_) return errc::kInvalidHandle;
  return start_async<ConnectStatus>(
      [&](auto done) { return end_->start_connect(std::move(done)); }, std::move(executor),
      std::move(handler), [](const IoResult&) { return ConnectStatus::kConnected; },
      // A client that came first is good news (ERROR_PIPE_CONNECTED), not a failure.
      [](const IoResult& r) -> std::optional<ConnectStatus> {
        if (r.error == errc::kPipeConnected) return ConnectStatus::kAlreadyConnected;
        return std::nullopt;
      });
}

Result<ServerEnd> ServerEnd::create(Registry& registry, std::string_view name,
                                    const ServerOptions& options) {
  auto end = core::PipeEndCore::create_server(EngineAccess::engine(registry), name, options);
  if (!end) return end.error();
  return ServerEnd(std::move(*end));
}

Result<ConnectStatus> ServerEnd::connect() {
  if (!end_) return errc::kInvalidHandle;
  return end_->connect(std::nullopt);
}

Result<ConnectStatus> ServerEnd::connect_for(std::chrono::milliseconds timeout) {
  if (!end_) return errc::kInvalidHandle;
  return one_timeout_code(end_->connect(std::chrono::steady_clock::now() + timeout));
}

Result<void> ServerEnd::disconnect() {
  if (!end_) return errc::kInvalidHandle;
  return end_->disconnect();
}

Result<ClientEnd> ClientEnd::open(Registry& registry, std::string_view name,
                                  const ClientOptions& options) {
  auto end = core::PipeEndCore::open_client(EngineAccess::engine(registry), name, options);
  if (!end) return end.error();
  ClientEnd client(std::move(*end));
  if (options.read_mode != ReadMode::kByte) {
    if (auto mode = client.set_state(options.read_mode, WaitMode::kWait); !mode)
      return mode.error();  // the end closes: the server sees a client that came and went
  }
  return client;
}

Result<ClientEnd> ClientEnd::open_for(Registry& registry, std::string_view name,
                                      std::chrono::milliseconds timeout,
                                      const ClientOptions& options) {
  using Clock = std::chrono::steady_clock;
  if (timeout < std::chrono::milliseconds::zero()) return errc::kInvalidParameter;
  std::optional<Clock::time_point> deadline;
  if (timeout != kWaitForever) deadline = Clock::now() + timeout;
  auto left = [&] {
    if (!deadline) return kWaitForever;
    return std::max(std::chrono::milliseconds::zero(),
                    std::chrono::ceil<std::chrono::milliseconds>(*deadline - Clock::now()));
  };
  for (;;) {
    auto client = open(registry, name, options);
    if (client || (client.error() != errc::kPipeBusy && client.error() != errc::kFileNotFound))
      return client;
    if (left() == std::chrono::milliseconds::zero()) return errc::kWaitTimeout;
    // Busy: wait for an instance to listen. Not there yet: wait for the server to create it.
    // Either may be taken or go away by the time we open again; then we wait again. A wait that
    // times out leaves the verdict to the next look.
    auto waited = client.error() == errc::kPipeBusy
                      ? wait_for_instance(registry, name, left())
                      : one_timeout_code(core::PipeEndCore::wait_for_name(
                            EngineAccess::engine(registry), name, left()));
    if (!waited && waited.error() != errc::kFileNotFound && waited.error() != errc::kWaitTimeout)
      return waited.error();
  }
}

Result<void> cancel_synchronous_io(std::uint32_t thread_id) {
  if (!core::cancel_blocked_thread(thread_id)) return errc::kNotFound;
  return {};
}

Result<void> wait_for_instance(Registry& registry, std::string_view name,
                               std::chrono::milliseconds timeout) {
  return one_timeout_code(
      core::PipeEndCore::wait_for_instance(EngineAccess::engine(registry), name, timeout));
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
  if (auto mode = client->set_state(ReadMode::kMessage, WaitMode::kWait); !mode)
    return mode.error();
  return client->transact(request, reply);
}

}  // namespace sluice
