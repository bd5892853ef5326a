// The inbox's side of completion packets from other processes (remote_ports.hpp); the whole
// path, with child processes, is in handle_transfer_test.cpp.
#include "win32/remote_ports.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

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

}  // namespace
