// Pipe names end to end: every name Windows accepts is created, listed and reached; the names
// it refuses get its errors; and no name reaches outside the namespace directory.
#include <gtest/gtest.h>

#include <filesystem>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <stdlib.h>

#include "pipe_fixture.hpp"
#include "sluice/named_pipe.hpp"
#include "sluice/registry.hpp"

namespace sluice {
namespace {

using testing::bytes;
using testing::text;

class PipeNames : public testing::PipeTest {
 protected:
  // Creates `name`, opens it as `client_name` from another thread, and checks that the bytes
  // written there arrive at this instance. The server end stays open until the test ends.
  void create_and_reach(const std::string& name, const std::string& client_name) {
    SCOPED_TRACE(::testing::PrintToString(name) + " reached as " +
                 ::testing::PrintToString(client_name));
    auto s = ServerEnd::create(registry(), name);
    ASSERT_TRUE(s) << s.error().message();
    std::optional<ClientEnd> client;
    std::thread other([&] {
      auto c = ClientEnd::open(registry(), client_name);
      ASSERT_TRUE(c) << c.error().message();
      ASSERT_TRUE(c->write(bytes("hi")));
      client = std::move(*c);
    });
    other.join();
    ASSERT_TRUE(client);
    ASSERT_TRUE(s->connect());
    std::byte buf[8];
    auto got = s->read(buf);
    ASSERT_TRUE(got) << got.error().message();
    EXPECT_EQ(text(std::span(buf).first(got->bytes)), "hi");
    servers_.push_back(std::move(*s));
  }
  void create_and_reach(const std::string& name) { create_and_reach(name, name); }

  void TearDown() override {
    servers_.clear();
    PipeTest::TearDown();
  }

  std::vector<ServerEnd> servers_;
};

std::string emoji(int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s += "\xF0\x9F\x98\x80";  // U+1F600: 2 UTF-16 units
  return s;
}

// "The pipename part of the name can include any character other than a backslash" (Pipe
// Names, Microsoft Learn).
TEST_F(PipeNames, EveryCharacterButBackslashIsCreatedListedAndReached) {
  const std::string parts[] = {
      "a\nb",     "cr\rtab\tend", std::string("ctl\x01\x1f\x7f"),
      ":*?\"<>|", "pct%0A%25x",   "\xC3\xA9t\xC3\xA9 \xE2\x82\xAC",
      emoji(3),
  };
  for (const auto& part : parts) create_and_reach(pipe_name(part));
  auto listed = registry().list();
  ASSERT_TRUE(listed);
  std::set<std::string> names(listed->begin(), listed->end());
  for (const auto& part : parts) EXPECT_EQ(names.count(pipe_name(part)), 1u) << part;
}

TEST_F(PipeNames, NonAsciiLettersAreCaseInsensitive) {
  create_and_reach(pipe_name("\xC3\xA9t\xC3\xA9-\xCE\xB1\xCF\x89-\xD0\xB6"),   // été-αω-ж
                   pipe_name("\xC3\x89T\xC3\x89-\xCE\x91\xCE\xA9-\xD0\x96"));  // ÉTÉ-ΑΩ-Ж
}

TEST_F(PipeNames, ForwardSlashesInThePrefixReachTheSamePipe) {
  std::string tail = pipe_name().substr(9);
  create_and_reach("//./pipe/" + tail, "\\\\.\\pipe\\" + tail);
  create_and_reach("\\\\.\\pipe\\" + tail + "2", "\\\\./pipe\\" + tail + "2");
  create_and_reach("\\\\.\\pipe\\" + tail + "3", "//?/PIPE/" + tail + "3");
}

TEST_F(PipeNames, VerbatimNamesKeepTheirTrailingDotsAndSlashes) {
  std::string tail = pipe_name().substr(9);
  create_and_reach("\\\\?\\pipe\\" + tail + "trail.");
  create_and_reach("\\\\?\\pipe\\" + tail + "a/b");
  // Normalised, the same spellings name other pipes.
  EXPECT_EQ(ClientEnd::open(registry(), "\\\\.\\pipe\\" + tail + "trail.").error(),
            errc::kFileNotFound);
}

TEST_F(PipeNames, TheLengthLimitCountsUtf16Units) {
  // 9 units of prefix + 125 emoji of 2 units: 259, the longest that works.
  std::string longest = "\\\\.\\pipe\\" + emoji(125);
  create_and_reach(longest);
  EXPECT_EQ(ServerEnd::create(registry(), longest + "x").error(), errc::kFilenameExcedRange);
  EXPECT_EQ(ServerEnd::create(registry(), "\\\\.\\pipe\\" + emoji(130)).error(),
            errc::kFilenameExcedRange);
  EXPECT_EQ(ClientEnd::open(registry(), "\\\\.\\pipe\\" + emoji(130)).error(),
            errc::kFilenameExcedRange);
  EXPECT_EQ(wait_for_instance(registry(), "\\\\.\\pipe\\" + emoji(130)).error(),
            errc::kFilenameExcedRange);
}

TEST_F(PipeNames, MalformedNamesGetTheSpecErrors) {
  struct Case {
    std::string name;
    std::error_code server, client, wait;
  } cases[] = {
      {"", errc::kPathNotFound, errc::kPathNotFound, errc::kBadPathname},
      {"\\\\.\\pipe\\", errc::kInvalidName, errc::kFileNotFound, errc::kBadPathname},
      {"\\\\.\\pipe", errc::kInvalidName, errc::kFileNotFound, errc::kBadPathname},
      {"//./pipe/", errc::kInvalidName, errc::kFileNotFound, errc::kBadPathname},
      {"\\\\.\\pipe\\.", errc::kInvalidName, errc::kFileNotFound, errc::kBadPathname},
      {"\\\\.\\notpipe\\x", errc::kInvalidName, errc::kFileNotFound, errc::kBadPathname},
      {"//server/pipe/x", errc::kInvalidName, errc::kBadNetpath, errc::kBadNetpath},
      {std::string("\\\\.\\pipe\\a\0b", 12), errc::kInvalidName, errc::kInvalidName,
       errc::kInvalidName},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(::testing::PrintToString(c.name));
    EXPECT_EQ(ServerEnd::create(registry(), c.name).error(), c.server);
    EXPECT_EQ(ClientEnd::open(registry(), c.name).error(), c.client);
    EXPECT_EQ(wait_for_instance(registry(), c.name).error(), c.wait);
  }
}

// The namespace's files are named by a hash of the folded name, so no name is ever a path: a
// hostile one neither creates nor reaches anything outside the directory.
TEST(PipeNamesOnDisk, HostileNamesStayInsideTheNamespaceDirectory) {
  namespace fs = std::filesystem;
  char pattern[] = "/tmp/sluice-hostile-XXXXXX";
  ASSERT_NE(::mkdtemp(pattern), nullptr);
  const fs::path root = pattern;
  const fs::path ns = root / "ns";
  fs::create_directory(ns);
  fs::permissions(ns, fs::perms::owner_all, fs::perm_options::replace);
  fs::create_directory(root / "outside");
  {
    auto registry = Registry::open(ns.string());
    ASSERT_TRUE(registry) << registry.error().message();
    const std::string hostile[] = {
        "\\\\?\\pipe\\..\\..\\outside\\x",
        "\\\\?\\pipe\\..\\outside",
        "\\\\?\\pipe\\/../../outside/x",
        "\\\\?\\pipe\\..",
        "\\\\?\\pipe\\.",
        "\\\\.\\pipe\\..\\pipe\\..\\..\\outside",
        "\\\\.\\pipe\\a/../../../../../tmp/x",
        "\\\\?\\pipe\\/tmp/x",
        "\\\\?\\pipe\\~",
    };
    std::vector<ServerEnd> servers;
    for (const auto& name : hostile) {
      auto s = ServerEnd::create(*registry, name);
      if (s) servers.push_back(std::move(*s));
      auto c = ClientEnd::open(*registry, name);
      if (s) {
        EXPECT_TRUE(c) << name << ": " << c.error().message();
      }
    }
    EXPECT_EQ(ServerEnd::create(*registry, std::string("\\\\?\\pipe\\a\0/../x", 16)).error(),
              errc::kInvalidName);
    // Nothing appeared beside the namespace or outside it; inside, only entries named by keys.
    std::set<std::string> beside;
    for (const auto& e : fs::directory_iterator(root)) beside.insert(e.path().filename());
    EXPECT_EQ(beside, (std::set<std::string>{"ns", "outside"}));
    EXPECT_TRUE(fs::is_empty(root / "outside"));
    const std::regex entry("[0-9a-f]{32}\\.[0-9]+(\\.[0-9]+)?");
    for (const auto& e : fs::directory_iterator(ns)) {
      std::string file = e.path().filename();
      EXPECT_TRUE(std::regex_match(file, entry)) << file;
      EXPECT_TRUE(e.is_directory()) << file;
    }
    // A planted directory is no pipe, whatever a name's dots say.
    fs::create_directory(root / "outside" / "x");
    EXPECT_EQ(ClientEnd::open(*registry, "\\\\?\\pipe\\..\\..\\outside\\y").error(),
              errc::kFileNotFound);
  }
  std::error_code ignored;
  fs::remove_all(root, ignored);
}

}  // namespace
}  // namespace sluice
