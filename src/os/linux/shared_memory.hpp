// Sealed memfd segments: created and written by one process, read by its peer.
#pragma once

#include <cstddef>
#include <system_error>

#include "os/linux/unique_fd.hpp"
#include "sluice/result.hpp"

namespace sluice::os {

/// A mapping of a shared memory segment; unmapped on destruction. Move-only.
class Mapping {
 public:
  Mapping() noexcept = default;
  Mapping(void* address, std::size_t size) noexcept : address_(address), size_(size) {}
  Mapping(Mapping&& other) noexcept;
  Mapping& operator=(Mapping&& other) noexcept;
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  ~Mapping();

  void* address() const noexcept { return address_; }
  std::size_t size() const noexcept { return size_; }
  explicit operator bool() const noexcept { return address_ != nullptr; }
  void reset() noexcept;

 private:
  void* address_ = nullptr;
  std::size_t size_ = 0;
};

/// A segment this process produces: writable here, sealed so that nobody can resize it (a
/// peer-truncated memfd would SIGBUS every mapper). The peer only reads it.
struct OwnedSegment {
  UniqueFd fd;
  Mapping map;
};

/// Creates a zero-filled segment of `size` bytes, maps it read-write, then seals it
/// (SHRINK | GROW | SEAL).
Result<OwnedSegment> create_sealed_segment(const char* debug_name, std::size_t size);

/// Creates a zero-filled segment of `size` bytes that only its creator can grow: sealed against
/// shrinking (SHRINK | SEAL), never against growth, so that its producer can extend it while its
/// peer keeps its mappings (nothing a mapper touches can ever disappear). Maps the first
/// `mapped` bytes read-write.
Result<OwnedSegment> create_growable_segment(const char* debug_name, std::size_t size,
                                             std::size_t mapped);
/// A new read-only descriptor of the segment `fd` (close-on-exec): what its peer gets. Growable
/// segments are mode 0400, so a process of another user cannot open a writable one from it
/// (through /proc/self/fd) either.
Result<UniqueFd> read_only_descriptor(int fd);
/// Grows the segment `fd` to `size` bytes (a no-op if it is that large already).
Result<void> grow_segment(int fd, std::size_t size);
/// The current size of the segment `fd` (what the kernel says, whatever its producer claims).
Result<std::size_t> segment_size(int fd);
/// Checks that `fd` is a memfd sealed at least against shrinking, at least `offset + length`
/// bytes long, and maps [offset, offset + length) shared, writable or read-only. `offset` must be
/// a multiple of the page size. Errors: kBadPipe for anything that is not such a segment.
Result<Mapping> map_segment_range(int fd, std::size_t offset, std::size_t length, bool writable);

/// Allocates and maps the pages of [address, address + size) ahead of the writes that would
/// otherwise take a page fault each (several microseconds on the data path). Best effort.
void populate_for_write(void* address, std::size_t size) noexcept;
/// The same for a read-only mapping (the consumer's view of its peer's ring).
void populate_for_read(const void* address, std::size_t size) noexcept;

/// Maps `size` bytes of the regular file `fd` read-write and shared (state several processes
/// update in place, such as a named event's). Errors: kBadPipe unless the file is a regular file
/// of exactly `size` bytes (a shorter one would SIGBUS on access), else the mmap error.
Result<Mapping> map_shared_file(int fd, std::size_t size);

/// Checks that `fd` is a memfd sealed as create_sealed_segment does, whose size is between
/// `min_size` and `max_size`, and maps it read-write. Errors: kBadPipe for anything else.
Result<Mapping> map_shared_segment(int fd, std::size_t min_size, std::size_t max_size);

/// A new open file description of the file behind `fd` (close-on-exec), so that this process's
/// open-file-description locks on it exclude every other process's.
Result<UniqueFd> reopen_descriptor(int fd);
/// A close-on-exec duplicate of `fd` (the same open file description), numbered 3 or above.
Result<UniqueFd> duplicate_descriptor(int fd);

}  // namespace sluice::os
