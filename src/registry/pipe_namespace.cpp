#include "registry/pipe_namespace.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "os/linux/directory.hpp"

namespace sluice::registry {
namespace {

constexpr std::uint64_t kExistsByte = 0;
constexpr std::uint64_t kCreationByte = 1;
constexpr std::uint64_t kFirstSlotByte = 16;
constexpr std::uint32_t kUnlimitedSlots = 65536;
constexpr unsigned kNameDirMode = 0755;
constexpr unsigned kFileMode = 0644;
constexpr const char* kDescriptor = "name";
constexpr const char* kLockFile = "lock";
constexpr const char* kDescriptorTag = "sluice-pipe 2";

std::string encode(const PipeAttributes& a) {
  std::ostringstream out;
  out << kDescriptorTag << '\n'
      << a.access << ' ' << a.type << ' ' << a.max_instances << ' ' << a.default_timeout_ms << '\n'
      << a.display << '\n'
      << a.security << '\n';
  return out.str();
}

bool decode(const std::string& text, PipeAttributes* a) {
  std::istringstream in(text);
  std::string tag;
  if (!std::getline(in, tag) || tag != kDescriptorTag) return false;
  if (!(in >> a->access >> a->type >> a->max_instances >> a->default_timeout_ms)) return false;
  in.ignore(1);
  return std::getline(in, a->display) && std::getline(in, a->security);
}

std::uint32_t slot_limit(std::uint32_t max_instances) {
  return max_instances >= 255 ? kUnlimitedSlots : max_instances;
}

}  // namespace

Result<PipeNamespace> PipeNamespace::open(std::string directory) {
  auto dir = os::open_directory(directory, 01777, true);
  if (!dir) return dir.error();
  auto safe = os::check_directory_is_safe(dir->get());
  if (!safe) return safe.error();
  PipeNamespace ns;
  ns.path_ = std::move(directory);
  ns.dir_ = std::move(*dir);
  return ns;
}

Result<InstanceSlot> PipeNamespace::create_instance(const PipeName& name,
                                                    const PipeAttributes& requested,
                                                    bool first_instance) {
  auto dir = os::open_subdirectory(dir_.get(), name.key, kNameDirMode, true);
  if (!dir) return dir.error();
  auto lock = os::open_file_at(dir->get(), kLockFile, kFileMode, true);
  if (!lock) return lock.error();
  auto descriptor = os::open_file_at(dir->get(), kDescriptor, kFileMode, true);
  if (!descriptor) return descriptor.error();

  auto locked = os::lock_byte(lock->get(), kCreationByte, true, true);
  if (!locked) return locked.error();
  struct Unlock {
    int fd;
    ~Unlock() { os::unlock_byte(fd, kCreationByte); }
  } unlock{lock->get()};

  InstanceSlot out;
  if (exists(dir->get())) {
    auto text = os::read_small_file(descriptor->get(), 4096);
    if (!text) return text.error();
    if (!decode(*text, &out.pipe)) return errc::kAccessDenied;
    // Hash collision with another name: refuse rather than join the wrong pipe.
    PipeName existing;
    if (parse_pipe_name(out.pipe.display, &existing) != NameProblem::kNone ||
        existing.folded != name.folded)
      return errc::kAccessDenied;
  } else {
    out.pipe = requested;
    out.pipe.display = name.display;
    out.created_name = true;
    auto written = os::rewrite_small_file(descriptor->get(), encode(out.pipe));
    if (!written) return written.error();
    for (const auto& stale : listeners(dir->get())) os::unlink_at(dir->get(), stale.file);
  }

  bool found = false;
  for (std::uint32_t slot = 0; slot < slot_limit(out.pipe.max_instances); ++slot) {
    auto got = os::lock_byte(lock->get(), kFirstSlotByte + slot, true, false);
    if (!got) return got.error();
    if (*got) {
      out.slot = slot;
      found = true;
      break;
    }
  }
  auto release_slot = [&] {
    if (found) os::unlock_byte(lock->get(), kFirstSlotByte + out.slot);
  };
  if (!found) return errc::kPipeBusy;
  bool name_exists = exists(dir->get());
  if (name_exists && first_instance) {
    release_slot();
    return errc::kAccessDenied;
  }
  if (name_exists && out.pipe.access != requested.access) {
    release_slot();
    return errc::kAccessDenied;
  }
  auto shared = os::lock_byte(lock->get(), kExistsByte, false, true);
  if (!shared) {
    release_slot();
    return shared.error();
  }
  out.name_dir = std::move(*dir);
  out.lock = std::move(*lock);
  return out;
}

Result<os::UniqueFd> PipeNamespace::open_existing(const PipeName& name,
                                                   PipeAttributes* attributes) {
  auto dir = os::open_subdirectory(dir_.get(), name.key, kNameDirMode, false);
  if (!dir) return errc::kFileNotFound;
  if (!exists(dir->get())) return errc::kFileNotFound;
  auto descriptor = os::open_file_at(dir->get(), kDescriptor, kFileMode, false);
  if (!descriptor) return errc::kFileNotFound;
  auto text = os::read_small_file(descriptor->get(), 4096);
  if (!text || !decode(*text, attributes)) return errc::kFileNotFound;
  PipeName existing;
  if (parse_pipe_name(attributes->display, &existing) != NameProblem::kNone ||
      existing.folded != name.folded)
    return errc::kFileNotFound;
  return std::move(*dir);
}

bool PipeNamespace::exists(int name_dir) {
  auto lock = os::open_file_at(name_dir, kLockFile, kFileMode, false);
  return lock && os::byte_is_locked(lock->get(), kExistsByte);
}

std::uint32_t PipeNamespace::count_instances(int name_dir) {
  auto lock = os::open_file_at(name_dir, kLockFile, kFileMode, false);
  if (!lock || !os::byte_is_locked(lock->get(), kExistsByte)) return 0;
  // Slots are taken lowest-first, so live instances are dense near 0; stop after a long gap.
  std::uint32_t count = 0;
  std::uint32_t gap = 0;
  for (std::uint32_t slot = 0; slot < kUnlimitedSlots && count < 255 && gap < 1024; ++slot) {
    if (os::byte_is_locked(lock->get(), kFirstSlotByte + slot)) {
      ++count;
      gap = 0;
    } else {
      ++gap;
    }
  }
  return count;
}

std::vector<ListenerEntry> PipeNamespace::listeners(int name_dir) {
  std::vector<ListenerEntry> out;
  auto names = os::list_directory(name_dir, "L");
  if (!names) return out;
  std::sort(names->begin(), names->end());
  for (auto& file : *names) {
    ListenerEntry e;
    unsigned long long ns = 0;
    if (std::sscanf(file.c_str(), "L%20llu-%u-%u-%u", &ns, &e.pid, &e.slot, &e.in_quota) != 4)
      continue;
    e.file = std::move(file);
    out.push_back(std::move(e));
  }
  return out;
}

std::string PipeNamespace::listener_name(std::uint32_t slot, std::uint32_t in_quota) {
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                std::chrono::steady_clock::now().time_since_epoch())
                .count();
  char buf[96];
  std::snprintf(buf, sizeof buf, "L%020lld-%u-%u-%u", static_cast<long long>(ns),
                os::current_process_id(), slot, in_quota);
  return buf;
}

Result<std::vector<std::string>> PipeNamespace::list() const {
  auto entries = os::list_directory(dir_.get(), "");
  if (!entries) return entries.error();
  std::vector<std::string> names;
  for (const auto& key : *entries) {
    auto dir = os::open_subdirectory(dir_.get(), key, kNameDirMode, false);
    if (!dir || !exists(dir->get())) continue;
    auto descriptor = os::open_file_at(dir->get(), kDescriptor, kFileMode, false);
    if (!descriptor) continue;
    auto text = os::read_small_file(descriptor->get(), 4096);
    PipeAttributes a;
    if (text && decode(*text, &a)) names.push_back(a.display);
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace sluice::registry
