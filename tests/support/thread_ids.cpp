#include "thread_ids.hpp"

#include <fstream>
#include <sstream>
#include <string>

namespace sluice::testing {

KernelIds thread_ids() {
  KernelIds ids;
  std::ifstream status("/proc/thread-self/status");
  std::string line;
  while (std::getline(status, line)) {
    std::istringstream fields(line);
    std::string key;
    std::uint32_t real = 0;
    fields >> key;
    if (key == "Uid:") fields >> real >> ids.uid;
    if (key == "Gid:") fields >> real >> ids.gid;
    if (key == "Groups:") {
      std::uint32_t g = 0;
      while (fields >> g) ids.groups.push_back(g);
    }
  }
  return ids;
}

}  // namespace sluice::testing
