// Multi-process tests: the test binary re-executes itself as a helper process.
//
//   SLUICE_TEST_HELPER(echo_server) { ...; return 0; }   // at namespace scope in a _test.cpp
//   auto child = spawn_helper("echo_server", {"arg1"});  // runs it in a fresh process
//   EXPECT_EQ(child->wait(5s).value(), 0);
//
// Helpers run before GoogleTest starts, with argv after the helper name in `args`.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "sluice/process.hpp"

namespace sluice::testing {

using HelperMain = std::function<int(const std::vector<std::string>& args)>;

/// Registers a helper entry point (use SLUICE_TEST_HELPER).
bool register_helper(const char* name, HelperMain main);

/// Starts this test binary again as helper `name` with `args`; stdio as given in `base`
/// (argv is filled in).
Result<Process> spawn_helper(const std::string& name, const std::vector<std::string>& args = {},
                             SpawnOptions base = {});

/// Kills and reaps a child when the scope ends (a failed ASSERT must not leave a helper running:
/// it would hold the test's output open and stall ctest until its time-out).
class KillOnExit {
 public:
  explicit KillOnExit(Process& child) : child_(child) {}
  ~KillOnExit() {
    (void)child_.kill();
    (void)child_.wait(std::chrono::seconds(5));
  }
  KillOnExit(const KillOnExit&) = delete;
  KillOnExit& operator=(const KillOnExit&) = delete;

 private:
  Process& child_;
};

/// Runs the helper named in argv if there is one; returns true (and sets *exit_code) if it did.
bool run_helper_if_requested(int argc, char** argv, int* exit_code);

}  // namespace sluice::testing

#define SLUICE_TEST_HELPER(name)                                         \
  static int sluice_helper_##name(const std::vector<std::string>& args); \
  [[maybe_unused]] static const bool sluice_helper_registered_##name =   \
      ::sluice::testing::register_helper(#name, sluice_helper_##name);   \
  static int sluice_helper_##name([[maybe_unused]] const std::vector<std::string>& args)
