#include "os/linux/shared_memory.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <utility>

#include "os/linux/errno_map.hpp"

namespace sluice::os {
namespace {
// No F_SEAL_FUTURE_WRITE: a process that inherits or is sent an end must map that end's segment
// writable. A peer can therefore write into our segment, but only into what the peer itself
// reads (our ring, our counters of its ring, our waiter flags); nothing in it steers this process
// without validation. Size seals stay: a truncated memfd would SIGBUS every mapper.
constexpr int kSeals = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL;
// A growable segment: growth never takes anything from a mapper, shrinking would.
constexpr int kGrowableSeals = F_SEAL_SHRINK | F_SEAL_SEAL;
}  // namespace

Mapping::Mapping(Mapping&& other) noexcept
    : address_(std::exchange(other.address_, nullptr)), size_(std::exchange(other.size_, 0)) {}

Mapping& Mapping::operator=(Mapping&& other) noexcept {
  if (this != &other) {
    reset();
    address_ = std::exchange(other.address_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

Mapping::~Mapping() { reset(); }

void Mapping::reset() noexcept {
  if (address_) ::munmap(address_, size_);
  address_ = nullptr;
  size_ = 0;
}

namespace {
Result<OwnedSegment> create_segment(const char* debug_name, std::size_t size, std::size_t mapped,
                                    int seals) {
  UniqueFd fd(::memfd_create(debug_name, MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!fd) return last_errno();
  if (::ftruncate(fd.get(), static_cast<off_t>(size)) != 0) return last_errno();
  void* address = ::mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
  if (address == MAP_FAILED) return last_errno();
  Mapping map(address, mapped);
  if (::fcntl(fd.get(), F_ADD_SEALS, seals) != 0) return last_errno();
  return OwnedSegment{std::move(fd), std::move(map)};
}
}  // namespace

Result<OwnedSegment> create_sealed_segment(const char* debug_name, std::size_t size) {
  return create_segment(debug_name, size, size, kSeals);
}

Result<OwnedSegment> create_growable_segment(const char* debug_name, std::size_t size,
                                             std::size_t mapped) {
  auto segment = create_segment(debug_name, size, mapped, kGrowableSeals);
  // A memfd is created mode 0777: anyone holding a descriptor of it could open a writable one
  // through /proc/self/fd. Its producer keeps the writable descriptor it has.
  if (segment && ::fchmod(segment->fd.get(), 0400) != 0) return last_errno();
  return segment;
}

Result<UniqueFd> read_only_descriptor(int fd) {
  std::string path = "/proc/self/fd/" + std::to_string(fd);
  UniqueFd reopened(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!reopened) return last_errno();
  return reopened;
}

Result<void> grow_segment(int fd, std::size_t size) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return last_errno();
  if (static_cast<std::size_t>(st.st_size) >= size) return {};
  if (::ftruncate(fd, static_cast<off_t>(size)) != 0) return last_errno();
  return {};
}

Result<std::size_t> segment_size(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return last_errno();
  return static_cast<std::size_t>(st.st_size);
}

Result<Mapping> map_segment_range(int fd, std::size_t offset, std::size_t length, bool writable) {
  int seals = ::fcntl(fd, F_GET_SEALS);
  if (seals < 0 || (seals & kGrowableSeals) != kGrowableSeals) return errc::kBadPipe;
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return errc::kBadPipe;
  if (length == 0 || offset % 4096 != 0 || offset + length < offset ||
      static_cast<std::size_t>(st.st_size) < offset + length)
    return errc::kBadPipe;
  int protection = writable ? PROT_READ | PROT_WRITE : PROT_READ;
  void* address = ::mmap(nullptr, length, protection, MAP_SHARED, fd, static_cast<off_t>(offset));
  if (address == MAP_FAILED) return last_errno();
  return Mapping(address, length);
}

void populate_for_write(void* address, std::size_t size) noexcept {
#ifndef MADV_POPULATE_WRITE
  constexpr int MADV_POPULATE_WRITE = 23;  // Linux 5.14; older kernels refuse it, and that is fine
#endif
  ::madvise(address, size, MADV_POPULATE_WRITE);
}

void populate_for_read(const void* address, std::size_t size) noexcept {
#ifndef MADV_POPULATE_READ
  constexpr int MADV_POPULATE_READ = 22;
#endif
  ::madvise(const_cast<void*>(address), size, MADV_POPULATE_READ);
}

Result<Mapping> map_shared_file(int fd, std::size_t size) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return last_errno();
  if (!S_ISREG(st.st_mode) || static_cast<std::size_t>(st.st_size) != size) return errc::kBadPipe;
  void* address = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (address == MAP_FAILED) return last_errno();
  return Mapping(address, size);
}

namespace {
Result<Mapping> map_checked(int fd, std::size_t min_size, std::size_t max_size, int protection) {
  int seals = ::fcntl(fd, F_GET_SEALS);
  if (seals < 0 || (seals & kSeals) != kSeals) return errc::kBadPipe;
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return errc::kBadPipe;
  auto size = static_cast<std::size_t>(st.st_size);
  if (size < min_size || size > max_size) return errc::kBadPipe;
  void* address = ::mmap(nullptr, size, protection, MAP_SHARED, fd, 0);
  if (address == MAP_FAILED) return last_errno();
  return Mapping(address, size);
}
}  // namespace

Result<Mapping> map_shared_segment(int fd, std::size_t min_size, std::size_t max_size) {
  return map_checked(fd, min_size, max_size, PROT_READ | PROT_WRITE);
}

Result<UniqueFd> reopen_descriptor(int fd) {
  // A new open file description of the same file: locks taken through it are this process's
  // own, even where the original description is shared with other processes.
  std::string path = "/proc/self/fd/" + std::to_string(fd);
  UniqueFd reopened(::open(path.c_str(), O_RDWR | O_CLOEXEC));
  if (!reopened) return last_errno();
  return reopened;
}

Result<UniqueFd> duplicate_descriptor(int fd) {
  UniqueFd copy(::fcntl(fd, F_DUPFD_CLOEXEC, 3));
  if (!copy) return last_errno();
  return copy;
}

}  // namespace sluice::os
