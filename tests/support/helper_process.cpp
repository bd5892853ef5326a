#include "helper_process.hpp"

#include "other_user.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <climits>
#include <cstring>
#include <map>

namespace sluice::testing {
namespace {

constexpr const char* kHelperFlag = "--sluice-helper";

std::map<std::string, HelperMain>& helpers() {
  static std::map<std::string, HelperMain> table;
  return table;
}

std::string self_path() {
  char buf[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n < 0) return {};
  return std::string(buf, static_cast<std::size_t>(n));
}

}  // namespace

bool register_helper(const char* name, HelperMain main) {
  helpers()[name] = std::move(main);
  return true;
}

Result<Process> spawn_helper(const std::string& name, const std::vector<std::string>& args,
                             SpawnOptions base) {
  base.argv = {self_path(), kHelperFlag, name};
  base.argv.insert(base.argv.end(), args.begin(), args.end());
  return Process::spawn(base);
}

bool run_helper_if_requested(int argc, char** argv, int* exit_code) {
  if (argc < 3 || std::strcmp(argv[1], kHelperFlag) != 0) return false;
  auto it = helpers().find(argv[2]);
  if (it == helpers().end()) {
    *exit_code = 127;
    return true;
  }
  *exit_code = it->second(std::vector<std::string>(argv + 3, argv + argc));
  return true;
}

}  // namespace sluice::testing

int main(int argc, char** argv) {
  int exit_code = 0;
  if (sluice::testing::run_helper_as_if_requested(argc, argv, &exit_code)) return exit_code;
  if (sluice::testing::run_helper_if_requested(argc, argv, &exit_code)) return exit_code;
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
