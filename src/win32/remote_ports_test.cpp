// The inbox's side of completion packets from other processes (remote_ports.hpp); the whole
// path, with child processes, is in handle_transfer_test.cpp.
#include "win32/remote_ports.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "win32/async.hpp"

namespace {

using sluice::win32::RemoteOperations;

TEST(Win32RemoteOperations, MessagesOfOtherKindsAreLeftToTheInbox) {
  auto poller = sluice::os::Poller::create();
  ASSERT_TRUE(poller);
  RemoteOperations operations;
  EXPECT_FALSE(operations.serve(1, "0|n,0,0,1,-", *poller));  // a DuplicateHandle request
  EXPECT_FALSE(operations.serve(1, "", *poller));
  EXPECT_FALSE(operations.serve(1, "pkt", *poller));
}

TEST(Win32RemoteOperations, MalformedPacketMessagesAreTakenAndIgnored) {
  auto poller = sluice::os::Poller::create();
  ASSERT_TRUE(poller);
  RemoteOperations operations;
  std::uint32_t me = static_cast<std::uint32_t>(::getpid());
  for (const char* message :
       {"pend|1|2|3", "pend|1|2|3|0", "pend|1|2|3|x", "pend|1|2|3|4|5", "pkt|1|2|3|4|5",
        "pkt|1|2|3|4|5|6|7", "pkt|a|2|3|4|5|6", "pkt|1|2|3|99999999999|5|6", "drop|", "drop|-1",
        "pend|||||", "pkt|1|2|3|4|5|"}) {
    EXPECT_TRUE(operations.serve(me, message, *poller)) << message;
  }
  // None of them was an announcement, so an exit reports nothing (and does not fail).
  operations.process_exited(me, *poller);
}

// A process that has exited and been reaped, whose pid no live process has (yet).
std::uint32_t reaped_child() {
  pid_t pid = ::fork();
  if (pid == 0) ::_exit(0);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return static_cast<std::uint32_t>(pid);
}

std::uint64_t port_id_of(HANDLE port) {
  auto object = sluice::win32::globals().handles.get(port);
  return static_cast<sluice::win32::PortObject&>(*object).queue->id;
}

// The issuer's killer may reap it before the inbox reads its announcement (the inbox then
// cannot watch it): its operation still completes aborted once the queue has been read.
TEST(Win32RemoteOperations, AnAnnouncementFromAnIssuerReapedBeforeItWasReadCompletesAborted) {
  auto poller = sluice::os::Poller::create();
  ASSERT_TRUE(poller);
  HANDLE port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, nullptr, 0, 1);
  ASSERT_NE(port, nullptr);
  std::uint32_t gone = reaped_child();
  RemoteOperations operations;
  std::string id = std::to_string(port_id_of(port));
  EXPECT_TRUE(operations.serve(gone, "pend|" + id + "|7|4096|42", *poller));
  EXPECT_TRUE(operations.serve(gone, "pend|" + id + "|8|8192|43", *poller));
  // The second operation had completed before the issuer died: its packet was queued after.
  EXPECT_TRUE(operations.serve(gone, "pkt|" + id + "|8|8192|0|5|43", *poller));
  operations.settle_gone_issuers();
  DWORD bytes = 99;
  ULONG_PTR key = 0;
  LPOVERLAPPED ov = nullptr;
  EXPECT_TRUE(GetQueuedCompletionStatus(port, &bytes, &key, &ov, 0));  // the real packet first
  EXPECT_EQ(key, 8u);
  EXPECT_EQ(bytes, 5u);
  EXPECT_FALSE(GetQueuedCompletionStatus(port, &bytes, &key, &ov, 0));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_OPERATION_ABORTED));
  EXPECT_EQ(key, 7u);
  EXPECT_EQ(ov, reinterpret_cast<LPOVERLAPPED>(4096));
  EXPECT_EQ(bytes, 0u);
  EXPECT_FALSE(GetQueuedCompletionStatus(port, &bytes, &key, &ov, 0));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(WAIT_TIMEOUT));
  CloseHandle(port);
}

}  // namespace
