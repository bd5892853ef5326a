#include "registry/pipe_name.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cctype>
#include <string>

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

// ---- names as Windows checks them -----------------------------------------------------------

std::string emoji(int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s += "\xF0\x9F\x98\x80";  // U+1F600: 4 bytes, 2 UTF-16 units
  return s;
}

TEST(PipeNameParsing, CountsTheLengthInUtf16UnitsAsWindowsDoes) {
  PipeName out;
  // 9 units of prefix + 125 emoji of 2 units: 259, the longest name that works.
  EXPECT_EQ(parse_pipe_name("\\\\.\\pipe\\" + emoji(125), &out), NameProblem::kNone);
  EXPECT_EQ(parse_pipe_name("\\\\.\\pipe\\" + emoji(125) + "x", &out), NameProblem::kTooLong);
  EXPECT_EQ(parse_pipe_name("\\\\.\\pipe\\" + emoji(130), &out), NameProblem::kTooLong);
  // BMP characters of 3 bytes are one unit each: 250 of them fit, 251 do not.
  std::string bmp = "\\\\.\\pipe\\";
  for (int i = 0; i < 250; ++i) bmp += "\xE2\x82\xAC";  // U+20AC
  EXPECT_EQ(parse_pipe_name(bmp, &out), NameProblem::kNone);
  EXPECT_EQ(parse_pipe_name(bmp + "\xE2\x82\xAC", &out), NameProblem::kTooLong);
}

TEST(PipeNameParsing, AcceptsEveryCharacterButBackslashInTheName) {
  std::string odd = "a\nb\r\t\x01\x7f:*?\"<>| %";
  PipeName p = parsed("\\\\.\\pipe\\" + odd);
  EXPECT_EQ(p.display, "\\\\.\\pipe\\" + odd);
  EXPECT_NE(p.key, parsed("\\\\.\\pipe\\a").key);
  EXPECT_NE(parsed("\\\\.\\pipe\\a\nb").key, parsed("\\\\.\\pipe\\a\rb").key);
}

TEST(PipeNameParsing, ForwardSlashesInThePrefixAreBackslashes) {
  std::string key = parsed("\\\\.\\pipe\\x").key;
  for (const char* name : {"//./pipe/x", "\\\\./pipe\\x", "/\\.\\pipe/x", "\\\\.\\pipe/x",
                           "//?/pipe/x", "//./PIPE/x"}) {
    PipeName out;
    ASSERT_EQ(parse_pipe_name(name, &out), NameProblem::kNone) << name;
    EXPECT_EQ(out.key, key) << name;
    EXPECT_EQ(out.display, "\\\\.\\pipe\\x") << name;
  }
  PipeName out;
  EXPECT_EQ(parse_pipe_name("//host/pipe/x", &out), NameProblem::kRemote);
  EXPECT_EQ(parse_pipe_name("//./pipe/", &out), NameProblem::kNotAPipe);
  EXPECT_EQ(parse_pipe_name("\\\\?\\pipe/x", &out), NameProblem::kNotAPipe);  // verbatim
}

TEST(PipeNameParsing, ANulIsAnInvalidName) {
  PipeName out;
  EXPECT_EQ(parse_pipe_name(std::string_view("\\\\.\\pipe\\a\0b", 12), &out),
            NameProblem::kInvalidCharacter);
  EXPECT_EQ(error_for_server(NameProblem::kInvalidCharacter), errc::kInvalidName);
  EXPECT_EQ(error_for_client(NameProblem::kInvalidCharacter), errc::kInvalidName);
  EXPECT_EQ(error_for_wait(NameProblem::kInvalidCharacter), errc::kInvalidName);
}

TEST(PipeNameParsing, AStoredNameParsesBackToTheSamePipe) {
  for (const char* name : {"\\\\?\\pipe\\trail.", "\\\\?\\pipe\\a/b", "\\\\?\\pipe\\x\\..\\y",
                           "\\\\.\\pipe\\a\nb", "\\\\.\\pipe\\plain"}) {
    PipeName first = parsed(name);
    PipeName again;
    ASSERT_EQ(parse_stored_name(first.display, &again), NameProblem::kNone) << name;
    EXPECT_EQ(again.key, first.key) << name;
    EXPECT_EQ(again.folded, first.folded) << name;
    EXPECT_EQ(again.display, first.display) << name;
  }
  PipeName out;
  EXPECT_EQ(parse_stored_name("not a pipe name", &out), NameProblem::kNotAPipe);
  EXPECT_EQ(parse_stored_name("\\\\.\\pipe\\", &out), NameProblem::kNotAPipe);
}

TEST(PipeNameParsing, FoldsNonAsciiByUnicodeSimpleUppercase) {
  EXPECT_EQ(parsed("\\\\.\\pipe\\\xC3\xA9t\xC3\xA9").key,                               // été
            parsed("\\\\.\\pipe\\\xC3\x89T\xC3\x89").key);                              // ÉTÉ
  EXPECT_EQ(parsed("\\\\.\\pipe\\\xCE\xB1\xCF\x89").key,                                // αω
            parsed("\\\\.\\pipe\\\xCE\x91\xCE\xA9").key);                               // ΑΩ
  EXPECT_EQ(parsed("\\\\.\\pipe\\\xD0\xB6").key, parsed("\\\\.\\pipe\\\xD0\x96").key);  // жЖ
  // ß has no single-character uppercase: it stays itself, unlike "SS".
  EXPECT_NE(parsed("\\\\.\\pipe\\\xC3\x9F").key, parsed("\\\\.\\pipe\\SS").key);
  // Characters beyond the BMP are two UTF-16 units and are not folded (𐐨 and 𐐀 differ).
  EXPECT_NE(parsed("\\\\.\\pipe\\\xF0\x90\x90\xA8").key,
            parsed("\\\\.\\pipe\\\xF0\x90\x90\x80").key);
  // The display keeps the creator's spelling.
  EXPECT_EQ(parsed("\\\\.\\pipe\\\xC3\xA9").display, "\\\\.\\pipe\\\xC3\xA9");
}

}  // namespace
}  // namespace sluice::registry

namespace sluice::registry {
namespace {

std::string this_host() {
  char name[256] = {};
  EXPECT_EQ(gethostname(name, sizeof name - 1), 0);
  return name;
}

TEST(PipeNameParsing, ThisComputersNamesReachTheLocalPipeThroughTheNetwork) {
  std::string host = this_host();
  std::string first = host.substr(0, host.find('.'));
  std::string upper = first;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  const std::string local_key = parsed("\\\\.\\pipe\\x").key;
  for (const std::string& server :
       {std::string("localhost"), std::string("LocalHost"), std::string("127.0.0.1"),
        std::string("127.1.2.3"), std::string("::1"), std::string("[::1]"),
        std::string("0--1.ipv6-literal.net"), host, first, upper, upper.substr(0, 15)}) {
    PipeName out;
    std::string name = "\\\\" + server + "\\pipe\\x";
    ASSERT_EQ(parse_pipe_name(name, &out), NameProblem::kNone) << name;
    EXPECT_TRUE(out.via_network) << name;
    EXPECT_EQ(out.key, local_key) << name;
    EXPECT_EQ(out.display, "\\\\.\\pipe\\x") << name;
  }
  EXPECT_FALSE(parsed("\\\\.\\pipe\\x").via_network);
  EXPECT_FALSE(parsed("\\\\?\\pipe\\x").via_network);
}

TEST(PipeNameParsing, OtherServersAndAddressesStayRemote) {
  for (const char* server : {"128.0.0.1", "127.0.0", "127.0.0.1.5", "127.0.0.256", "::2",
                             "10.0.0.1", "localhost2", "no-such-host-here"}) {
    PipeName out;
    std::string name = std::string("\\\\") + server + "\\pipe\\x";
    EXPECT_EQ(parse_pipe_name(name, &out), NameProblem::kRemote) << name;
  }
  EXPECT_FALSE(names_this_computer(""));
}

}  // namespace
}  // namespace sluice::registry
