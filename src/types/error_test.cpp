#include "sluice/error.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "sluice/result.hpp"

namespace sluice {
namespace {

TEST(ErrorCodes, HaveTheWin32ValuesAndTexts) {
  std::error_code busy = errc::kPipeBusy;
  EXPECT_EQ(busy.value(), 231);
  EXPECT_EQ(busy.category().name(), std::string("sluice"));
  EXPECT_EQ(busy.message(), "All pipe instances are busy. (ERROR_PIPE_BUSY)");
  EXPECT_EQ(std::error_code(errc::kPipeConnected).value(), 535);
  EXPECT_EQ(std::error_code(errc::kMoreData).message(),
            "More data is available. (ERROR_MORE_DATA)");
  EXPECT_EQ(category().message(4242), "Unknown error 4242.");
  EXPECT_STREQ(system_text(errc::kWaitTimeout), "The wait operation timed out.");
  EXPECT_STREQ(win32_name(errc::kWaitTimeout), "WAIT_TIMEOUT");
  EXPECT_EQ(system_text(static_cast<errc>(4242)), nullptr);
}

// Failed before: a time-out was not std::errc::timed_out, kBrokenPipe not broken_pipe.
TEST(ErrorCodes, CompareWithThePortableConditionsOfTheSameOutcome) {
  std::error_code timeout = errc::kWaitTimeout;
  EXPECT_EQ(timeout, std::errc::timed_out);
  EXPECT_EQ(std::error_code(errc::kSemTimeout), std::errc::timed_out);
  EXPECT_EQ(std::error_code(errc::kBrokenPipe), std::errc::broken_pipe);
  EXPECT_EQ(std::error_code(errc::kNoData), std::errc::broken_pipe);
  EXPECT_EQ(std::error_code(errc::kOperationAborted), std::errc::operation_canceled);
  EXPECT_EQ(std::error_code(errc::kAccessDenied), std::errc::permission_denied);
  EXPECT_EQ(std::error_code(errc::kFileNotFound), std::errc::no_such_file_or_directory);
  EXPECT_EQ(std::error_code(errc::kPipeBusy), std::errc::device_or_resource_busy);
  EXPECT_EQ(std::error_code(errc::kInvalidParameter), std::errc::invalid_argument);
  // The same outcome from the kernel compares equal through the condition too.
  EXPECT_EQ(std::error_code(errc::kBrokenPipe).default_error_condition(),
            std::make_error_code(std::errc::broken_pipe).default_error_condition());
  // A code keeps its own identity: no condition makes two different sluice codes equal.
  EXPECT_NE(std::error_code(errc::kWaitTimeout), std::error_code(errc::kSemTimeout));
  EXPECT_NE(std::error_code(errc::kMoreData), std::errc::message_size);
  EXPECT_EQ(std::error_code(errc::kMoreData).default_error_condition().category(), category());
  EXPECT_EQ(std::error_code(errc::kSuccess).default_error_condition(), std::error_condition());
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

// Failed before (did not compile): the std::expected chaining C++ programmers reach for.
TEST(ResultType, ChainsAsStdExpectedDoes) {
  Result<int> seven = 7;
  Result<int> broken = errc::kBrokenPipe;
  auto half = [](int v) -> Result<double> { return v / 2.0; };
  EXPECT_EQ(seven.and_then(half).value(), 3.5);
  EXPECT_EQ(broken.and_then(half).error(), errc::kBrokenPipe);
  EXPECT_EQ(seven.transform([](int v) { return std::to_string(v); }).value(), "7");
  EXPECT_EQ(broken.transform([](int v) { return v + 1; }).error(), errc::kBrokenPipe);
  int seen = 0;
  Result<void> done = seven.transform([&](int v) { seen = v; });
  EXPECT_TRUE(done);
  EXPECT_EQ(seen, 7);
  EXPECT_EQ(broken.or_else([](std::error_code) -> Result<int> { return 0; }).value(), 0);
  EXPECT_EQ(seven.or_else([](std::error_code) -> Result<int> { return 0; }).value(), 7);
  // Move-only values move through.
  Result<std::unique_ptr<int>> owned = std::make_unique<int>(5);
  auto moved = std::move(owned).transform([](std::unique_ptr<int> p) { return *p * 2; });
  EXPECT_EQ(moved.value(), 10);
  // Result<void>.
  Result<void> ok;
  Result<void> failed = errc::kWaitTimeout;
  EXPECT_EQ(ok.and_then([]() -> Result<int> { return 1; }).value(), 1);
  EXPECT_EQ(failed.and_then([]() -> Result<int> { return 1; }).error(), errc::kWaitTimeout);
  EXPECT_EQ(ok.transform([] { return 2; }).value(), 2);
  EXPECT_EQ(failed.transform([] { return 2; }).error(), std::errc::timed_out);
  EXPECT_TRUE(failed.or_else([](std::error_code e) -> Result<void> {
    if (e == std::errc::timed_out) return {};
    return e;
  }));
}

}  // namespace
}  // namespace sluice
