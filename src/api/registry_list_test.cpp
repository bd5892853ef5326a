// Registry::list_pipes: the pipes of a namespace with their instance counts, as a listing of
// Windows' `\\.\pipe\` shows them. Servers run in other processes (re-exec helpers), some as
// other users (root runs the test; skipped, saying why, otherwise), and one user plants what a
// hostile user can in the namespace.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

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
using testing::say_and_wait;

// args: directory, name, instances, max instances ("-": unlimited), descriptor ("owner" or
// "everyone"). Creates the instances and holds them until stdin closes.
SLUICE_TEST_HELPER(listing_hold_instances) {
  auto reg = Registry::open(args.at(0));
  if (!reg) return say_and_wait("err registry");
  ServerOptions options;
  if (args.at(3) != "-") options.max_instances = static_cast<std::uint32_t>(std::stoul(args.at(3)));
  options.security =
      args.at(4) == "owner" ? SecurityDescriptor::owner_only() : SecurityDescriptor::unrestricted();
  std::vector<ServerEnd> held;
  for (int i = 0, n = std::stoi(args.at(2)); i < n; ++i) {
    auto server = ServerEnd::create(*reg, args.at(1), options);
    if (!server) return say_and_wait("err " + std::to_string(server.error().value()));
    held.push_back(std::move(*server));
  }
  return say_and_wait("ok");
}

// args: directory. Lists the pipes; says "<name> <instances> <max>" per pipe, then "end".
SLUICE_TEST_HELPER(listing_list) {
  auto reg = Registry::open(args.at(0));
  if (!reg) return say_and_wait("err registry");
  auto pipes = reg->list_pipes();
  if (!pipes) return say_and_wait("err " + std::to_string(pipes.error().value()));
  std::string out;
  for (const auto& p : *pipes)
    out +=
        p.name + " " + std::to_string(p.instances) + " " + std::to_string(p.max_instances) + "\n";
  return say_and_wait(out + "end");
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
  ::chmod(path.c_str(), 0644);
}

// A file in `dir` locked as an instance is (an exclusive OFD lock), kept open in `keep`.
void locked_instance(const std::string& dir, std::vector<int>* keep) {
  int fd = ::open((dir + "/I0").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  struct flock fl {};
  fl.l_type = F_WRLCK;
  fl.l_len = 1;
  ::fcntl(fd, F_OFD_SETLK, &fl);
  keep->push_back(fd);
}

// args: directory, name of the victim's pipe. Plants in the namespace, in entries of its own,
// what a hostile user can: FIFOs where sluice reads files (a reader that opens one waits for a
// writer forever), descriptor files that claim the victim's name under another key, impossible
// attributes, garbage names. Says "planted", holds its locks until stdin closes.
SLUICE_TEST_HELPER(listing_plant) {
  const std::string ns = args.at(0);
  registry::PipeName victim;
  if (registry::parse_pipe_name(args.at(1), &victim) != registry::NameProblem::kNone) return 91;
  const std::string me = std::to_string(::getuid());
  std::vector<int> keep;
  auto entry = [&](const std::string& name) {
    std::string dir = ns + "/" + name;
    std::filesystem::create_directory(dir);
    ::chmod(dir.c_str(), 0755);
    return dir;
  };
  // Under the victim's key: every file sluice reads is a FIFO.
  std::string fifos = entry(victim.key + "." + me);
  for (const char* f : {"I0", "I1", "name", "S", "lock"}) ::mkfifo((fifos + "/" + f).c_str(), 0644);
  // Live-looking entries that claim the victim's name under other keys, or attributes no pipe
  // has, or a name that is no pipe name.
  const std::string other_key = "0123456789abcdef0123456789abcdef";
  auto forged = [&](const std::string& key, const std::string& attributes,
                    const std::string& display) {
    std::string dir = entry(key + "." + me);
    write_file(dir + "/name", "sluice-pipe 4\n" + attributes + "\n" + display +
                                  "\nsd1 - - null\ncreator " + me + " 0 0\n");
    write_file(dir + "/S", "1");
    locked_instance(dir, &keep);
  };
  forged(other_key, "3 0 255 50", victim.display);
  registry::PipeName zero, huge, bogus;
  (void)registry::parse_pipe_name("\\\\.\\pipe\\planted-zero", &zero);
  (void)registry::parse_pipe_name("\\\\.\\pipe\\planted-huge", &huge);
  forged(zero.key, "3 0 0 50", zero.display);
  forged(huge.key, "3 0 4000000000 50", huge.display);
  (void)registry::parse_pipe_name("\\\\.\\pipe\\planted-bogus", &bogus);
  forged(bogus.key, "3 0 255 50", "not a pipe name");
  // A descriptor file too long to be one, and names that are no entries at all.
  std::string big = entry("fedcba9876543210fedcba9876543210." + me);
  write_file(big + "/name", std::string(100000, 'x'));
  locked_instance(big, &keep);
  entry("garbage." + me);
  entry("." + me);
  ::mkfifo((ns + "/" + victim.key + "." + me + ".1").c_str(), 0644);
  return say_and_wait("planted");
}

class RegistryListing : public testing::MultiUserPipeTest {
 protected:
  std::optional<ListedPipe> find(const std::string& name) {
    auto pipes = registry().list_pipes();
    EXPECT_TRUE(pipes) << pipes.error().message();
    if (pipes)
      for (const auto& p : *pipes)
        if (p.name == name) return p;
    return std::nullopt;
  }
};

TEST_F(RegistryListing, APipeWithThreeInstancesInAnotherProcessIsListedWithItsCounts) {
  Conversation server(std::nullopt, "listing_hold_instances",
                      {directory(), pipe_name(), "3", "5", "owner"});
  ASSERT_EQ(server.line(), "ok");
  auto listed = find(pipe_name());
  ASSERT_TRUE(listed);
  EXPECT_EQ(listed->instances, 3u);
  EXPECT_EQ(listed->max_instances, 5u);
}

TEST_F(RegistryListing, AnUnlimitedPipeReportsPipeUnlimitedInstances) {
  ServerOptions options;
  auto a = ServerEnd::create(registry(), pipe_name(), options);
  auto b = ServerEnd::create(registry(), pipe_name(), options);
  ASSERT_TRUE(a && b);
  auto listed = find(pipe_name());
  ASSERT_TRUE(listed);
  EXPECT_EQ(listed->instances, 2u);
  EXPECT_EQ(listed->max_instances, 255u);
}

TEST_F(RegistryListing, TheNameIsListedAsItsCreatorSpelledItAndSorted) {
  auto upper = ServerEnd::create(registry(), pipe_name("B-Mixed"));
  auto lower = ServerEnd::create(registry(), pipe_name("a-lower"));
  ASSERT_TRUE(upper && lower);
  auto pipes = registry().list_pipes();
  ASSERT_TRUE(pipes);
  ASSERT_EQ(pipes->size(), 2u);  // a private namespace: only this test's pipes
  EXPECT_EQ((*pipes)[0].name, std::min(pipe_name("B-Mixed"), pipe_name("a-lower")));
  EXPECT_EQ((*pipes)[1].name, std::max(pipe_name("B-Mixed"), pipe_name("a-lower")));
  auto names = registry().list();
  ASSERT_TRUE(names);
  EXPECT_EQ(names->size(), 2u);
}

TEST_F(RegistryListing, AnInstanceCountsUntilItsLastHandleCloses) {
  auto a = ServerEnd::create(registry(), pipe_name());
  auto b = ServerEnd::create(registry(), pipe_name());
  ASSERT_TRUE(a && b);
  EXPECT_EQ(find(pipe_name())->instances, 2u);
  { ServerEnd gone = std::move(*b); }
  EXPECT_EQ(find(pipe_name())->instances, 1u);
  { ServerEnd gone = std::move(*a); }
  EXPECT_FALSE(find(pipe_name()));
}

TEST_F(RegistryListing, APipeWhoseServerWasKilledIsNotListed) {
  Conversation server(std::nullopt, "listing_hold_instances",
                      {directory(), pipe_name(), "3", "-", "owner"});
  ASSERT_EQ(server.line(), "ok");
  ASSERT_TRUE(find(pipe_name()));
  server.kill(true);
  EXPECT_FALSE(find(pipe_name()));
  auto pipes = registry().list_pipes();
  ASSERT_TRUE(pipes);
  EXPECT_TRUE(pipes->empty());
}

TEST_F(RegistryListing, AnotherUsersPipeIsListedWhateverItsDescriptorGrants) {
  SLUICE_SKIP_UNLESS_ROOT();
  // Alice's pipe admits Alice only; Bob still sees its name and counts, as a listing of
  // `\\.\pipe\` shows every pipe on Windows.
  Conversation alice(testing::kAlice, "listing_hold_instances",
                     {directory(), pipe_name(), "2", "4", "owner"});
  ASSERT_EQ(alice.line(), "ok");
  Conversation bob(testing::kBob, "listing_list", {directory()});
  EXPECT_EQ(bob.lines_to_end(), std::vector<std::string>{pipe_name() + " 2 4"});
  auto listed = find(pipe_name());
  ASSERT_TRUE(listed);
  EXPECT_EQ(listed->instances, 2u);
  EXPECT_EQ(listed->max_instances, 4u);
}

TEST_F(RegistryListing, WhatAHostileUserPlantsIsSkippedAndHangsNobody) {
  SLUICE_SKIP_UNLESS_ROOT();
  ServerOptions options;
  options.max_instances = 3;
  auto server = ServerEnd::create(registry(), pipe_name(), options);
  ASSERT_TRUE(server);
  Conversation alice(testing::kAlice, "listing_plant", {directory(), pipe_name()});
  ASSERT_EQ(alice.line(), "planted");

  // Bob, a third user, reads what Alice planted (root would open her FIFOs read-write, which
  // never waits; Bob can only open them read-only, which would wait for a writer for good).
  auto start = Clock::now();
  Conversation bob(testing::kBob, "listing_list", {directory()});
  EXPECT_EQ(bob.lines_to_end(), std::vector<std::string>{pipe_name() + " 1 3"});
  EXPECT_LT(Clock::now() - start, 5s);

  auto pipes = registry().list_pipes();
  ASSERT_TRUE(pipes);
  ASSERT_EQ(pipes->size(), 1u);
  EXPECT_EQ((*pipes)[0].name, pipe_name());
  EXPECT_EQ((*pipes)[0].instances, 1u);
  // The pipe still works for its clients.
  auto client = ClientEnd::open(registry(), pipe_name());
  EXPECT_TRUE(client) << client.error().message();
}

}  // namespace
}  // namespace sluice
