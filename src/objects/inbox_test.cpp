// The inbox (inbox.hpp): dispatch by kind, the peer checks, and hostile senders, against this
// process's own inbox and helpers of other users.
#include "objects/inbox.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "helper_process.hpp"
#include "os/linux/unix_socket.hpp"
#include "other_user.hpp"

namespace sluice::objects {
namespace {

using namespace std::chrono_literals;

std::atomic<int> g_counted{0};

// Kinds for these tests: "t-echo" answers "<body>/<descriptor count>"; "t-count" counts.
void register_test_handlers() {
  register_inbox_handler("t-echo", [](InboxMessage& m) -> InboxReply {
    for (const auto& fd : m.fds)
      if (!fd) return Result<std::string>(errc::kInvalidHandle);
    return Result<std::string>(std::string(m.body) + "/" + std::to_string(m.fds.size()));
  });
  register_inbox_handler("t-count", [](InboxMessage&) -> InboxReply {
    ++g_counted;
    return Result<std::string>(std::string("counted"));
  });
}

std::string own_inbox() { return "sluice-win32-handles-" + std::to_string(::getpid()); }

std::size_t open_descriptors() {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

// Sends `text` with `fds` on a raw connection to `inbox` (no checks of ours) and returns the
// answer, "" on a hang-up.
std::string raw_request(const std::string& inbox, const std::string& text,
                        const std::vector<int>& fds = {}) {
  auto socket = os::connect_abstract(inbox);
  if (!socket) return "<no inbox>";
  msghdr msg{};
  iovec iov{const_cast<char*>(text.data()), text.size()};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  std::vector<char> control(CMSG_SPACE(sizeof(int) * fds.size()));
  if (!fds.empty()) {
    msg.msg_control = control.data();
    msg.msg_controllen = control.size();
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
  }
  if (::sendmsg(socket->get(), &msg, MSG_NOSIGNAL) < 0) return "<send failed>";
  if (!os::socket_wait_readable(socket->get(), 10s)) return "<no answer>";
  char buffer[256];
  ssize_t n = ::recv(socket->get(), buffer, sizeof buffer, 0);
  return n <= 0 ? "" : std::string(buffer, static_cast<std::size_t>(n));
}

// As another user: sends a "t-count" message with a descriptor straight to process args[0]'s
// inbox, skipping the sender's own checks, as a hostile process would. It must be refused.
SLUICE_TEST_HELPER(inbox_foreign_sender) {
  int fds[2];
  if (::pipe(fds) != 0) return 10;
  std::string answer = raw_request("sluice-win32-handles-" + args.at(0), "t-count:x", {fds[0]});
  if (answer != "err " + std::to_string(static_cast<int>(errc::kAccessDenied))) return 11;
  // And through send_to_inbox: refused before anything is sent.
  auto sent = request_from_inbox(static_cast<std::uint32_t>(std::stoul(args.at(0))), "t-count", "x",
                                 {}, 1s, 5s);
  if (sent || sent.error() != errc::kAccessDenied) return 12;
  return 0;
}

TEST(Inbox, AMessageReachesTheHandlerOfItsKindWithItsDescriptors) {
  register_test_handlers();
  ASSERT_TRUE(start_inbox());
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  auto reply = request_from_inbox(static_cast<std::uint32_t>(::getpid()), "t-echo", "a:b|c",
                                  {fds[0], fds[1]}, 5s, 10s);
  ::close(fds[0]);
  ::close(fds[1]);
  ASSERT_TRUE(reply) << reply.error().message();
  EXPECT_EQ(*reply, "a:b|c/2");  // the kind ends at the first ':'
}

TEST(Inbox, AKindNobodyRegisteredIsAnsweredNotSupported) {
  ASSERT_TRUE(start_inbox());
  auto reply =
      request_from_inbox(static_cast<std::uint32_t>(::getpid()), "t-nobody", "x", {}, 5s, 10s);
  ASSERT_FALSE(reply);
  EXPECT_EQ(reply.error(), errc::kNotSupported);
}

// Whatever a sender of our own user sends, the inbox keeps no descriptor of it, answers what
// it can, and serves the next message.
TEST(Inbox, GarbageAndTooManyDescriptorsAreRefusedAndLeakNothing) {
  register_test_handlers();
  ASSERT_TRUE(start_inbox());
  const std::string refused = "err " + std::to_string(static_cast<int>(errc::kInvalidParameter));
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const std::size_t before = open_descriptors();

  EXPECT_EQ(raw_request(own_inbox(), "no kind here", {fds[0]}), refused);
  EXPECT_EQ(raw_request(own_inbox(), std::string("\0\xff\x01:", 4), {fds[0]}),
            "err " + std::to_string(static_cast<int>(errc::kNotSupported)));
  // More descriptors than a message carries (os::kMaxPassedFds): refused whole.
  std::vector<int> many(3 * os::kMaxPassedFds, fds[0]);
  EXPECT_EQ(raw_request(own_inbox(), "t-echo:many", many), refused);
  EXPECT_EQ(g_counted.load(), 0);
  {
    auto silent = os::connect_abstract(own_inbox());  // connects, says nothing, hangs up
    ASSERT_TRUE(silent);
  }
  // The next message is served; the inbox serves one at a time, so the ones before are done.
  EXPECT_EQ(raw_request(own_inbox(), "t-echo:after", {fds[1]}), "ok after/1");
  // The inbox closes that message's connection and descriptor just after it answers: wait for
  // that (a leak stays a leak past the deadline), as PipeTest's leak check does.
  auto deadline = std::chrono::steady_clock::now() + 2s;
  std::size_t open = open_descriptors();
  while (open != before && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
    open = open_descriptors();
  }
  EXPECT_EQ(open, before);
  ::close(fds[0]);
  ::close(fds[1]);
}

// Windows asks for PROCESS_DUP_HANDLE on the target; here the inbox takes its own user's and
// root's messages only, and refuses another user's before reading a byte.
// With every descriptor in use, connects to its own inbox (with the one it frees for that) and
// reports through its exit code whether the inbox refused the connection (0) or kept failing
// to accept it, burning the CPU (3), or neither (2).
SLUICE_TEST_HELPER(inbox_out_of_descriptors) {
  if (!start_inbox()) return 10;
  rlimit limit{};
  ::getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_cur = std::min<rlim_t>(limit.rlim_cur, 256);
  if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) return 11;
  int last = ::open("/dev/null", O_RDONLY);
  for (int fd; last >= 0 && (fd = ::dup(last)) >= 0;) last = fd;
  if (last < 0) return 12;
  ::close(last);
  auto socket = os::connect_abstract("sluice-win32-handles-" + std::to_string(::getpid()));
  if (!socket) return 13;
  rusage before{}, after{};
  ::getrusage(RUSAGE_SELF, &before);
  // The verdict: a hang-up on our connection within the bound, and the CPU time meanwhile.
  bool refused = os::socket_wait_readable(socket->get(), 5s);
  char byte;
  refused = refused && ::recv(socket->get(), &byte, 1, MSG_DONTWAIT) == 0;
  // Time for a spinning inbox to show: this thread sleeps, so CPU time now is the inbox's.
  std::this_thread::sleep_for(300ms);
  ::getrusage(RUSAGE_SELF, &after);
  auto cpu_ms = [](const rusage& r) {
    return (r.ru_utime.tv_sec + r.ru_stime.tv_sec) * 1000 +
           (r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1000;
  };
  if (cpu_ms(after) - cpu_ms(before) > 150) return 3;
  return refused ? 0 : 2;
}

// Failed before (exit 3): accept failed with EMFILE and the listener stayed readable, so the
// inbox thread woke, failed and woke again without end.
TEST(Inbox, OutOfDescriptorsAConnectionIsRefusedInsteadOfSpinningTheInbox) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  // The sanitizers' runtime needs descriptors of its own (UBSan's vptr check opens a pipe to
  // probe memory), so a process out of them fails inside the runtime, not in sluice.
  GTEST_SKIP() << "needs a process without descriptors to spare: not under a sanitizer";
#endif
  auto child = testing::spawn_helper("inbox_out_of_descriptors");
  ASSERT_TRUE(child) << child.error().message();
  testing::KillOnExit kill(*child);
  EXPECT_EQ(child->wait(20s).value_or(-1), 0);
}

TEST(Inbox, AProcessOfAnotherUserCannotSendIntoOurInbox) {
  SLUICE_SKIP_UNLESS_ROOT();
  register_test_handlers();
  ASSERT_TRUE(start_inbox());
  auto child = testing::spawn_helper_as(testing::kAlice, "inbox_foreign_sender",
                                        {std::to_string(::getpid())});
  ASSERT_TRUE(child) << child.error().message();
  testing::KillOnExit kill(*child);
  EXPECT_EQ(child->wait(20s).value_or(-1), 0);
  EXPECT_EQ(g_counted.load(), 0);
}

}  // namespace
}  // namespace sluice::objects
