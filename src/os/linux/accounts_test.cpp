#include "os/linux/accounts.hpp"

#include <gtest/gtest.h>

namespace sluice::os {
namespace {

// Every Linux system has user and group 0 called root.
TEST(OsAccounts, RootIsFoundByIdAndByName) {
  EXPECT_EQ(user_name_of(0).value(), "root");
  EXPECT_EQ(group_name_of(0).value(), "root");
  EXPECT_EQ(user_id_of("root").value(), 0u);
  EXPECT_EQ(group_id_of("root").value(), 0u);
}

TEST(OsAccounts, IdsAndNamesWithoutAnEntryAreNotFound) {
  EXPECT_EQ(user_name_of(3999999).error(), make_error_code(errc::kNotFound));
  EXPECT_EQ(group_name_of(3999999).error(), make_error_code(errc::kNotFound));
  EXPECT_EQ(user_id_of("no-such-user-sluice").error(), make_error_code(errc::kNotFound));
  EXPECT_EQ(group_id_of("no-such-group-sluice").error(), make_error_code(errc::kNotFound));
}

}  // namespace
}  // namespace sluice::os
