// Named events: one object per name, shared between processes, gone with its last handle.
// Multi-process tests run this binary again as helpers (CreateProcess), waiting on their process
// handles with bounded time-outs.
#include <windows.h>

#include <gtest/gtest.h>

#include <string>
#include <thread>

#include "helper_process.hpp"
#include "sluice/event.hpp"
#include "sluice/registry.hpp"
#include "win32/win32_test_util.hpp"

namespace {

using sluice::win32::testing::kSentinel;
using sluice::win32::testing::self_path;
using sluice::win32::testing::start_helper;

constexpr DWORD kLong = 10000;  // ms: a bound for what must happen, never reached when it does

// `Test.Case-suffix-pid`: unique per test and process.
std::string event_name(const char* suffix) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  return std::string(info->test_suite_name()) + "." + info->name() + "-" + suffix + "-" +
         std::to_string(GetCurrentProcessId());
}

// The name's last handle is closed: no event of that name is left behind.
void expect_gone(const std::string& name) {
  SetLastError(kSentinel);
  EXPECT_EQ(OpenEventA(SYNCHRONIZE, FALSE, name.c_str()), nullptr) << name;
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_FILE_NOT_FOUND)) << name;
}

DWORD exit_code(HANDLE process) {
  DWORD code = 12345;
  GetExitCodeProcess(process, &code);
  return code;
}

// ---- one process --------------------------------------------------------------------------------

TEST(Win32NamedEvents, CreatingAnExistingNameOpensItAndSaysSo) {
  std::string name = event_name("e");
  SetLastError(kSentinel);
  HANDLE a = CreateEventA(nullptr, TRUE, FALSE, name.c_str());
  ASSERT_NE(a, nullptr) << GetLastError();
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_SUCCESS));
  // The second call's manual-reset and initial-state arguments are ignored.
  SetLastError(kSentinel);
  HANDLE b = CreateEventA(nullptr, FALSE, TRUE, name.c_str());
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_ALREADY_EXISTS));
  EXPECT_NE(a, b);
  EXPECT_EQ(WaitForSingleObject(b, 0), static_cast<DWORD>(WAIT_TIMEOUT));
  EXPECT_TRUE(SetEvent(a));
  EXPECT_EQ(WaitForSingleObject(b, 0), WAIT_OBJECT_0);
  EXPECT_EQ(WaitForSingleObject(b, 0), WAIT_OBJECT_0);  // manual reset, as created
  EXPECT_TRUE(ResetEvent(b));
  EXPECT_EQ(WaitForSingleObject(a, 0), static_cast<DWORD>(WAIT_TIMEOUT));
  // The W entry points name the same object.
  std::wstring wide(name.begin(), name.end());
  HANDLE c = OpenEventW(EVENT_ALL_ACCESS, FALSE, wide.c_str());
  ASSERT_NE(c, nullptr);
  SetLastError(kSentinel);
  HANDLE d = CreateEventW(nullptr, FALSE, FALSE, wide.c_str());
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_ALREADY_EXISTS));
  EXPECT_TRUE(SetEvent(c));
  EXPECT_EQ(WaitForSingleObject(d, 0), WAIT_OBJECT_0);
  for (HANDLE h : {a, b, c, d}) EXPECT_TRUE(CloseHandle(h));
  expect_gone(name);
}

TEST(Win32NamedEvents, NamesFollowWindowsRules) {
  std::string name = event_name("n");
  HANDLE e = CreateEventA(nullptr, FALSE, FALSE, name.c_str());
  ASSERT_NE(e, nullptr);
  std::string upper = name;
  for (auto& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  std::string local = "Local\\" + name;
  std::string too_long(MAX_PATH + 1, 'x');
  struct Case {
    std::string name;
    DWORD error;  // 0: opens
  } cases[] = {
      {name, 0},
      {local, 0},                     // Local\ is the default namespace
      {upper, ERROR_FILE_NOT_FOUND},  // names are case-sensitive
      {name + "-missing", ERROR_FILE_NOT_FOUND},
      {"a\\b" + name, ERROR_PATH_NOT_FOUND},  // a backslash names an object directory
      {"Global\\a\\" + name, ERROR_PATH_NOT_FOUND},
      {too_long, ERROR_FILENAME_EXCED_RANGE},  // the A calls' documented limit
  };
  for (const auto& c : cases) {
    SetLastError(kSentinel);
    HANDLE h = OpenEventA(SYNCHRONIZE, FALSE, c.name.c_str());
    if (c.error == 0) {
      EXPECT_NE(h, nullptr) << c.name;
      EXPECT_EQ(GetLastError(), kSentinel) << c.name;
      CloseHandle(h);
    } else {
      EXPECT_EQ(h, nullptr) << c.name;
      EXPECT_EQ(GetLastError(), c.error) << c.name;
    }
  }
  SetLastError(kSentinel);
  EXPECT_EQ(OpenEventA(EVENT_ALL_ACCESS, FALSE, nullptr), nullptr);
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_PARAMETER));
  SetLastError(kSentinel);
  EXPECT_EQ(CreateEventA(nullptr, FALSE, FALSE, ("x\\" + name).c_str()), nullptr);
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_PATH_NOT_FOUND));
  // Global\ names are their own namespace unless this process has no session (like session 0).
  HANDLE global = CreateEventA(nullptr, FALSE, FALSE, ("Global\\" + name).c_str());
  ASSERT_NE(global, nullptr) << GetLastError();
  CloseHandle(global);
  // "" is no name: a new unnamed event each time.
  HANDLE u1 = CreateEventA(nullptr, TRUE, TRUE, "");
  HANDLE u2 = CreateEventA(nullptr, TRUE, FALSE, "");
  ASSERT_NE(u1, nullptr);
  ASSERT_NE(u2, nullptr);
  EXPECT_EQ(WaitForSingleObject(u2, 0), static_cast<DWORD>(WAIT_TIMEOUT));
  CloseHandle(u1);
  CloseHandle(u2);
  CloseHandle(e);
  expect_gone(name);
}

TEST(Win32NamedEvents, TheEventGoesAwayWithItsLastHandle) {
  std::string name = event_name("life");
  HANDLE a = CreateEventA(nullptr, TRUE, TRUE, name.c_str());
  ASSERT_NE(a, nullptr);
  HANDLE b = OpenEventA(SYNCHRONIZE, FALSE, name.c_str());
  ASSERT_NE(b, nullptr);
  CloseHandle(a);
  EXPECT_EQ(WaitForSingleObject(b, 0), WAIT_OBJECT_0);  // still there: b holds it
  HANDLE c = OpenEventA(SYNCHRONIZE, FALSE, name.c_str());
  ASSERT_NE(c, nullptr);
  CloseHandle(c);
  CloseHandle(b);
  SetLastError(kSentinel);
  EXPECT_EQ(OpenEventA(SYNCHRONIZE, FALSE, name.c_str()), nullptr);
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_FILE_NOT_FOUND));
  // A fresh event, with the new arguments.
  SetLastError(kSentinel);
  HANDLE d = CreateEventA(nullptr, FALSE, FALSE, name.c_str());
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_SUCCESS));
  EXPECT_EQ(WaitForSingleObject(d, 0), static_cast<DWORD>(WAIT_TIMEOUT));
  CloseHandle(d);
}

TEST(Win32NamedEvents, HandleRightsLimitWhatTheHandleMayDo) {
  std::string name = event_name("r");
  HANDLE e = CreateEventA(nullptr, TRUE, FALSE, name.c_str());
  ASSERT_NE(e, nullptr);
  HANDLE wait_only = OpenEventA(SYNCHRONIZE, FALSE, name.c_str());
  HANDLE modify_only = OpenEventA(EVENT_MODIFY_STATE, FALSE, name.c_str());
  ASSERT_NE(wait_only, nullptr);
  ASSERT_NE(modify_only, nullptr);
  SetLastError(kSentinel);
  EXPECT_FALSE(SetEvent(wait_only));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_ACCESS_DENIED));
  EXPECT_FALSE(ResetEvent(wait_only));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_ACCESS_DENIED));
  EXPECT_TRUE(SetEvent(modify_only));
  SetLastError(kSentinel);
  EXPECT_EQ(WaitForSingleObject(modify_only, 0), WAIT_FAILED);
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_ACCESS_DENIED));
  EXPECT_EQ(WaitForSingleObject(wait_only, 0), WAIT_OBJECT_0);
  for (HANDLE h : {e, wait_only, modify_only}) CloseHandle(h);
  expect_gone(name);
}

TEST(Win32NamedEvents, AnAutoResetEventReleasesOneThreadPerSet) {
  std::string name = event_name("auto");
  HANDLE e = CreateEventA(nullptr, FALSE, FALSE, name.c_str());
  HANDLE other = OpenEventA(SYNCHRONIZE, FALSE, name.c_str());
  HANDLE local = CreateEventA(nullptr, TRUE, FALSE, nullptr);
  ASSERT_NE(other, nullptr);
  std::thread waiter([&] {
    // A wait on an unnamed and a named event at once, through a second handle.
    HANDLE both[2] = {local, other};
    EXPECT_EQ(WaitForMultipleObjects(2, both, FALSE, kLong), WAIT_OBJECT_0 + 1);
  });
  EXPECT_TRUE(SetEvent(e));
  waiter.join();
  EXPECT_EQ(WaitForSingleObject(e, 0), static_cast<DWORD>(WAIT_TIMEOUT));  // it was consumed
  // Wait-all takes the auto-reset event only when the manual one is set too.
  EXPECT_TRUE(SetEvent(e));
  HANDLE both[2] = {local, e};
  EXPECT_EQ(WaitForMultipleObjects(2, both, TRUE, 0), static_cast<DWORD>(WAIT_TIMEOUT));
  EXPECT_EQ(WaitForSingleObject(other, 0), WAIT_OBJECT_0);
  EXPECT_TRUE(SetEvent(e));
  EXPECT_TRUE(SetEvent(local));
  EXPECT_EQ(WaitForMultipleObjects(2, both, TRUE, 0), WAIT_OBJECT_0);
  EXPECT_EQ(WaitForSingleObject(e, 0), static_cast<DWORD>(WAIT_TIMEOUT));
  EXPECT_EQ(WaitForSingleObject(local, 0), WAIT_OBJECT_0);
  for (HANDLE h : {e, other, local}) CloseHandle(h);
  expect_gone(name);
}

// ---- several processes --------------------------------------------------------------------------

// Opens `go` (args[0]), tells the parent through the named event args[1], waits on `go` (with a
// never-set unnamed event beside it), then sets args[2] if given. Exit 0 when `go` released it.
SLUICE_TEST_HELPER(named_event_waiter) {
  HANDLE go = OpenEventA(SYNCHRONIZE, FALSE, args.at(0).c_str());
  HANDLE ready = OpenEventA(EVENT_MODIFY_STATE, FALSE, args.at(1).c_str());
  if (!go || !ready) return 2;
  HANDLE never = CreateEventA(nullptr, TRUE, FALSE, nullptr);
  HANDLE both[2] = {never, go};
  if (!SetEvent(ready)) return 3;
  if (WaitForMultipleObjects(2, both, FALSE, kLong) != WAIT_OBJECT_0 + 1) return 4;
  if (args.size() > 2) {
    HANDLE done = OpenEventA(EVENT_MODIFY_STATE, FALSE, args[2].c_str());
    if (!done || !SetEvent(done)) return 5;
  }
  return 0;
}

TEST(Win32NamedEvents, AnAutoResetSetReleasesExactlyOneWaitingProcess) {
  std::string go = event_name("go"), ready1 = event_name("r1"), ready2 = event_name("r2");
  HANDLE e = CreateEventA(nullptr, FALSE, FALSE, go.c_str());
  HANDLE r1 = CreateEventA(nullptr, TRUE, FALSE, ready1.c_str());
  HANDLE r2 = CreateEventA(nullptr, TRUE, FALSE, ready2.c_str());
  ASSERT_TRUE(e && r1 && r2);
  HANDLE p[2] = {start_helper("named_event_waiter", go + " " + ready1),
                 start_helper("named_event_waiter", go + " " + ready2)};
  ASSERT_TRUE(p[0] && p[1]);
  HANDLE ready[2] = {r1, r2};
  ASSERT_EQ(WaitForMultipleObjects(2, ready, TRUE, kLong), WAIT_OBJECT_0);
  // Both children are (about to be) waiting; one SetEvent releases one of them.
  ASSERT_TRUE(SetEvent(e));
  DWORD first = WaitForMultipleObjects(2, p, FALSE, kLong);
  ASSERT_TRUE(first == WAIT_OBJECT_0 || first == WAIT_OBJECT_0 + 1) << first;
  HANDLE second = p[1 - (first - WAIT_OBJECT_0)];
  EXPECT_EQ(exit_code(p[first - WAIT_OBJECT_0]), 0u);
  EXPECT_EQ(WaitForSingleObject(second, 300), static_cast<DWORD>(WAIT_TIMEOUT));
  EXPECT_EQ(WaitForSingleObject(e, 0), static_cast<DWORD>(WAIT_TIMEOUT));  // consumed
  ASSERT_TRUE(SetEvent(e));
  EXPECT_EQ(WaitForSingleObject(second, kLong), WAIT_OBJECT_0);
  EXPECT_EQ(exit_code(second), 0u);
  for (HANDLE h : {e, r1, r2, p[0], p[1]}) CloseHandle(h);
  for (const auto& n : {go, ready1, ready2}) expect_gone(n);
}

TEST(Win32NamedEvents, AManualResetSetReleasesEveryProcessAndTheyAnswer) {
  std::string go = event_name("go"), ready1 = event_name("r1"), ready2 = event_name("r2"),
              done = event_name("done");
  HANDLE e = CreateEventA(nullptr, TRUE, FALSE, go.c_str());
  HANDLE r1 = CreateEventA(nullptr, TRUE, FALSE, ready1.c_str());
  HANDLE r2 = CreateEventA(nullptr, TRUE, FALSE, ready2.c_str());
  HANDLE d = CreateEventA(nullptr, FALSE, FALSE, done.c_str());  // auto: one answer per set
  ASSERT_TRUE(e && r1 && r2 && d);
  HANDLE p[2] = {start_helper("named_event_waiter", go + " " + ready1 + " " + done),
                 start_helper("named_event_waiter", go + " " + ready2 + " " + done)};
  ASSERT_TRUE(p[0] && p[1]);
  HANDLE ready[2] = {r1, r2};
  ASSERT_EQ(WaitForMultipleObjects(2, ready, TRUE, kLong), WAIT_OBJECT_0);
  ASSERT_TRUE(SetEvent(e));
  // The answers come from other processes through the watcher's futex wake-up.
  EXPECT_EQ(WaitForSingleObject(d, kLong), WAIT_OBJECT_0);
  EXPECT_EQ(WaitForMultipleObjects(2, p, TRUE, kLong), WAIT_OBJECT_0);
  EXPECT_EQ(exit_code(p[0]), 0u);
  EXPECT_EQ(exit_code(p[1]), 0u);
  EXPECT_EQ(WaitForSingleObject(e, 0), WAIT_OBJECT_0);  // still set
  for (HANDLE h : {e, r1, r2, d, p[0], p[1]}) CloseHandle(h);
  for (const auto& n : {go, ready1, ready2, done}) expect_gone(n);
}

// Waits for all of args[0] (manual) and args[1] (auto), after setting args[2].
SLUICE_TEST_HELPER(named_event_wait_all) {
  HANDLE all[2] = {OpenEventA(SYNCHRONIZE, FALSE, args.at(0).c_str()),
                   OpenEventA(SYNCHRONIZE, FALSE, args.at(1).c_str())};
  HANDLE ready = OpenEventA(EVENT_MODIFY_STATE, FALSE, args.at(2).c_str());
  if (!all[0] || !all[1] || !ready || !SetEvent(ready)) return 2;
  return WaitForMultipleObjects(2, all, TRUE, kLong) == WAIT_OBJECT_0 ? 0 : 3;
}

TEST(Win32NamedEvents, WaitAllInAnotherProcessTakesBothAtOnce) {
  std::string m = event_name("m"), a = event_name("a"), r = event_name("r");
  HANDLE manual = CreateEventA(nullptr, TRUE, FALSE, m.c_str());
  HANDLE autoe = CreateEventA(nullptr, FALSE, FALSE, a.c_str());
  HANDLE ready = CreateEventA(nullptr, TRUE, FALSE, r.c_str());
  HANDLE p = start_helper("named_event_wait_all", m + " " + a + " " + r);
  ASSERT_TRUE(manual && autoe && ready && p);
  ASSERT_EQ(WaitForSingleObject(ready, kLong), WAIT_OBJECT_0);
  ASSERT_TRUE(SetEvent(autoe));
  EXPECT_EQ(WaitForSingleObject(p, 300), static_cast<DWORD>(WAIT_TIMEOUT));  // manual not set
  ASSERT_TRUE(SetEvent(manual));
  ASSERT_EQ(WaitForSingleObject(p, kLong), WAIT_OBJECT_0);
  EXPECT_EQ(exit_code(p), 0u);
  EXPECT_EQ(WaitForSingleObject(autoe, 0), static_cast<DWORD>(WAIT_TIMEOUT));  // taken
  EXPECT_EQ(WaitForSingleObject(manual, 0), WAIT_OBJECT_0);
  for (HANDLE h : {manual, autoe, ready, p}) CloseHandle(h);
  for (const auto& n : {m, a, r}) expect_gone(n);
}

// Creates args[0] (manual, set), sets args[1], then waits for ever (killed by the parent).
SLUICE_TEST_HELPER(named_event_holder) {
  HANDLE held = CreateEventA(nullptr, TRUE, TRUE, args.at(0).c_str());
  HANDLE ready = OpenEventA(EVENT_MODIFY_STATE, FALSE, args.at(1).c_str());
  if (!held || !ready || !SetEvent(ready)) return 2;
  HANDLE never = CreateEventA(nullptr, TRUE, FALSE, nullptr);
  WaitForSingleObject(never, INFINITE);
  return 3;
}

TEST(Win32NamedEvents, AKilledLastHolderTakesTheEventWithIt) {
  std::string held = event_name("held"), r = event_name("r");
  HANDLE ready = CreateEventA(nullptr, TRUE, FALSE, r.c_str());
  HANDLE p = start_helper("named_event_holder", held + " " + r);
  ASSERT_TRUE(ready && p);
  ASSERT_EQ(WaitForSingleObject(ready, kLong), WAIT_OBJECT_0);
  // Another process's event is visible here, with its state.
  HANDLE seen = OpenEventA(SYNCHRONIZE, FALSE, held.c_str());
  ASSERT_NE(seen, nullptr);
  EXPECT_EQ(WaitForSingleObject(seen, 0), WAIT_OBJECT_0);
  CloseHandle(seen);
  ASSERT_TRUE(TerminateProcess(p, 9));
  ASSERT_EQ(WaitForSingleObject(p, kLong), WAIT_OBJECT_0);
  SetLastError(kSentinel);
  EXPECT_EQ(OpenEventA(SYNCHRONIZE, FALSE, held.c_str()), nullptr);
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_FILE_NOT_FOUND));
  SetLastError(kSentinel);
  HANDLE fresh = CreateEventA(nullptr, TRUE, FALSE, held.c_str());
  ASSERT_NE(fresh, nullptr);
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_SUCCESS));
  EXPECT_EQ(WaitForSingleObject(fresh, 0), static_cast<DWORD>(WAIT_TIMEOUT));
  for (HANDLE h : {fresh, ready, p}) CloseHandle(h);
  for (const auto& n : {held, r}) expect_gone(n);
}

// ---- the C++ API in another process ------------------------------------------------------------

// A program of the C++ API (sluice::Event) in the layer's namespace ($SLUICE_PIPE_DIR): creates
// args[0] (finding it there), then answers each of the two sets of it with a set of args[1].
SLUICE_TEST_HELPER(named_event_cpp_answerer) {
  using namespace std::chrono_literals;
  auto reg = sluice::Registry::open();
  if (!reg) return 2;
  auto go = sluice::Event::create(*reg, args.at(0), {.manual_reset = true});
  auto answer = sluice::Event::open(*reg, args.at(1));
  if (!go || !answer) return 3;
  if (!go->existed() || go->manual_reset()) return 4;  // the Win32 side's auto-reset event
  for (int i = 0; i < 2; ++i) {
    if (!go->wait(10s)) return 5;
    answer->set();
  }
  return 0;
}

TEST(Win32NamedEvents, AProgramOfTheCppApiSharesTheEventWithAWin32Program) {
  std::string go = event_name("go"), answer = event_name("answer");
  HANDLE g = CreateEventA(nullptr, FALSE, FALSE, go.c_str());
  HANDLE a = CreateEventA(nullptr, FALSE, FALSE, answer.c_str());
  ASSERT_TRUE(g && a);
  HANDLE p = start_helper("named_event_cpp_answerer", go + " " + answer);
  ASSERT_NE(p, nullptr);
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(SetEvent(g));
    HANDLE either[2] = {a, p};  // the helper's early exit ends the wait too
    ASSERT_EQ(WaitForMultipleObjects(2, either, FALSE, kLong), WAIT_OBJECT_0)
        << "exit code " << exit_code(p);
  }
  ASSERT_EQ(WaitForSingleObject(p, kLong), WAIT_OBJECT_0);
  EXPECT_EQ(exit_code(p), 0u);
  EXPECT_EQ(WaitForSingleObject(g, 0), static_cast<DWORD>(WAIT_TIMEOUT)) << "the helper took both";
  for (HANDLE h : {g, a, p}) CloseHandle(h);
  for (const auto& n : {go, answer}) expect_gone(n);
}

}  // namespace
