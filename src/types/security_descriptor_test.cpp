#include "sluice/security.hpp"

#include <gtest/gtest.h>

namespace sluice {
namespace {

constexpr std::uint32_t kOwner = 1001;
constexpr std::uint32_t kOther = 1002;
constexpr std::uint32_t kStaff = 50;

SecurityDescriptor owned(SecurityDescriptor sd) {
  sd.owner = kOwner;
  sd.group = kOwner;
  return sd;
}

Identity user(std::uint32_t uid, std::vector<std::uint32_t> groups = {}) {
  return Identity{uid, uid, std::move(groups)};
}

TEST(SecurityDescriptor, OwnerOnlyLetsTheOwnerAndRootInAndNobodyElse) {
  auto sd = owned(SecurityDescriptor::owner_only());
  EXPECT_TRUE(sd.permits(user(kOwner), rights::kRead | rights::kWrite));
  EXPECT_TRUE(sd.permits(user(0), rights::kAll));
  EXPECT_FALSE(sd.permits(user(kOther), rights::kRead));
  EXPECT_FALSE(sd.permits(user(kOther), 0));
}

TEST(SecurityDescriptor, WindowsDefaultLetsEveryoneReadButNotWriteOrAddInstances) {
  auto sd = owned(SecurityDescriptor::windows_default());
  EXPECT_TRUE(sd.permits(user(kOther), rights::kRead));
  EXPECT_TRUE(sd.permits(user(kOther), rights::kGenericRead));
  EXPECT_TRUE(sd.permits(user(kOther), 0));  // no data access: read attributes only
  EXPECT_FALSE(sd.permits(user(kOther), rights::kRead | rights::kWrite));
  EXPECT_FALSE(sd.permits(user(kOther), rights::kCreatePipeInstance));
  EXPECT_TRUE(sd.permits(user(kOwner), rights::kWrite | rights::kCreatePipeInstance));
}

TEST(SecurityDescriptor, ANullDaclGrantsEverythingAndAnEmptyOneOnlyTheOwnersImplicitRights) {
  auto open = owned(SecurityDescriptor::unrestricted());
  EXPECT_TRUE(open.permits(user(kOther), rights::kAll));
  auto closed = owned(SecurityDescriptor::empty());
  EXPECT_FALSE(closed.permits(user(kOwner), rights::kRead));
  EXPECT_TRUE(closed.permits(user(kOwner), rights::kReadControl | rights::kWriteDac));
  EXPECT_FALSE(closed.permits(user(kOther), rights::kReadControl));
}

TEST(SecurityDescriptor, RulesAreCheckedInOrderAndAWantedDenyEndsTheCheck) {
  // Deny first: the member of the group is refused even though everyone is allowed later.
  auto deny_first = owned(SecurityDescriptor::empty()
                              .deny(Trustee::group(kStaff), rights::kWriteData)
                              .allow(Trustee::everyone(), rights::kAll));
  EXPECT_FALSE(deny_first.permits(user(kOther, {kStaff}), rights::kRead | rights::kWrite));
  EXPECT_TRUE(deny_first.permits(user(kOther, {kStaff}), rights::kRead));
  EXPECT_TRUE(deny_first.permits(user(kOther), rights::kRead | rights::kWrite));
  // Allow first: what it granted stays granted; the later deny no longer matters.
  auto allow_first = owned(SecurityDescriptor::empty()
                               .allow(Trustee::everyone(), rights::kAll)
                               .deny(Trustee::group(kStaff), rights::kWriteData));
  EXPECT_TRUE(allow_first.permits(user(kOther, {kStaff}), rights::kRead | rights::kWrite));
}

TEST(SecurityDescriptor, RightsAddUpAcrossRules) {
  auto sd = owned(SecurityDescriptor::empty()
                      .allow(Trustee::user(kOther), rights::kReadData | rights::kSynchronize)
                      .allow(Trustee::group(kStaff), rights::kWriteData));
  EXPECT_TRUE(sd.permits(user(kOther, {kStaff}), rights::kReadData | rights::kWriteData));
  EXPECT_FALSE(sd.permits(user(kOther), rights::kReadData | rights::kWriteData));
  EXPECT_EQ(sd.granted(user(kOther, {kStaff}), rights::kMaximumAllowed),
            rights::kReadData | rights::kWriteData | rights::kSynchronize);
}

TEST(SecurityDescriptor, AnonymousAndNetworkMatchNoLocalProcess) {
  auto sd = owned(SecurityDescriptor::empty().allow(Trustee::nobody(), rights::kAll));
  EXPECT_FALSE(sd.permits(user(kOther), rights::kRead));
  EXPECT_FALSE(sd.permits(user(0), rights::kRead));
}

TEST(SecurityDescriptor, AnUnsetOwnerMatchesNobodyNotRoot) {
  auto sd = SecurityDescriptor::owner_only();
  EXPECT_FALSE(sd.permits(user(kOwner), rights::kRead));
  EXPECT_TRUE(sd.permits(user(0), rights::kRead));  // by the administrators rule
}

TEST(SecurityDescriptor, TheTextFormRoundTripsAndRefusesAnythingElse) {
  auto sd = owned(SecurityDescriptor::windows_default()
                      .deny(Trustee::group(kStaff), rights::kGenericWrite)
                      .allow(Trustee::nobody(), 7));
  auto back = SecurityDescriptor::from_text(sd.to_text());
  ASSERT_TRUE(back) << sd.to_text();
  EXPECT_EQ(*back, sd);
  auto null = SecurityDescriptor::unrestricted();
  EXPECT_EQ(SecurityDescriptor::from_text(null.to_text()).value(), null);
  for (const char* bad : {"", "sd1", "sd1 1 2", "sd1 x 2 0", "sd1 1 2 1 ax:1:2", "sd1 1 2 1",
                          "sd1 1 2 0 extra", "sd2 1 2 0", "sd1 1 2 1 au:1:zz"})
    EXPECT_FALSE(SecurityDescriptor::from_text(bad)) << bad;
}

}  // namespace
}  // namespace sluice
