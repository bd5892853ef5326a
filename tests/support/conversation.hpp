// A helper process with a line-based conversation: it says lines on stdout, and goes when its
// stdin closes (the test's "go away"), so a failed assertion never leaves it running.
//
//   SLUICE_TEST_HELPER(hold) { ...; return say_and_wait("ok"); }
//   Conversation server(std::nullopt, "hold", {args});   // or a TestUser: runs as that user
//   ASSERT_EQ(server.line(), "ok");
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "helper_process.hpp"
#include "other_user.hpp"

namespace sluice::testing {

/// In a helper: says `line` on stdout, then waits for stdin to close. Returns 0.
inline int say_and_wait(const std::string& line) {
  std::string out = line + "\n";
  if (::write(1, out.data(), out.size()) < 0) return 90;
  char b;
  while (::read(0, &b, 1) > 0) {
  }
  return 0;
}

class Conversation {
 public:
  /// Starts helper `helper` with `args`, as `user` when given (root only), else as this user.
  Conversation(const std::optional<TestUser>& user, const std::string& helper,
               const std::vector<std::string>& args) {
    int in[2], out[2];
    EXPECT_EQ(::pipe2(in, O_CLOEXEC), 0);
    EXPECT_EQ(::pipe2(out, O_CLOEXEC), 0);
    SpawnOptions options;
    options.stdin_fd = in[0];
    options.stdout_fd = out[1];
    auto child =
        user ? spawn_helper_as(*user, helper, args, options) : spawn_helper(helper, args, options);
    ::close(in[0]);
    ::close(out[1]);
    to_child_ = in[1];
    from_child_ = out[0];
    EXPECT_TRUE(child) << child.error().message();
    if (child) child_.emplace(std::move(*child));
  }
  Conversation(const TestUser& user, const std::string& helper,
               const std::vector<std::string>& args)
      : Conversation(std::optional<TestUser>(user), helper, args) {}
  ~Conversation() {
    release();
    if (child_ && !child_->wait(std::chrono::seconds(5))) {
      (void)child_->kill();
      (void)child_->wait(std::chrono::seconds(5));
    }
    ::close(from_child_);
  }
  Conversation(const Conversation&) = delete;
  Conversation& operator=(const Conversation&) = delete;

  /// The helper's next line (empty after `patience` of silence).
  std::string line(std::chrono::milliseconds patience = std::chrono::seconds(10)) {
    std::string text;
    auto deadline = std::chrono::steady_clock::now() + patience;
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{from_child_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      char c;
      if (::read(from_child_, &c, 1) != 1 || c == '\n') break;
      text += c;
    }
    return text;
  }
  /// Every line up to one that says "end".
  std::vector<std::string> lines_to_end() {
    std::vector<std::string> out;
    for (std::string l = line(); !l.empty() && l != "end"; l = line()) out.push_back(l);
    return out;
  }
  /// Tells the helper to go.
  void release() {
    if (to_child_ >= 0) ::close(to_child_);
    to_child_ = -1;
  }
  /// SIGKILL; reaps it when `reap`.
  void kill(bool reap = false) {
    (void)child_->kill();
    if (reap) (void)child_->wait(std::chrono::seconds(5));
  }
  std::uint32_t pid() const { return child_ ? child_->pid() : 0; }
  int exit_code() { return child_->wait(std::chrono::seconds(10)).value_or(-1); }

 private:
  std::optional<Process> child_;
  int to_child_ = -1;
  int from_child_ = -1;
};

}  // namespace sluice::testing
