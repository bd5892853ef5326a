// sluice/accounts.hpp: users and groups by id and by name, checked against what the C library
// itself answers, and the name of a peer that runs as another user.
#include "sluice/accounts.hpp"

#include <grp.h>
#include <gtest/gtest.h>
#include <pwd.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "other_user.hpp"
#include "sluice/named_pipe.hpp"

namespace sluice {
namespace {

using namespace std::chrono_literals;
using namespace std::string_view_literals;

struct Entry {
  std::string name;
  std::uint32_t id = 0;
};

// The first user of the database that the calling process is not, as getpwent lists them.
std::optional<Entry> another_user() {
  std::optional<Entry> found;
  ::setpwent();
  while (passwd* pw = ::getpwent()) {
    if (pw->pw_uid == ::geteuid()) continue;
    // A uid with several names (root and toor) looks up as the first: take that pair only.
    passwd* first = ::getpwuid(pw->pw_uid);
    if (first && std::string_view(first->pw_name) == pw->pw_name) {
      found = Entry{pw->pw_name, pw->pw_uid};
      break;
    }
  }
  ::endpwent();
  return found;
}

// The C library's name for `gid`, if any.
std::optional<std::string> library_group_name(std::uint32_t gid) {
  group* gr = ::getgrgid(gid);
  if (!gr) return std::nullopt;
  return std::string(gr->gr_name);
}

TEST(Accounts, RootIsFoundByIdAndByName) {
  EXPECT_EQ(user_name_of(0).value(), "root");
  EXPECT_EQ(group_name_of(0).value(), "root");
  EXPECT_EQ(user_id_of("root").value(), 0u);
  EXPECT_EQ(group_id_of("root").value(), 0u);
}

TEST(Accounts, AUserOtherThanTheCallerAndTheirPrimaryGroupAreFoundByIdAndByName) {
  auto other = another_user();
  if (!other) GTEST_SKIP() << "the user database lists nobody but the caller";
  EXPECT_EQ(user_name_of(other->id).value(), other->name);
  EXPECT_EQ(user_id_of(other->name).value(), other->id);
  passwd* pw = ::getpwuid(other->id);
  ASSERT_NE(pw, nullptr);
  std::uint32_t gid = pw->pw_gid;
  auto group = library_group_name(gid);
  if (!group) GTEST_SKIP() << other->name << "'s primary group " << gid << " has no entry";
  EXPECT_EQ(group_name_of(gid).value(), *group);
  // Several groups may share the gid; the name leads to one of them, and back to this name.
  auto by_name = group_id_of(*group);
  ASSERT_TRUE(by_name);
  EXPECT_EQ(library_group_name(*by_name), group);
}

TEST(Accounts, IdsAndNamesWithoutAnEntryAreNotFound) {
  EXPECT_EQ(user_name_of(3999999).error(), errc::kNotFound);
  EXPECT_EQ(group_name_of(3999999).error(), errc::kNotFound);
  EXPECT_EQ(user_id_of("no-such-user-sluice").error(), errc::kNotFound);
  EXPECT_EQ(group_id_of("no-such-group-sluice").error(), errc::kNotFound);
  EXPECT_EQ(user_id_of("").error(), errc::kNotFound);
  EXPECT_EQ(group_id_of("").error(), errc::kNotFound);
  // Cut at the NUL, these would be "root".
  EXPECT_EQ(user_id_of("root\0x"sv).error(), errc::kNotFound);
  EXPECT_EQ(group_id_of("root\0x"sv).error(), errc::kNotFound);
}

TEST(Accounts, TheCurrentIdsAreTheThreadsEffectiveIds) {
  EXPECT_EQ(current_user_id(), static_cast<std::uint32_t>(::geteuid()));
  EXPECT_EQ(current_group_id(), static_cast<std::uint32_t>(::getegid()));
}

class AccountsOfPeers : public testing::MultiUserPipeTest {};

// A client running as Alice (uid 1001, which needs no entry): the server names it as the C
// library does, or learns that the id has no name.
TEST_F(AccountsOfPeers, TheClientsUidIsNamedAsTheDatabaseNamesIt) {
  SLUICE_SKIP_UNLESS_ROOT();
  ServerOptions options;
  options.security = SecurityDescriptor::unrestricted();
  auto server = ServerEnd::create(registry(), pipe_name(), options).value();
  auto alice =
      testing::spawn_helper_as(testing::kAlice, "client_loop", {directory(), pipe_name(), "r"})
          .value();
  testing::KillOnExit reap(alice);
  ASSERT_TRUE(server.connect_for(10s));
  auto who = server.client_credentials();
  ASSERT_TRUE(who) << who.error().message();
  ASSERT_TRUE(server.write(testing::bytes("hello")));
  EXPECT_EQ(alice.wait(10s).value_or(-1), 0);

  EXPECT_EQ(who->uid, testing::kAlice.uid);
  auto name = user_name_of(who->uid);
  if (passwd* pw = ::getpwuid(who->uid)) {
    EXPECT_EQ(name.value(), pw->pw_name);
  } else {
    EXPECT_EQ(name.error(), errc::kNotFound);
  }
}

}  // namespace
}  // namespace sluice
