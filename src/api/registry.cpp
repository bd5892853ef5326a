#include "sluice/registry.hpp"

#include <cstdlib>

#include "core/engine.hpp"
#include "os/linux/directory.hpp"
#include "os/linux/file.hpp"
#include "os/linux/held_wakes.hpp"
#include "os/linux/shared_memory.hpp"

namespace sluice {
namespace {

// The machine namespace: root's, on a filesystem systemd's PrivateTmp does not hide.
constexpr const char* kMachineDirectory = "/run/sluice";

// Where a user's pipes go when there is no machine namespace: their runtime directory, else a
// folder of their own in /tmp (refused if someone else made it first).
std::string private_directory() {
  const char* runtime = std::getenv("XDG_RUNTIME_DIR");
  if (runtime && *runtime == '/') return std::string(runtime) + "/sluice";
  return "/tmp/sluice-" + std::to_string(os::current_user_id());
}

}  // namespace

Result<Registry> Registry::open(std::string directory) {
  NamespaceScope scope = NamespaceScope::kPrivate;
  unsigned create_mode = registry::PipeNamespace::kSharedMode;
  if (directory.empty()) {
    const char* env = std::getenv("SLUICE_PIPE_DIR");
    if (env && *env) {
      directory = env;
    } else if (os::current_user_id() == 0 || os::directory_exists(kMachineDirectory)) {
      // Only root creates the machine namespace: a directory a user made would be that user's
      // to empty (docs/security.md).
      directory = kMachineDirectory;
      scope = NamespaceScope::kMachine;
      if (os::current_user_id() != 0) create_mode = 0;
    } else {
      directory = private_directory();
      create_mode = registry::PipeNamespace::kPrivateMode;
    }
  }
  auto engine = core::Engine::create(std::move(directory), create_mode);
  if (!engine) return engine.error();
  return Registry(std::move(*engine), scope);
}

Registry::Registry(std::shared_ptr<core::Engine> engine, NamespaceScope scope)
    : engine_(std::move(engine)), scope_(scope) {}
Registry::Registry(Registry&&) noexcept = default;
Registry& Registry::operator=(Registry&&) noexcept = default;
Registry::~Registry() = default;

const std::string& Registry::directory() const noexcept { return engine_->names().path(); }

Result<std::vector<std::string>> Registry::list() const { return engine_->names().list(); }

Result<std::vector<ListedPipe>> Registry::list_pipes() const {
  auto listed = engine_->names().list_pipes();
  if (!listed) return listed.error();
  std::vector<ListedPipe> pipes;
  pipes.reserve(listed->size());
  for (auto& p : *listed) pipes.push_back({std::move(p.display), p.instances, p.max_instances});
  return pipes;
}

RegistryEvents Registry::events() const { return RegistryEvents(engine_); }

RegistryEvents::RegistryEvents(std::shared_ptr<core::Engine> engine) : engine_(std::move(engine)) {}

int RegistryEvents::descriptor() const noexcept { return engine_->ready_descriptor(); }

int RegistryEvents::duplicate_descriptor() const noexcept {
  auto copy = os::duplicate_descriptor(engine_->ready_descriptor());
  return copy ? copy->release() : -1;
}

void RegistryEvents::close_descriptor(int descriptor) noexcept { os::close_fd(descriptor); }

bool RegistryEvents::hold_wakes() noexcept { return os::hold_wakes(true); }

void RegistryEvents::release_wakes() noexcept { (void)os::hold_wakes(false); }

std::size_t RegistryEvents::serve() {
  std::size_t handled = 0;
  engine_->drive(0, &handled);
  return handled;
}

}  // namespace sluice
