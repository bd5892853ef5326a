#include "sluice/error.hpp"

#include <gtest/gtest.h>

#include "sluice/result.hpp"

namespace sluice {
namespace {

TEST(ErrorCodes, HaveTheWin32ValuesAndTexts) {
  std::error_code busy = errc::kPipeBusy;
  EXPECT_EQ(busy.value(), 231);
  EXPECT_EQ(busy.category().name(), std::string("sluice"));
  EXPECT_EQ(busy.message(), "All pipe instances are busy.");
  EXPECT_EQ(std::error_code(errc::kPipeConnected).value(), 535);
  EXPECT_EQ(std::error_code(errc::kMoreData).message(), "More data is available.");
  EXPECT_EQ(category().message(4242), "Unknown error 4242.");
}

TEST(ResultType, ThrowsTheErrorFromValueWhenThereIsNone) {
  Result<int> failed = errc::kBrokenPipe;
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error(), errc::kBrokenPipe);
  EXPECT_THROW((void)failed.value(), std::system_error);
  Result<int> ok = 7;
  ASSERT_TRUE(ok);
  EXPECT_EQ(*ok, 7);
  EXPECT_FALSE(ok.error());
  Result<void> done;
  EXPECT_TRUE(done);
  EXPECT_NO_THROW(done.value());
}

}  // namespace
}  // namespace sluice
