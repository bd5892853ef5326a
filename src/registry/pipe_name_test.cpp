#include "registry/pipe_name.hpp"

#include <gtest/gtest.h>

namespace sluice::registry {
namespace {

PipeName parsed(std::string_view name) {
  PipeName out;
  EXPECT_EQ(parse_pipe_name(name, &out), NameProblem::kNone) << name;
  return out;
}

TEST(PipeNameParsing, FoldsCaseIncludingThePipeComponent) {
  EXPECT_EQ(parsed("\\\\.\\pipe\\CaseTest").key, parsed("\\\\.\\PIPE\\casetest").key);
  EXPECT_EQ(parsed("\\\\.\\pipe\\CaseTest").display, "\\\\.\\pipe\\CaseTest");
  EXPECT_NE(parsed("\\\\.\\pipe\\a").key, parsed("\\\\.\\pipe\\b").key);
}

TEST(PipeNameParsing, NormalisesSlashesDotsAndTrailingDots) {
  std::string key = parsed("\\\\.\\pipe\\dir\\sub").key;
  EXPECT_EQ(parsed("\\\\.\\pipe\\dir/sub").key, key);
  EXPECT_EQ(parsed("\\\\.\\pipe\\x\\..\\dir\\sub").key, key);
  EXPECT_EQ(parsed("\\\\.\\pipe\\dir\\.\\sub").key, key);
  EXPECT_EQ(parsed("\\\\.\\pipe\\trail.").key, parsed("\\\\.\\pipe\\trail").key);
  EXPECT_EQ(parsed("\\\\.\\pipe\\trail. ").key, parsed("\\\\.\\pipe\\trail").key);
}

TEST(PipeNameParsing, VerbatimNamesAreNotNormalised) {
  EXPECT_EQ(parsed("\\\\?\\pipe\\same").key, parsed("\\\\.\\pipe\\same").key);
  EXPECT_NE(parsed("\\\\?\\pipe\\trail.").key, parsed("\\\\.\\pipe\\trail").key);
}

TEST(PipeNameParsing, NamespaceIsFlat) {
  EXPECT_NE(parsed("\\\\.\\pipe\\a\\b").key, parsed("\\\\.\\pipe\\a").key);
  EXPECT_EQ(parsed("\\\\.\\pipe\\a\\b").display, "\\\\.\\pipe\\a\\b");
  EXPECT_EQ(parsed("\\\\.\\pipe\\a<>*?|\"/b").display, "\\\\.\\pipe\\a<>*?|\"\\b");
}

TEST(PipeNameParsing, ReportsEachProblem) {
  PipeName out;
  EXPECT_EQ(parse_pipe_name("", &out), NameProblem::kEmpty);
  EXPECT_EQ(parse_pipe_name("not a pipe", &out), NameProblem::kNotAPipe);
  EXPECT_EQ(parse_pipe_name("\\\\.\\pipe\\", &out), NameProblem::kNotAPipe);
  EXPECT_EQ(parse_pipe_name("\\\\.\\pipe", &out), NameProblem::kNotAPipe);
  EXPECT_EQ(parse_pipe_name("\\\\.\\other\\x", &out), NameProblem::kNotAPipe);
  EXPECT_EQ(parse_pipe_name("\\\\server\\pipe\\x", &out), NameProblem::kRemote);
  std::string at_limit = "\\\\.\\pipe\\" + std::string(250, 'x');
  EXPECT_EQ(parse_pipe_name(at_limit, &out), NameProblem::kNone);
  EXPECT_EQ(parse_pipe_name(at_limit + "x", &out), NameProblem::kTooLong);
}

TEST(PipeNameParsing, CountsCharactersNotBytes) {
  std::string name = "\\\\.\\pipe\\";
  for (int i = 0; i < 250; ++i) name += "\xC3\xA9";  // é: 2 bytes, 1 character
  PipeName out;
  EXPECT_EQ(parse_pipe_name(name, &out), NameProblem::kNone);
}

TEST(PipeNameParsing, ErrorsPerCaller) {
  EXPECT_EQ(error_for_server(NameProblem::kEmpty), errc::kPathNotFound);
  EXPECT_EQ(error_for_server(NameProblem::kRemote), errc::kInvalidName);
  EXPECT_EQ(error_for_client(NameProblem::kRemote), errc::kBadNetpath);
  EXPECT_EQ(error_for_wait(NameProblem::kNotAPipe), errc::kBadPathname);
  EXPECT_EQ(error_for_client(NameProblem::kTooLong), errc::kFilenameExcedRange);
}

}  // namespace
}  // namespace sluice::registry
