#include "sluice/registry.hpp"

#include <cstdlib>

#include "core/engine.hpp"
#include "os/linux/held_wakes.hpp"

namespace sluice {
namespace {
constexpr const char* kDefaultDirectory = "/tmp/sluice-pipes";
}

Result<Registry> Registry::open(std::string directory) {
  if (directory.empty()) {
    const char* env = std::getenv("SLUICE_PIPE_DIR");
    directory = env && *env ? env : kDefaultDirectory;
  }
  auto engine = core::Engine::create(std::move(directory));
  if (!engine) return engine.error();
  return Registry(std::move(*engine));
}

Registry::Registry(std::shared_ptr<core::Engine> engine) : engine_(std::move(engine)) {}
Registry::Registry(Registry&&) noexcept = default;
Registry& Registry::operator=(Registry&&) noexcept = default;
Registry::~Registry() = default;

const std::string& Registry::directory() const noexcept { return engine_->names().path(); }

Result<std::vector<std::string>> Registry::list() const { return engine_->names().list(); }

RegistryEvents Registry::events() const { return RegistryEvents(engine_); }

RegistryEvents::RegistryEvents(std::shared_ptr<core::Engine> engine) : engine_(std::move(engine)) {}

int RegistryEvents::descriptor() const noexcept { return engine_->ready_descriptor(); }

bool RegistryEvents::hold_wakes() noexcept { return os::hold_wakes(true); }

void RegistryEvents::release_wakes() noexcept { (void)os::hold_wakes(false); }

std::size_t RegistryEvents::serve() {
  std::size_t handled = 0;
  engine_->drive(0, &handled);
  return handled;
}

}  // namespace sluice
