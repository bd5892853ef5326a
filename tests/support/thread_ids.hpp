// The calling thread's credentials as the kernel has them, for impersonation tests: read from
// /proc/thread-self/status, never from the bookkeeping under test.
#pragma once

#include <cstdint>
#include <vector>

namespace sluice::testing {

/// Effective uid and gid (the second field of "Uid:" and "Gid:") and supplementary groups.
struct KernelIds {
  std::uint32_t uid = ~0u;
  std::uint32_t gid = ~0u;
  std::vector<std::uint32_t> groups;
  friend bool operator==(const KernelIds&, const KernelIds&) = default;
};

/// The calling thread's ids now.
KernelIds thread_ids();

}  // namespace sluice::testing
