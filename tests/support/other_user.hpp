// Multi-user tests: helper processes that run as other users, against a namespace they share.
//
//   class Users : public MultiUserPipeTest {};                  // a namespace they share
//   SLUICE_SKIP_UNLESS_ROOT();                                  // in each test; says why
//   auto child = spawn_helper_as(kAlice, "open_as_client", {directory(), name});
//
// The helper switches its whole process (glibc's setgroups, setresgid, setresuid) before its
// body runs, so everything it does is that user's doing, as a hostile local user's would be.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <string>
#include <vector>

#include "helper_process.hpp"
#include "pipe_fixture.hpp"

namespace sluice::testing {

/// A user for helpers: ids need no entry in /etc/passwd.
struct TestUser {
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
  std::vector<std::uint32_t> groups;  ///< supplementary groups
};

inline const TestUser kAlice{1001, 1001, {}};
inline const TestUser kBob{1002, 1002, {}};
/// A group that tests grant or deny, and Carol, a member of it.
inline constexpr std::uint32_t kStaffGroup = 1500;
inline const TestUser kCarol{1003, 1003, {kStaffGroup}};

/// Starts helper `name` as `user`.
Result<Process> spawn_helper_as(const TestUser& user, const std::string& name,
                                const std::vector<std::string>& args = {}, SpawnOptions base = {});

/// Makes a test's private namespace usable by other users: root-owned, sticky, world-writable
/// (what the machine namespace is), with the path to it searchable.
void share_with_other_users(const std::string& directory);

/// A PipeTest whose namespace other users can reach when the test runs as root (it cannot
/// switch users otherwise, and skips with SLUICE_SKIP_UNLESS_ROOT).
class MultiUserPipeTest : public PipeTest {
 protected:
  void SetUp() override;
};

/// Runs a helper `spawn_helper_as` started; returns true (and sets *exit_code) if argv asks.
bool run_helper_as_if_requested(int argc, char** argv, int* exit_code);

}  // namespace sluice::testing

#define SLUICE_SKIP_UNLESS_ROOT()                                                           \
  do {                                                                                      \
    if (::geteuid() != 0)                                                                   \
      GTEST_SKIP() << "needs root to run helpers as other users (uids 1001-1003); CI runs " \
                      "as root";                                                            \
  } while (0)
