// The namespace against other users: names owned, not captured. Real processes under other
// uids (root runs the test and re-execs helpers as 1001 and 1002; skipped, saying why,
// otherwise) try what a hostile local user can, and the owner's operations still work.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "conversation.hpp"
#include "helper_process.hpp"
#include "other_user.hpp"
#include "pipe_fixture.hpp"
#include "registry/pipe_name.hpp"
#include "sluice/named_pipe.hpp"

namespace sluice {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using testing::Conversation;
using testing::kAlice;
using testing::kBob;
using testing::say_and_wait;

// ---- helpers that run as another user -------------------------------------------------------

// args: directory, name, "first" or "-". Creates an instance (owner-only descriptor) and holds
// it until stdin closes; says "ok" or "err <win32 error>".
SLUICE_TEST_HELPER(hold_name) {
  auto reg = Registry::open(args.at(0));
  if (!reg) return say_and_wait("err registry " + std::to_string(reg.error().value()));
  ServerOptions options;
  options.first_instance = args.at(2) == "first";
  auto server = ServerEnd::create(*reg, args.at(1), options);
  if (!server) return say_and_wait("err " + std::to_string(server.error().value()));
  return say_and_wait("ok");
}

// Binds a listening socket at `path` (a squatter's listener).
int bind_listener(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 16) != 0) {
    ::close(fd);
    return -1;
  }
  ::chmod(path.c_str(), 0666);
  return fd;
}

// Makes a live-looking entry of our own for `key`, as sluice would, but with what we choose to
// claim in its descriptor file: `role` "creator" or "joiner <uid> <stamp>".
void forge_entry(const std::string& dir, const std::string& role, std::vector<int>* keep) {
  std::filesystem::create_directory(dir);
  ::chmod(dir.c_str(), 0755);
  std::ofstream(dir + "/name") << "sluice-pipe 4\n3 0 255 50\n"
                               << "\\\\.\\pipe\\forged\n"
                               << "sd1 - - null\n"
                               << role << "\n";
  std::ofstream(dir + "/S") << "1";
  int instance = ::open((dir + "/I0").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  struct flock fl {};
  fl.l_type = F_WRLCK;
  fl.l_len = 1;
  ::fcntl(instance, F_OFD_SETLK, &fl);
  keep->push_back(instance);
  keep->push_back(bind_listener(dir + "/L00000000000000000001-1-0-65536"));
}

// args: directory, pipe name. Does everything the kernel lets another user do against the
// name's entries and the namespace, keeps what it took (locks, listeners), says "ready" and
// holds on until stdin closes. Counts what succeeded that must not on stdout's "ready" line.
SLUICE_TEST_HELPER(meddle) {
  const std::string ns = args.at(0);
  registry::PipeName name;
  if (registry::parse_pipe_name(args.at(1), &name) != registry::NameProblem::kNone) return 91;
  std::vector<int> keep;
  int wrongly_allowed = 0;
  for (const auto& e : std::filesystem::directory_iterator(ns)) {
    std::string entry = e.path().string();
    if (e.path().filename().string().rfind(name.key, 0) != 0) continue;
    // The entry's mutex: not even openable.
    wrongly_allowed += ::open((entry + "/lock").c_str(), O_RDONLY | O_CLOEXEC) >= 0;
    // Read locks on every readable file, held from now on (they must prove nothing).
    for (const auto& f : std::filesystem::directory_iterator(entry)) {
      int fd = ::open(f.path().c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
      if (fd < 0) continue;
      struct flock fl {};
      fl.l_type = F_RDLCK;
      fl.l_len = 0;  // the whole file, and beyond
      ::fcntl(fd, F_OFD_SETLK, &fl);
      ::flock(fd, LOCK_SH | LOCK_NB);
      keep.push_back(fd);
      wrongly_allowed += ::unlink(f.path().c_str()) == 0;
      wrongly_allowed += ::rename(f.path().c_str(), (ns + "/stolen").c_str()) == 0;
    }
    int dir_fd = ::open(entry.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    ::flock(dir_fd, LOCK_EX | LOCK_NB);
    keep.push_back(dir_fd);
    wrongly_allowed += ::rename(entry.c_str(), (entry + ".moved").c_str()) == 0;
    wrongly_allowed += ::rmdir(entry.c_str()) == 0;
    int planted = ::open((entry + "/L00000000000000000000-1-0-65536").c_str(),
                         O_WRONLY | O_CREAT | O_CLOEXEC, 0666);
    wrongly_allowed += planted >= 0;
    if (planted >= 0) ::close(planted);
  }
  // Squats: the owner's alternative entry names, and a listener in the namespace itself.
  for (int n = 1; n < 8; ++n)
    std::filesystem::create_directory(ns + "/" + name.key + ".0." + std::to_string(n));
  keep.push_back(bind_listener(ns + "/" + name.key + ".listener"));
  // A forged creator entry (a stamp it cannot date back), and a forged claim to have joined
  // root's name that root's descriptor does not back.
  forge_entry(ns + "/" + name.key + "." + std::to_string(::getuid()), "creator 0 0 0 0", &keep);
  forge_entry(ns + "/" + name.key + "." + std::to_string(::getuid()) + ".1", "joiner 0 0 0 1",
              &keep);
  return say_and_wait("ready " + std::to_string(wrongly_allowed));
}

// ---- the test side -------------------------------------------------------------------------

class NamespaceUsers : public testing::MultiUserPipeTest {
 protected:
  // What is in the namespace now.
  std::vector<std::string> entries() {
    std::vector<std::string> out;
    for (const auto& e : std::filesystem::directory_iterator(directory()))
      out.push_back(e.path().filename().string());
    return out;
  }
  Result<ServerEnd> create(bool first_instance, SecurityDescriptor sd = {}) {
    ServerOptions options;
    options.first_instance = first_instance;
    if (sd.rules.empty() && sd.has_rules) sd = SecurityDescriptor::windows_default();
    options.security = sd;
    return ServerEnd::create(registry(), pipe_name(), options);
  }
};

TEST_F(NamespaceUsers, AnotherUsersNameIsFreeOnceItsLastInstanceClosedAndNothingStays) {
  SLUICE_SKIP_UNLESS_ROOT();
  {
    Conversation alice(kAlice, "hold_name", {directory(), pipe_name(), "first"});
    ASSERT_EQ(alice.line(), "ok");
    EXPECT_EQ(create(true).error(), errc::kAccessDenied);  // hers while she holds it
    alice.release();
    EXPECT_EQ(alice.exit_code(), 0);
  }
  EXPECT_EQ(entries(), std::vector<std::string>{}) << "her entry outlived her pipe";
  auto mine = create(true);
  EXPECT_TRUE(mine) << mine.error().message();
}

TEST_F(NamespaceUsers, AnotherUsersNameIsFreeAtOnceWhenItsServerIsKilled) {
  SLUICE_SKIP_UNLESS_ROOT();
  Conversation alice(kAlice, "hold_name", {directory(), pipe_name(), "first"});
  ASSERT_EQ(alice.line(), "ok");
  alice.kill();
  EXPECT_EQ(alice.exit_code(), 128 + SIGKILL);
  auto mine = create(true);
  ASSERT_TRUE(mine) << mine.error().message();
  // What the killed server left, its owner or root tidies away: root's look just did.
  EXPECT_EQ(entries().size(), 1u);
}

TEST_F(NamespaceUsers, ASquattedNameFailsFirstPipeInstance) {
  SLUICE_SKIP_UNLESS_ROOT();
  Conversation bob(kBob, "hold_name", {directory(), pipe_name(), "first"});
  ASSERT_EQ(bob.line(), "ok");
  EXPECT_EQ(create(true).error(), errc::kAccessDenied);  // how a service detects a squatter
}

TEST_F(NamespaceUsers, AnotherUserCannotAddAnInstanceToRootsPipe) {
  SLUICE_SKIP_UNLESS_ROOT();
  auto mine = create(true, SecurityDescriptor::windows_default());
  ASSERT_TRUE(mine);
  Conversation bob(kBob, "hold_name", {directory(), pipe_name(), "-"});
  EXPECT_EQ(bob.line(), "err " + std::to_string(static_cast<int>(errc::kAccessDenied)));
}

TEST_F(NamespaceUsers, AUserTheDescriptorLetsAddInstancesServesTheOwnersClients) {
  SLUICE_SKIP_UNLESS_ROOT();
  auto mine =
      create(true, SecurityDescriptor::owner_only().allow(Trustee::user(kAlice.uid), rights::kAll));
  ASSERT_TRUE(mine);
  Conversation alice(kAlice, "hold_name", {directory(), pipe_name(), "-"});
  ASSERT_EQ(alice.line(), "ok");
  EXPECT_EQ(mine->state().value().current_instances, 2u);
  auto first = ClientEnd::open(registry(), pipe_name()).value();  // the oldest listener: ours
  EXPECT_EQ(first.server_process_id().value(), static_cast<std::uint32_t>(::getpid()));
  auto second = ClientEnd::open(registry(), pipe_name()).value();
  EXPECT_EQ(second.server_process_id().value(), alice.pid());
}

TEST_F(NamespaceUsers, NothingAnotherUserDoesInTheNamespaceBlocksOrFakesRootsPipe) {
  SLUICE_SKIP_UNLESS_ROOT();
  auto first = create(true, SecurityDescriptor::unrestricted());
  ASSERT_TRUE(first);
  Conversation bob(kBob, "meddle", {directory(), pipe_name()});
  ASSERT_EQ(bob.line(), "ready 0");  // nothing that had to be refused was allowed

  // The owner's operations still succeed, at once.
  auto start = Clock::now();
  auto second = create(false);
  ASSERT_TRUE(second) << second.error().message();
  auto third = create(false);
  ASSERT_TRUE(third) << third.error().message();
  EXPECT_EQ(first->state().value().current_instances, 3u);  // forged instances not counted
  EXPECT_LT(Clock::now() - start, 2s);

  // Every client reaches root's instances, never the squatter's listeners.
  for (int i = 0; i < 3; ++i) {
    auto client = ClientEnd::open(registry(), pipe_name());
    ASSERT_TRUE(client) << client.error().message();
    EXPECT_EQ(client->server_process_id().value(), static_cast<std::uint32_t>(::getpid()));
  }
  EXPECT_EQ(ClientEnd::open(registry(), pipe_name()).error(), errc::kPipeBusy);
  EXPECT_EQ(wait_for_instance(registry(), pipe_name(), 100ms).error(), errc::kWaitTimeout);
}

TEST_F(NamespaceUsers, AUsersPipesAreInvisibleToOthersInAPrivateNamespace) {
  SLUICE_SKIP_UNLESS_ROOT();
  // Alice first in a namespace of her own: Bob cannot use it, and nobody captures root's.
  std::string alices = directory() + "/alice";
  ASSERT_EQ(::mkdir(alices.c_str(), 0700), 0);
  ASSERT_EQ(::chown(alices.c_str(), kAlice.uid, kAlice.gid), 0);
  Conversation alice(kAlice, "hold_name", {alices, pipe_name(), "first"});
  ASSERT_EQ(alice.line(), "ok");
  Conversation bob(kBob, "hold_name", {alices, pipe_name(), "-"});
  EXPECT_EQ(bob.line().rfind("err registry", 0), 0u);  // not his, not root's: refused
}

// ---- the namespace under pressure (any user) -------------------------------------------------

// args: directory, pipe name. Holds an instance until stdin closes, says "ok".
SLUICE_TEST_HELPER(serve_until_killed) {
  auto reg = Registry::open(args.at(0));
  if (!reg) return 92;
  auto server = ServerEnd::create(*reg, args.at(1));
  if (!server) return 93;
  return say_and_wait("ok");
}

TEST_F(NamespaceUsers, AWaiterNoticesAKilledServerWithinAFewSlices) {
  Conversation server(testing::TestUser{::geteuid(), ::getegid(), {}}, "serve_until_killed",
                      {directory(), pipe_name()});
  ASSERT_EQ(server.line(), "ok");
  auto client = ClientEnd::open(registry(), pipe_name());  // the only instance is busy now
  ASSERT_TRUE(client) << client.error().message();
  std::atomic<bool> started{false};
  Clock::time_point ended;
  std::error_code result;
  std::thread waiter([&] {
    started = true;
    auto r = wait_for_instance(registry(), pipe_name(), 10s);
    ended = Clock::now();
    result = r ? std::error_code() : r.error();
  });
  while (!started) std::this_thread::yield();
  std::this_thread::sleep_for(20ms);  // not synchronisation: lets the waiter reach its sleep
  auto killed = Clock::now();
  server.kill();
  waiter.join();
  EXPECT_EQ(result, errc::kFileNotFound);
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(ended - killed);
  std::printf("noticed a killed server after %lld ms\n", static_cast<long long>(took.count()));
  EXPECT_LT(took, 1s);  // 50 ms slices; generous for a loaded machine
}

TEST_F(NamespaceUsers, HundredsOfWaitersAllWakeWhenAnInstanceListens) {
  // More than the 128 inotify instances a user gets by default: the rest poll.
  auto busy = ServerEnd::create(registry(), pipe_name()).value();
  auto taken = ClientEnd::open(registry(), pipe_name()).value();
  constexpr int kWaiters = 300;
  std::atomic<int> woken{0}, failed{0};
  std::vector<std::thread> waiters;
  for (int i = 0; i < kWaiters; ++i)
    waiters.emplace_back([&] {
      auto r = wait_for_instance(registry(), pipe_name(), 20s);
      (r ? woken : failed).fetch_add(1);
    });
  auto second = ServerEnd::create(registry(), pipe_name()).value();  // now one listens
  for (auto& t : waiters) t.join();
  EXPECT_EQ(woken.load(), kWaiters);
  EXPECT_EQ(failed.load(), 0);
}

// args: directory, pipe name. Opens the pipe with almost no descriptors left; exits with the
// error (a resource error, not busy).
SLUICE_TEST_HELPER(open_without_descriptors) {
  auto reg = Registry::open(args.at(0));
  if (!reg) return 94;
  int spare = testing::open_descriptor_count() + 1;
  rlimit limit{static_cast<rlim_t>(spare), static_cast<rlim_t>(spare)};
  ::setrlimit(RLIMIT_NOFILE, &limit);
  for (int fd = ::dup(0); fd >= 0; fd = ::dup(0)) {
  }
  auto c = ClientEnd::open(*reg, args.at(1));
  return c ? 0 : c.error().value();
}

TEST_F(NamespaceUsers, AClientOutOfDescriptorsIsToldSoNotThatThePipeIsBusy) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "the sanitizers' own checks need descriptors (a pipe to test memory with); "
                  "the release build runs this";
#endif
  auto server = ServerEnd::create(registry(), pipe_name()).value();
  auto child =
      testing::spawn_helper("open_without_descriptors", {directory(), pipe_name()}).value();
  EXPECT_EQ(child.wait(10s).value(), static_cast<int>(errc::kTooManyOpenFiles));
}

TEST_F(NamespaceUsers, ThousandsOfNamesLeaveNothingBehind) {
  for (int i = 0; i < 500; ++i) {
    auto s = ServerEnd::create(registry(), pipe_name(std::to_string(i)));
    ASSERT_TRUE(s) << i << ": " << s.error().message();
  }
  EXPECT_EQ(entries(), std::vector<std::string>{});
}

}  // namespace
}  // namespace sluice
