#include "other_user.hpp"

#include <grp.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <sstream>

namespace sluice::testing {
namespace {

constexpr const char* kHelperAsFlag = "--sluice-helper-as";

std::string encode(const TestUser& user) {
  std::string text = std::to_string(user.uid) + ":" + std::to_string(user.gid) + ":";
  for (std::size_t i = 0; i < user.groups.size(); ++i)
    text += (i ? "," : "") + std::to_string(user.groups[i]);
  return text;
}

bool decode(const std::string& text, TestUser* user) {
  unsigned uid = 0, gid = 0;
  int used = 0;
  if (std::sscanf(text.c_str(), "%u:%u:%n", &uid, &gid, &used) != 2 || used == 0) return false;
  user->uid = uid;
  user->gid = gid;
  std::istringstream rest(text.substr(static_cast<std::size_t>(used)));
  std::string group;
  while (std::getline(rest, group, ','))
    user->groups.push_back(static_cast<std::uint32_t>(std::stoul(group)));
  return true;
}

bool become(const TestUser& user) {
  std::vector<gid_t> groups(user.groups.begin(), user.groups.end());
  return ::setgroups(groups.size(), groups.data()) == 0 &&
         ::setresgid(user.gid, user.gid, user.gid) == 0 &&
         ::setresuid(user.uid, user.uid, user.uid) == 0;
}

// Whether another user may run the file at `path`: every directory on the way searchable by
// others and the file readable and executable by them.
bool others_may_run(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || (st.st_mode & 05) != 05) return false;
  for (auto slash = path.rfind('/'); slash != std::string::npos && slash > 0;
       slash = path.rfind('/', slash - 1)) {
    if (::stat(path.substr(0, slash).c_str(), &st) != 0 || (st.st_mode & 01) == 0) return false;
  }
  return true;
}

// This test binary, or a copy of it that other users may run (a clone under /root is not).
std::string binary_for_other_users() {
  static const std::string path = [] {
    std::error_code ec;
    auto self = std::filesystem::read_symlink("/proc/self/exe", ec).string();
    if (ec || others_may_run(self)) return self;
    char pattern[] = "/tmp/sluice-helper-XXXXXX";
    if (!::mkdtemp(pattern) || ::chmod(pattern, 0755) != 0) return self;
    std::string copy = std::string(pattern) + "/" + std::filesystem::path(self).filename().string();
    std::filesystem::copy_file(self, copy, ec);
    if (ec || ::chmod(copy.c_str(), 0755) != 0) return self;
    return copy;
  }();
  return path;
}

}  // namespace

Result<Process> spawn_helper_as(const TestUser& user, const std::string& name,
                                const std::vector<std::string>& args, SpawnOptions base) {
  base.argv = {binary_for_other_users(), "--sluice-helper", kHelperAsFlag, encode(user), name};
  base.argv.insert(base.argv.end(), args.begin(), args.end());
  return Process::spawn(base);
}

void share_with_other_users(const std::string& directory) {
  ASSERT_EQ(::chmod(directory.c_str(), 01777), 0) << std::strerror(errno);
}

void MultiUserPipeTest::SetUp() {
  PipeTest::SetUp();
  if (::geteuid() == 0) share_with_other_users(directory());
}

bool run_helper_as_if_requested(int argc, char** argv, int* exit_code) {
  // argv: self --sluice-helper --sluice-helper-as <user> <name> args...
  if (argc < 5 || std::strcmp(argv[2], kHelperAsFlag) != 0) return false;
  TestUser user;
  if (!decode(argv[3], &user) || !become(user)) {
    std::fprintf(stderr, "helper: cannot become %s: %s\n", argv[3], std::strerror(errno));
    *exit_code = 126;
    return true;
  }
  // What is left is an ordinary helper invocation: self --sluice-helper <name> args...
  argv[3] = argv[1];
  return run_helper_if_requested(argc - 2, argv + 2, exit_code);
}

}  // namespace sluice::testing
