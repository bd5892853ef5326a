// sluice-bench — memory and descriptor counts of a process, from /proc.
#pragma once

#include <sys/types.h>

#include <cstdint>

namespace sluice::bench {

struct ProcStats {
  std::int64_t rss_kib = 0;  // Rss: of /proc/<pid>/smaps_rollup
  std::int64_t pss_kib = 0;  // Pss: shared pages divided among the processes mapping them
  std::int64_t fds = 0;      // entries of /proc/<pid>/fd
};

/// Reads `pid`'s figures (0: this process); throws BenchError when /proc cannot be read.
ProcStats read_proc_stats(pid_t pid);

/// Raises RLIMIT_NOFILE's soft limit to the hard limit; returns the new soft limit.
std::uint64_t raise_fd_limit();

}  // namespace sluice::bench
