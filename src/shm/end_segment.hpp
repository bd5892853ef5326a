// The end segment: the state of one pipe end that every process holding the end must see alike,
// once the end is held by more than one process ("shared mode", docs/architecture.md).
//
// It is made when an end first leaves its process (inheritance, DuplicateHandle) and is mapped
// read-write by every holder, never by the peer. Its one page holds:
//
//   offset 0   magic, version                                   (immutable)
//              holders: processes that hold the end (each close of the last local handle
//                       subtracts one; only the last publishes the end's close to the peer)
//              read_mode, wait_mode: the handle state every holder sees
//              fragment_offset: bytes of the head fragment of the peer's ring already read
//
// The end lock is an open-file-description lock on byte 0 of the segment, taken by each holder
// through a description of its own: the kernel releases it when a holder dies, and a holder
// cannot corrupt it. Every value is validated where it is used.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace sluice::shm {

inline constexpr std::uint32_t kEndSegmentMagic = 0x534C5545;  // "SLUE"
inline constexpr std::uint32_t kEndSegmentVersion = 1;
inline constexpr std::size_t kEndSegmentSize = 4096;

struct EndSegment {
  std::uint32_t magic;
  std::uint32_t version;
  std::atomic<std::uint32_t> holders;
  std::atomic<std::uint32_t> read_mode;
  std::atomic<std::uint32_t> wait_mode;
  std::atomic<std::uint32_t> fragment_offset;
};

static_assert(sizeof(EndSegment) <= kEndSegmentSize);
static_assert(std::atomic<std::uint32_t>::is_always_lock_free);

}  // namespace sluice::shm
