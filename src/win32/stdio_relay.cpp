#include "stdio_relay.hpp"

namespace sluice::win32 {
namespace {

class NamedPipeRelayEnd final : public objects::RelayEnd {
 public:
  explicit NamedPipeRelayEnd(std::shared_ptr<Object> object) : object_(std::move(object)) {}

  Result<std::size_t> read(std::span<std::byte> buffer) override {
    auto got = end().read(buffer);  // more_data: the rest of the message comes next round
    if (!got) return got.error();
    return got->bytes;
  }
  Result<void> write(std::span<const std::byte> data) override {
    auto put = end().write(data);
    if (!put) return put.error();
    return {};
  }
  void cancel_read(std::uint32_t thread_id) noexcept override {
    (void)cancel_synchronous_io(thread_id);
  }
  const Object* object() const noexcept { return object_.get(); }

 private:
  PipeEnd& end() noexcept { return static_cast<NamedPipeObject&>(*object_).end(); }
  std::shared_ptr<Object> object_;
};

}  // namespace

Result<std::shared_ptr<objects::StdioRelay>> relay_for(std::shared_ptr<Object> end,
                                                       bool child_reads) {
  return objects::StdioRelay::create(std::make_shared<NamedPipeRelayEnd>(std::move(end)),
                                     child_reads);
}

bool relays_end(const objects::StdioRelay& relay, const Object* end) noexcept {
  // Every relay of this layer is made by relay_for().
  return static_cast<const NamedPipeRelayEnd*>(relay.end())->object() == end;
}

}  // namespace sluice::win32
