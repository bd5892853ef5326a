// FormatMessageA/W: system texts, inserts, escapes, line width and the error cases, pinned as
// tables of call, return and last error (the expected values are Windows' results).
#include <windows.h>
#include <gtest/gtest.h>

#include <cstdarg>
#include <cstring>
#include <string>

#include "win32/win32_test_util.hpp"

namespace {

using sluice::win32::testing::kSentinel;

std::wstring wide(const std::string& s) { return std::wstring(s.begin(), s.end()); }

// FormatMessage with a va_list made of the trailing arguments.
DWORD format_a(DWORD flags, const char* source, char* out, DWORD size, ...) {
  va_list list;
  va_start(list, size);
  DWORD r = FormatMessageA(flags, source, 0, 0, out, size, &list);
  va_end(list);
  return r;
}

DWORD format_w(DWORD flags, const wchar_t* source, wchar_t* out, DWORD size, ...) {
  va_list list;
  va_start(list, size);
  DWORD r = FormatMessageW(flags, source, 0, 0, out, size, &list);
  va_end(list);
  return r;
}

// A definition without inserts, its result from both entry points, and the last error when the
// result is empty (a call that succeeds leaves the last error alone).
struct TextCase {
  DWORD flags;
  const char* source;
  const char* want;  // nullptr: the call fails
  DWORD error;
};

void check_both(const TextCase& c) {
  char out[300] = {};
  SetLastError(kSentinel);
  DWORD n = FormatMessageA(c.flags, c.source, 0, 0, out, sizeof out, nullptr);
  DWORD error = GetLastError();
  if (c.want) {
    EXPECT_STREQ(out, c.want) << c.source;
    EXPECT_EQ(n, std::strlen(c.want)) << c.source;
  } else {
    EXPECT_EQ(n, 0u) << c.source;
  }
  EXPECT_EQ(error, c.error) << c.source;

  wchar_t wout[300] = {};
  std::wstring source = wide(c.source);
  SetLastError(kSentinel);
  n = FormatMessageW(c.flags, source.c_str(), 0, 0, wout, 300, nullptr);
  error = GetLastError();
  if (c.want) {
    EXPECT_EQ(std::wstring(wout), wide(c.want)) << c.source;
    EXPECT_EQ(n, std::strlen(c.want)) << c.source;
  } else {
    EXPECT_EQ(n, 0u) << c.source;
  }
  EXPECT_EQ(error, c.error) << c.source;
}

constexpr DWORD kString = FORMAT_MESSAGE_FROM_STRING;
constexpr DWORD kIgnore = FORMAT_MESSAGE_FROM_STRING | FORMAT_MESSAGE_IGNORE_INSERTS;
constexpr DWORD kNoWidth = FORMAT_MESSAGE_FROM_STRING | FORMAT_MESSAGE_MAX_WIDTH_MASK;

TEST(Win32FormatMessage, EscapesAndLineBreaksFollowWindows) {
  const TextCase cases[] = {
      {kString, "test", "test", kSentinel},
      {kString, "test%0test", "test", kSentinel},
      {kString, "yah%!%0   ", "yah!", kSentinel},
      {kString, "% %   ", "    ", kSentinel},
      {kString, " %%%% ", " %% ", kSentinel},
      {kString, " %.%. x", " .. x", kSentinel},
      {kString, "%n%r%t", "\r\n\r\t", kSentinel},
      {kString, "%q%Z", "qZ", kSentinel},
      {kString, "hi\n", "hi\r\n", kSentinel},
      {kString, "hi\r\n", "hi\r\n", kSentinel},
      {kString, "\r", "\r\n", kSentinel},
      {kString, "\r\r\n", "\r\n\r\n", kSentinel},
      {kNoWidth, "hi\n", "hi ", kSentinel},
      {kNoWidth, "hi\r\n", "hi ", kSentinel},
      {kNoWidth, "\r\r\n", "  ", kSentinel},
      {kNoWidth, "a%nb", "a\r\nb", kSentinel},
      {kString, "", nullptr, ERROR_NO_WORK_DONE},
      {kString, "%0test", nullptr, ERROR_NO_WORK_DONE},
      {kString, "%", nullptr, ERROR_INVALID_PARAMETER},
      {kString, "test%", nullptr, ERROR_INVALID_PARAMETER},
      {kString, "%1", nullptr, ERROR_INVALID_PARAMETER},  // an insert and no arguments
      {kString | FORMAT_MESSAGE_ARGUMENT_ARRAY, "%1", nullptr, ERROR_INVALID_PARAMETER},
      {0, "test", nullptr, ERROR_INVALID_PARAMETER},  // no source
      {FORMAT_MESSAGE_IGNORE_INSERTS, "test", nullptr, ERROR_INVALID_PARAMETER},
      {FORMAT_MESSAGE_FROM_HMODULE, "test", nullptr, ERROR_RESOURCE_TYPE_NOT_FOUND},
      {kString | FORMAT_MESSAGE_FROM_SYSTEM, "test", "test", kSentinel},  // the string wins
  };
  for (const auto& c : cases) check_both(c);
}

TEST(Win32FormatMessage, IgnoreInsertsKeepsInsertsButNotLineBreaks) {
  const TextCase cases[] = {
      {kIgnore, "test%1%2!*.*s!%99", "test%1%2!*.*s!%99", kSentinel},
      {kIgnore, "%%% %.%!", "%%% %.%!", kSentinel},
      {kIgnore, "%n%r%t", "\r\n\r\t", kSentinel},
      {kIgnore, "test%0test", "test", kSentinel},
      {kIgnore, "hi\r\n", "hi\r\n", kSentinel},
      {kIgnore | FORMAT_MESSAGE_MAX_WIDTH_MASK, "hi\n", "hi ", kSentinel},
      {kIgnore | 8, "short%nlong line%1", "short\r\nlong\r\nline%1", kSentinel},
      {kIgnore, "%0test", nullptr, ERROR_NO_WORK_DONE},
  };
  for (const auto& c : cases) check_both(c);
}

TEST(Win32FormatMessage, AWidthBreaksLinesAtTheirLastSpace) {
  const TextCase cases[] = {
      {kString | 20, "short long line", "short long line", kSentinel},
      {kString | 11, "short long line", "short long\r\nline", kSentinel},
      {kString | 20, "short long long line", "short long long\r\nline", kSentinel},
      {kString | 10, "short long line", "short\r\nlong line", kSentinel},  // under 10 a line
      {kString | 16, "short long    line", "short long\r\nline", kSentinel},
      {kString | 16, "short long    wordlongerthanaline", "short long\r\nwordlongerthanal\r\nine",
       kSentinel},
      {kString | 12, "short long    line", "short long\r\n  line", kSentinel},
      {kString | 12, "short long    wordlongerthanaline",
       "short long\r\n\r\nwordlongerth\r\nanaline", kSentinel},
      {kString | 15, "   short line", "   short line", kSentinel},
      {kString | 11, "   shortlong line", "\r\nshortlong\r\nline", kSentinel},
      {kString | 11, "l1%n   shortlong line", "l1\r\n\r\nshortlong\r\nline", kSentinel},
      {kString | 5, "                ", "\r\n\r\n\r\n ", kSentinel},
      {kString | 5, "l1               ", "l1\r\n\r\n\r\n  ", kSentinel},
      {kString | 8, "shortlon", "shortlon\r\n", kSentinel},
      {kString | 8, "shortlongline", "shortlon\r\ngline", kSentinel},
      {kString | 7, "short long line", "short\r\nlong\r\nline", kSentinel},
      {kString | 11, "short\nlong line", "short long\r\nline", kSentinel},
      {kString | 8, "shortlon%n", "shortlon\r\n\r\n", kSentinel},
      {kString | 10, "short%nlong line", "short\r\nlong line", kSentinel},
      {kString | 8, "short%rlong line", "short\rlong\r\nline", kSentinel},
      {kString | 11, "short long\tline", "short\r\nlong\tline", kSentinel},  // only spaces
      {kString | 11, "short long-line", "short\r\nlong-line", kSentinel},
  };
  for (const auto& c : cases) check_both(c);
  // FORMAT_MESSAGE_MAX_WIDTH_MASK never breaks a line.
  std::string in = "first line%n", want = "first line\r\n";
  for (int i = 0; i < 26; ++i) {
    in += "123456789 ";
    want += "123456789 ";
  }
  check_both({kNoWidth, in.c_str(), want.c_str(), kSentinel});
}

TEST(Win32FormatMessage, InsertsTakeVaListArgumentsInTheirFormats) {
  char out[128];
  auto check = [&](DWORD n, const char* want) {
    EXPECT_STREQ(out, want);
    EXPECT_EQ(n, std::strlen(want));
  };
  check(format_a(kString, "%1!s!", out, 128, "test"), "test");
  check(format_a(kString, "%1", out, 128, "test"), "test");
  check(format_a(kString, "%1%3%2%1", out, 128, "t", "s", "e"), "test");
  check(format_a(kString, "%1!S!|%2!ls!|%3!ws!", out, 128, L"wide", L"l", L"w"), "wide|l|w");
  check(format_a(kString, "%1!c!%2!c!%3!c!%1!c!", out, 128, 't', 'e', 's'), "test");
  check(format_a(kString, "%1!C!%2!lc!", out, 128, L'W', L'x'), "Wx");
  check(format_a(kString, "%1!d!%2!d!%3!d!", out, 128, 1, 2, 3), "123");
  check(format_a(kString, "[%1!4d!][%2!-4d!][%3!4x!][%4!-4X!]", out, 128, 1, 1, 11, 11),
        "[   1][1   ][   b][B   ]");
  check(format_a(kString, "%1!4.2u!", out, 128, 3), "  03");
  check(format_a(kString, "%1!*.*u!", out, 128, 5, 3, 1), "  001");
  check(format_a(kString, "%1!*s!", out, 128, 4, "t"), "   t");
  check(format_a(kString, "%1!3s!|%2!.2s!", out, 128, "t", "abc"), "  t|ab");
  check(format_a(kString, "%1", out, 128, static_cast<const char*>(nullptr)), "(null)");
  check(format_a(kString, "%1!I64u! %2!lu! %3!ld!", out, 128, 1ULL << 40, 7u, -5),
        "1099511627776 7 -5");
  check(format_a(kString, "%1!p!", out, 128, reinterpret_cast<void*>(0xABC)), "0000000000000ABC");
  check(format_a(kString, "%10!s!%1", out, 128, "1", "2", "3", "4", "5", "6", "7", "8", "9", "ten"),
        "ten1");
  check(format_a(kString, "%11", out, 128, "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11"),
        "11");
  check(format_a(kString, "%1%n%2", out, 128, "a", "b"), "a\r\nb");
  char* wide_out = nullptr;  // a width beyond any fixed buffer
  ASSERT_EQ(format_a(kString | FORMAT_MESSAGE_ALLOCATE_BUFFER, "%1!600d!|%2!-600s!|",
                     reinterpret_cast<char*>(&wide_out), 0, 7, "s"),
            1202u);
  EXPECT_EQ(std::string(wide_out, 600), std::string(599, ' ') + "7");
  EXPECT_EQ(std::string(wide_out + 601, 600), "s" + std::string(599, ' '));
  LocalFree(wide_out);

  wchar_t wout[128];
  auto wcheck = [&](DWORD n, const wchar_t* want) {
    EXPECT_STREQ(wout, want);
    EXPECT_EQ(n, std::wcslen(want));
  };
  wcheck(format_w(kString, L"%1!s!", wout, 128, L"test"), L"test");
  wcheck(format_w(kString, L"%1!S!|%2!hs!|%3!ls!", wout, 128, "narrow", "h", L"l"), L"narrow|h|l");
  wcheck(format_w(kString, L"%1!c!%2!C!%3!wc!", wout, 128, L't', 'e', L's'), L"tes");
  wcheck(format_w(kString, L"%1!*.*u!", wout, 128, 5, 3, 1), L"  001");
  wcheck(format_w(kString, L"%1!-4X!|", wout, 128, 0x1ab), L"1AB |");
  wcheck(format_w(kString, L"%1", wout, 128, static_cast<const wchar_t*>(nullptr)), L"(null)");
  wcheck(format_w(kString, L"caf\u00e9 %1", wout, 128, L"\u00fcber"), L"caf\u00e9 \u00fcber");

  // A bad format fails before any output.
  SetLastError(kSentinel);
  EXPECT_EQ(format_a(kString, "%1!n!", out, 128, 1), 0u);
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_PARAMETER));
  SetLastError(kSentinel);
  EXPECT_EQ(format_a(kString, "%1!d", out, 128, 1), 0u);
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_PARAMETER));
}

TEST(Win32FormatMessage, AnArgumentArrayHoldsOneDwordPtrPerInsert) {
  DWORD_PTR numbers[] = {6, 4, 2, 5, 3, 1};
  char out[64];
  DWORD n = FormatMessageA(kString | FORMAT_MESSAGE_ARGUMENT_ARRAY, "%1!*.*u!,%4!*.*u!", 0, 0, out,
                           sizeof out, reinterpret_cast<va_list*>(numbers));
  EXPECT_STREQ(out, "  0002,  001");
  EXPECT_EQ(n, 12u);
  DWORD_PTR strings[] = {reinterpret_cast<DWORD_PTR>(L"pipe"), 231};
  wchar_t wout[64];
  n = FormatMessageW(kString | FORMAT_MESSAGE_ARGUMENT_ARRAY, L"%1 failed: %2!d!", 0, 0, wout, 64,
                     reinterpret_cast<va_list*>(strings));
  EXPECT_STREQ(wout, L"pipe failed: 231");
  EXPECT_EQ(n, 16u);
}

TEST(Win32FormatMessage, SystemTextsOfPipeErrorsEndWithCrLf) {
  char buf[256];
  DWORD n = FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, nullptr,
                           ERROR_PIPE_BUSY, MAKELANGID(LANG_NEUTRAL, SUBLANG_DEFAULT), buf,
                           sizeof buf, nullptr);
  EXPECT_STREQ(buf, "All pipe instances are busy.\r\n");
  EXPECT_EQ(n, std::strlen(buf));
  LPWSTR text = nullptr;
  n = FormatMessageW(
      FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS,
      nullptr, ERROR_BROKEN_PIPE, 0, reinterpret_cast<LPWSTR>(&text), 0, nullptr);
  ASSERT_NE(text, nullptr);
  EXPECT_STREQ(text, L"The pipe has been ended.\r\n");
  EXPECT_GE(LocalSize(text), (n + 1) * sizeof(wchar_t));
  LocalFree(text);
  // The width mask turns the final line break into a space (a well-known Windows result).
  n = FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_MAX_WIDTH_MASK, nullptr,
                     ERROR_NO_DATA, 0, buf, sizeof buf, nullptr);
  EXPECT_STREQ(buf, "The pipe is being closed. ");
  EXPECT_EQ(n, std::strlen(buf));
  // No message table in a module: FROM_HMODULE | FROM_SYSTEM falls back to the system's.
  n = FormatMessageA(FORMAT_MESSAGE_FROM_HMODULE | FORMAT_MESSAGE_FROM_SYSTEM, nullptr,
                     ERROR_PIPE_NOT_CONNECTED, 0, buf, sizeof buf, nullptr);
  EXPECT_STREQ(buf, "No process is on the other end of the pipe.\r\n");
  // A system text with inserts needs arguments unless inserts are ignored.
  SetLastError(kSentinel);
  EXPECT_EQ(FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM, nullptr, ERROR_MR_MID_NOT_FOUND, 0, buf,
                           sizeof buf, nullptr),
            0u);
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_PARAMETER));
  DWORD_PTR args[] = {reinterpret_cast<DWORD_PTR>("1234"), reinterpret_cast<DWORD_PTR>("x.dll")};
  n = FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_ARGUMENT_ARRAY, nullptr,
                     ERROR_MR_MID_NOT_FOUND, 0, buf, sizeof buf, reinterpret_cast<va_list*>(args));
  EXPECT_STREQ(buf,
               "The system cannot find message text for message number 0x1234 in the message "
               "file for x.dll.\r\n");
  SetLastError(kSentinel);
  EXPECT_EQ(
      FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM, nullptr, 0x12345, 0, buf, sizeof buf, nullptr),
      0u);
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_MR_MID_NOT_FOUND));
}

TEST(Win32FormatMessage, ASmallBufferFailsAndOnlyTheWideCallFillsIt) {
  for (DWORD size : {0u, 1u, 4u}) {
    char out[8] = "xxxxxx";
    SetLastError(kSentinel);
    EXPECT_EQ(FormatMessageA(kString, "test", 0, 0, out, size, nullptr), 0u);
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INSUFFICIENT_BUFFER));
    EXPECT_STREQ(out, "xxxxxx") << size;  // untouched

    wchar_t wout[8] = L"xxxxxx";
    SetLastError(kSentinel);
    EXPECT_EQ(FormatMessageW(kString, L"test", 0, 0, wout, size, nullptr), 0u);
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INSUFFICIENT_BUFFER));
    const wchar_t* want = size == 0 ? L"xxxxxx" : size == 1 ? L"" : L"tes";
    EXPECT_STREQ(wout, want) << size;
  }
  char out[5];
  EXPECT_EQ(FormatMessageA(kString, "test", 0, 0, out, 5, nullptr), 4u);
  // A null buffer: the A call checks only the size, the W call refuses it.
  SetLastError(kSentinel);
  EXPECT_EQ(FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM, nullptr, 0, 0, nullptr, 1, nullptr), 0u);
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INSUFFICIENT_BUFFER));
  SetLastError(kSentinel);
  EXPECT_EQ(FormatMessageW(FORMAT_MESSAGE_FROM_SYSTEM, nullptr, 0, 0, nullptr, 256, nullptr), 0u);
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_PARAMETER));
}

TEST(Win32FormatMessage, AllocateBufferClearsThePointerWhenItFails) {
  char* p = reinterpret_cast<char*>(0x1);
  SetLastError(kSentinel);
  EXPECT_EQ(FormatMessageA(kString | FORMAT_MESSAGE_ALLOCATE_BUFFER, "", 0, 0,
                           reinterpret_cast<char*>(&p), 0, nullptr),
            0u);
  EXPECT_EQ(p, nullptr);
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_NO_WORK_DONE));
  p = reinterpret_cast<char*>(0x1);
  EXPECT_EQ(FormatMessageA(FORMAT_MESSAGE_ALLOCATE_BUFFER, "test", 0, 0,
                           reinterpret_cast<char*>(&p), 0, nullptr),
            0u);
  EXPECT_EQ(p, nullptr);
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_PARAMETER));
  for (DWORD size : {0u, 4u, 1024u}) {
    EXPECT_EQ(FormatMessageA(kString | FORMAT_MESSAGE_ALLOCATE_BUFFER, "test", 0, 0,
                             reinterpret_cast<char*>(&p), size, nullptr),
              4u);
    ASSERT_NE(p, nullptr);
    EXPECT_STREQ(p, "test");
    EXPECT_GE(LocalSize(p), size);
    LocalFree(p);
  }
  wchar_t* w = nullptr;
  EXPECT_EQ(format_w(kString | FORMAT_MESSAGE_ALLOCATE_BUFFER, L"<%1>",
                     reinterpret_cast<wchar_t*>(&w), 0, L"x"),
            3u);
  ASSERT_NE(w, nullptr);
  EXPECT_STREQ(w, L"<x>");
  LocalFree(w);
  // A null lpBuffer: Windows' A and W calls report it differently.
  SetLastError(kSentinel);
  EXPECT_EQ(FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_ALLOCATE_BUFFER, nullptr, 0,
                           0, nullptr, 0, nullptr),
            0u);
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_NOT_ENOUGH_MEMORY));
  SetLastError(kSentinel);
  EXPECT_EQ(FormatMessageW(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_ALLOCATE_BUFFER, nullptr, 0,
                           0, nullptr, 0, nullptr),
            0u);
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_PARAMETER));
}

}  // namespace
