// sluice-bench — memory and descriptor counts of a process, from /proc.
#include "proc_stats.hpp"

#include <dirent.h>
#include <sys/resource.h>

#include <fstream>
#include <sstream>
#include <string>

#include "transport.hpp"

namespace sluice::bench {

ProcStats read_proc_stats(pid_t pid) {
  const std::string dir = pid == 0 ? "/proc/self" : "/proc/" + std::to_string(pid);
  ProcStats stats;
  std::ifstream rollup(dir + "/smaps_rollup");
  if (!rollup) throw BenchError("cannot read " + dir + "/smaps_rollup");
  for (std::string line; std::getline(rollup, line);) {
    std::istringstream fields(line);
    std::string key;
    std::int64_t kib = 0;
    fields >> key >> kib;
    if (key == "Rss:") stats.rss_kib = kib;
    if (key == "Pss:") stats.pss_kib = kib;
  }
  DIR* fds = ::opendir((dir + "/fd").c_str());
  if (fds == nullptr) throw_errno("opendir " + dir + "/fd");
  while (const dirent* entry = ::readdir(fds)) {
    if (entry->d_name[0] != '.') ++stats.fds;
  }
  ::closedir(fds);
  if (pid == 0) --stats.fds;  // opendir's own descriptor
  return stats;
}

std::uint64_t raise_fd_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) throw_errno("getrlimit(RLIMIT_NOFILE)");
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) throw_errno("setrlimit(RLIMIT_NOFILE)");
  }
  return limit.rlim_cur;
}

}  // namespace sluice::bench
