// Named pipes in one process: Windows' results per instance state, quotas, modes and error codes.
#include "sluice/named_pipe.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "pipe_fixture.hpp"
#include "thread_state.hpp"

namespace sluice {
namespace {

using namespace std::chrono_literals;
using testing::bytes;
using testing::text;

class NamedPipe : public testing::PipeTest {
 protected:
  ServerEnd server(ServerOptions o = {}, std::string_view suffix = "p") {
    auto s = ServerEnd::create(registry(), pipe_name(suffix), o);
    EXPECT_TRUE(s) << s.error().message();
    return s ? std::move(*s) : ServerEnd{};
  }
  ClientEnd client(ClientOptions o = {}, std::string_view suffix = "p") {
    auto c = ClientEnd::open(registry(), pipe_name(suffix), o);
    EXPECT_TRUE(c) << c.error().message();
    return c ? std::move(*c) : ClientEnd{};
  }
  static ServerOptions message_pipe() {
    ServerOptions o;
    o.type = PipeType::kMessage;
    o.read_mode = ReadMode::kMessage;
    return o;
  }
  static std::string read_text(PipeEnd& end, std::size_t size = 4096) {
    std::vector<std::byte> buf(size);
    auto r = end.read(buf);
    EXPECT_TRUE(r) << r.error().message();
    return r ? text(std::span(buf).first(r->bytes)) : std::string();
  }
};

TEST_F(NamedPipe, ClientConnectsBeforeConnectAndConnectReportsPipeConnected) {
  ServerEnd s = server();
  ClientEnd c = client();
  auto status = s.connect();
  ASSERT_TRUE(status);
  EXPECT_EQ(*status, ConnectStatus::kAlreadyConnected);
}

TEST_F(NamedPipe, ConnectWaitsForAClientThatComesLater) {
  ServerEnd s = server();
  std::atomic<int> connecting{0};
  std::thread later([&] {
    ASSERT_TRUE(testing::wait_until_sleeping(connecting, 5s));  // connect() is waiting now
    ClientEnd c = client();
    ASSERT_TRUE(c.write(bytes("hi")));
    ASSERT_TRUE(c.flush());
  });
  connecting = testing::current_thread_id();
  auto status = s.connect();
  ASSERT_TRUE(status);
  EXPECT_EQ(*status, ConnectStatus::kConnected);
  EXPECT_EQ(read_text(s), "hi");
  later.join();
}

TEST_F(NamedPipe, DataFlowsBothWaysOnADuplexByteePipe) {
  ServerEnd s = server();
  ClientEnd c = client();
  ASSERT_EQ(c.write(bytes("ping")).value(), 4u);
  EXPECT_EQ(read_text(s), "ping");
  ASSERT_EQ(s.write(bytes("pong!")).value(), 5u);
  EXPECT_EQ(read_text(c), "pong!");
}

TEST_F(NamedPipe, NamesAreCaseInsensitiveAndNormalised) {
  ServerEnd s = server({}, "CaseTest");
  std::string upper = pipe_name("CaseTest");
  for (auto& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  upper.replace(0, 9, "\\\\.\\PIPE\\");
  auto c = ClientEnd::open(registry(), upper);
  ASSERT_TRUE(c) << c.error().message();
  std::string base = pipe_name("CaseTest").substr(9);
  auto c2 = ClientEnd::open(registry(), "\\\\.\\pipe\\x/..\\" + base + ". .");
  EXPECT_EQ(c2.error(), errc::kPipeBusy);  // same pipe, its one instance is taken
}

TEST_F(NamedPipe, BadNamesGiveTheSpecErrors) {
  EXPECT_EQ(ServerEnd::create(registry(), "").error(), errc::kPathNotFound);
  EXPECT_EQ(ServerEnd::create(registry(), "not a pipe").error(), errc::kInvalidName);
  EXPECT_EQ(ServerEnd::create(registry(), "\\\\server\\pipe\\x").error(), errc::kInvalidName);
  EXPECT_EQ(ServerEnd::create(registry(), "\\\\.\\pipe\\").error(), errc::kInvalidName);
  std::string long_name = "\\\\.\\pipe\\" + std::string(251, 'n');
  EXPECT_EQ(ServerEnd::create(registry(), long_name).error(), errc::kFilenameExcedRange);
  EXPECT_EQ(ClientEnd::open(registry(), "\\\\host\\pipe\\x").error(), errc::kBadNetpath);
  EXPECT_EQ(ClientEnd::open(registry(), pipe_name("nobody")).error(), errc::kFileNotFound);
  EXPECT_EQ(wait_for_instance(registry(), "bogus").error(), errc::kBadPathname);
}

TEST_F(NamedPipe, LongNamesUpTo259CharactersWork) {
  std::string name = "\\\\.\\pipe\\" + std::string(259 - 9, 'L');
  ASSERT_EQ(name.size(), 259u);
  auto s = ServerEnd::create(registry(), name);
  ASSERT_TRUE(s) << s.error().message();
  auto c = ClientEnd::open(registry(), name);
  ASSERT_TRUE(c) << c.error().message();
  auto names = registry().list();
  ASSERT_TRUE(names);
  EXPECT_EQ(names->size(), 1u);
  EXPECT_EQ(names->at(0), name);
}

TEST_F(NamedPipe, InvalidOptionsAreRejected) {
  ServerOptions o;
  o.max_instances = 0;
  EXPECT_EQ(ServerEnd::create(registry(), pipe_name(), o).error(), errc::kInvalidParameter);
  o.max_instances = 256;
  EXPECT_EQ(ServerEnd::create(registry(), pipe_name(), o).error(), errc::kInvalidParameter);
  ServerOptions byte_with_message_read;
  byte_with_message_read.read_mode = ReadMode::kMessage;
  EXPECT_EQ(ServerEnd::create(registry(), pipe_name(), byte_with_message_read).error(),
            errc::kInvalidParameter);
  ServerOptions bad_access;
  bad_access.access = static_cast<PipeAccess>(0);
  EXPECT_EQ(ServerEnd::create(registry(), pipe_name(), bad_access).error(),
            errc::kInvalidParameter);
}

TEST_F(NamedPipe, InstanceLimitGivesBusyAndAccessMismatchGivesDenied) {
  ServerOptions two;
  two.max_instances = 2;
  ServerEnd a = server(two);
  ServerOptions inbound = two;
  inbound.access = PipeAccess::kInbound;
  EXPECT_EQ(ServerEnd::create(registry(), pipe_name(), inbound).error(), errc::kAccessDenied);
  ServerOptions other_max;
  other_max.max_instances = 10;  // later values are accepted; the first one counts
  ServerEnd b = server(other_max);
  EXPECT_EQ(ServerEnd::create(registry(), pipe_name(), two).error(), errc::kPipeBusy);
  // At the limit busy wins over an access mismatch (the observed order).
  EXPECT_EQ(ServerEnd::create(registry(), pipe_name(), inbound).error(), errc::kPipeBusy);
  b.close();
  EXPECT_TRUE(ServerEnd::create(registry(), pipe_name(), two));
}

TEST_F(NamedPipe, FirstInstanceFlagFailsWhileTheNameExists) {
  ServerOptions first;
  first.first_instance = true;
  ServerEnd a = server(first);
  EXPECT_EQ(ServerEnd::create(registry(), pipe_name(), first).error(), errc::kAccessDenied);
  a.close();
  EXPECT_TRUE(ServerEnd::create(registry(), pipe_name(), first));
}

TEST_F(NamedPipe, NameVanishesWithTheLastServerEndEvenWithClientsOpen) {
  ServerEnd s = server();
  ClientEnd c = client();
  s.close();
  EXPECT_EQ(c.state()->current_instances, 0u);
  EXPECT_EQ(ClientEnd::open(registry(), pipe_name()).error(), errc::kFileNotFound);
  EXPECT_EQ(wait_for_instance(registry(), pipe_name(), 5000ms).error(), errc::kFileNotFound);
  ServerOptions other;
  other.first_instance = true;
  other.access = PipeAccess::kInbound;
  EXPECT_TRUE(ServerEnd::create(registry(), pipe_name(), other));
}

TEST_F(NamedPipe, ClientsGetTheInstanceListeningLongest) {
  std::vector<ServerEnd> servers;
  for (int i = 0; i < 4; ++i) servers.push_back(server());
  std::vector<ClientEnd> clients;
  for (int i = 0; i < 3; ++i) clients.push_back(client());
  auto pid = [&](int i) { return servers[static_cast<std::size_t>(i)].client_process_id(); };
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(pid(i)) << i;
  EXPECT_EQ(pid(3).error(), errc::kNotFound);
  // Disconnect 0 and 2, re-arm 2 then 0: next clients get 3, 2, 0 (a client gets the instance
  // that has been listening longest, as on Windows).
  ASSERT_TRUE(servers[0].disconnect());
  ASSERT_TRUE(servers[2].disconnect());
  servers[2].set_state(ReadMode::kByte, WaitMode::kNoWait).value();
  servers[0].set_state(ReadMode::kByte, WaitMode::kNoWait).value();
  EXPECT_EQ(servers[2].connect().error(), errc::kPipeListening);
  EXPECT_EQ(servers[0].connect().error(), errc::kPipeListening);
  for (int expected : {3, 2, 0}) {
    ClientEnd c = client();
    ASSERT_TRUE(c.write(bytes("x")));
    auto got = servers[static_cast<std::size_t>(expected)].peek();
    ASSERT_TRUE(got) << expected;
    EXPECT_EQ(got->total_available, 1u) << expected;
    clients.push_back(std::move(c));
  }
  EXPECT_EQ(ClientEnd::open(registry(), pipe_name()).error(), errc::kPipeBusy);
}

TEST_F(NamedPipe, ServerEndStateTableBeforeAClient) {
  ServerEnd s = server();
  std::byte buf[8];
  EXPECT_EQ(s.read(buf).error(), errc::kPipeListening);
  EXPECT_EQ(s.write(bytes("x")).error(), errc::kPipeListening);
  EXPECT_EQ(s.peek(buf).error(), errc::kBadPipe);
  EXPECT_TRUE(s.flush());
  EXPECT_EQ(s.client_process_id().error(), errc::kNotFound);
  EXPECT_EQ(s.server_process_id().value(), static_cast<std::uint32_t>(::getpid()));
  s.set_state(ReadMode::kByte, WaitMode::kNoWait).value();
  EXPECT_EQ(s.connect().error(), errc::kPipeListening);
}

TEST_F(NamedPipe, ClientCloseLeavesDataReadableThenBrokenPipe) {
  ServerEnd s = server();
  ClientEnd c = client();
  ASSERT_TRUE(c.write(bytes("last words")));
  c.close();
  EXPECT_EQ(read_text(s), "last words");
  std::byte buf[8];
  EXPECT_EQ(s.read(buf).error(), errc::kBrokenPipe);
  EXPECT_EQ(s.peek(buf).error(), errc::kBrokenPipe);
  EXPECT_EQ(s.write(bytes("x")).error(), errc::kNoData);
  EXPECT_TRUE(s.flush());
  EXPECT_EQ(s.connect().error(), errc::kNoData);
  EXPECT_TRUE(s.client_process_id());  // survives the peer's close
  ASSERT_TRUE(s.disconnect());
  EXPECT_EQ(s.disconnect().error(), errc::kPipeNotConnected);
  EXPECT_EQ(s.client_process_id().error(), errc::kNotFound);
}

TEST_F(NamedPipe, ServerCloseLeavesDataReadableByTheClient) {
  ServerEnd s = server();
  ClientEnd c = client();
  ASSERT_TRUE(s.write(bytes("bye")));
  s.close();
  EXPECT_EQ(read_text(c), "bye");
  std::byte buf[8];
  EXPECT_EQ(c.read(buf).error(), errc::kBrokenPipe);
  EXPECT_EQ(c.write(bytes("x")).error(), errc::kNoData);
  EXPECT_TRUE(c.flush());
  EXPECT_TRUE(c.server_process_id());
}

TEST_F(NamedPipe, DisconnectDiscardsDataAndKillsTheClientEnd) {
  ServerEnd s = server();
  ClientEnd c = client();
  ASSERT_TRUE(s.write(bytes("unread")));
  ASSERT_TRUE(c.write(bytes("unread too")));
  ASSERT_TRUE(s.disconnect());
  std::byte buf[16];
  EXPECT_EQ(c.read(buf).error(), errc::kPipeNotConnected);
  EXPECT_EQ(c.write(bytes("x")).error(), errc::kPipeNotConnected);
  EXPECT_EQ(c.peek(buf).error(), errc::kPipeNotConnected);
  EXPECT_EQ(c.flush().error(), errc::kPipeNotConnected);
  EXPECT_EQ(c.info().error(), errc::kPipeNotConnected);
  EXPECT_EQ(c.state().error(), errc::kPipeNotConnected);
  EXPECT_EQ(c.set_state(ReadMode::kByte, WaitMode::kWait).error(), errc::kPipeNotConnected);
  EXPECT_EQ(c.server_process_id().error(), errc::kPipeNotConnected);
  EXPECT_EQ(c.transact(bytes("x"), buf).error(), errc::kPipeNotConnected);
  EXPECT_EQ(s.read(buf).error(), errc::kPipeNotConnected);
  EXPECT_EQ(s.write(bytes("x")).error(), errc::kPipeNotConnected);
  EXPECT_EQ(s.peek(buf).error(), errc::kBadPipe);
  EXPECT_TRUE(s.flush());
  // Not listening until re-armed.
  EXPECT_EQ(ClientEnd::open(registry(), pipe_name()).error(), errc::kPipeBusy);
  s.set_state(ReadMode::kByte, WaitMode::kNoWait).value();
  EXPECT_EQ(s.connect().error(), errc::kPipeListening);
  ClientEnd next = client();
  ASSERT_TRUE(next.write(bytes("fresh")));
  EXPECT_EQ(read_text(s), "fresh");  // nothing of the old connection survives
  EXPECT_EQ(c.read(buf).error(), errc::kPipeNotConnected);  // the old client stays dead
}

TEST_F(NamedPipe, DisconnectWakesABlockedReaderOnTheClient) {
  ServerEnd s = server();
  ClientEnd c = client();
  std::atomic<int> reading{0};
  std::thread reader([&] {
    std::byte buf[8];
    reading = testing::current_thread_id();
    EXPECT_EQ(c.read(buf).error(), errc::kPipeNotConnected);
  });
  ASSERT_TRUE(testing::wait_until_sleeping(reading, 5s));
  ASSERT_TRUE(s.disconnect());
  reader.join();
}

TEST_F(NamedPipe, ClosingTheServerWakesABlockedClientReaderWithBrokenPipe) {
  ServerEnd s = server();
  ClientEnd c = client();
  std::atomic<int> reading{0};
  std::thread reader([&] {
    std::byte buf[8];
    reading = testing::current_thread_id();
    EXPECT_EQ(c.read(buf).error(), errc::kBrokenPipe);
  });
  ASSERT_TRUE(testing::wait_until_sleeping(reading, 5s));
  s.close();
  reader.join();
}

TEST_F(NamedPipe, MessageModeKeepsBoundariesAndReportsMoreData) {
  ServerEnd s = server(message_pipe());
  ClientEnd c = client();
  ASSERT_TRUE(c.set_state(ReadMode::kMessage, WaitMode::kWait));
  ASSERT_TRUE(s.write(bytes("0123456789")));
  ASSERT_TRUE(s.write(bytes("abcde")));
  std::byte buf[4];
  auto r = c.read(buf);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->bytes, 4u);
  EXPECT_TRUE(r->more_data);
  EXPECT_EQ(text(std::span(buf, 4)), "0123");
  std::byte big[100];
  r = c.read(big);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->bytes, 6u);
  EXPECT_FALSE(r->more_data);
  EXPECT_EQ(text(std::span(big, 6)), "456789");
  r = c.read(big);
  ASSERT_TRUE(r);
  EXPECT_EQ(text(std::span(big, r->bytes)), "abcde");
}

TEST_F(NamedPipe, ClientsStartInByteReadModeWhichMergesMessages) {
  ServerEnd s = server(message_pipe());
  ClientEnd c = client();
  EXPECT_EQ(c.state()->read_mode, ReadMode::kByte);
  ASSERT_TRUE(s.write(bytes("0123456789")));
  ASSERT_TRUE(s.write(bytes("abcde")));
  std::byte buf[12];
  auto r = c.read(buf);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->bytes, 12u);
  EXPECT_EQ(read_text(c), "cde");
}

TEST_F(NamedPipe, ZeroLengthWritesAreEmptyMessagesOnlyOnMessagePipes) {
  ServerEnd s = server(message_pipe());
  ClientEnd c = client();
  ASSERT_TRUE(c.set_state(ReadMode::kMessage, WaitMode::kNoWait));
  ASSERT_EQ(s.write({}).value(), 0u);
  EXPECT_EQ(c.peek()->total_available, 0u);
  std::byte buf[4];
  auto r = c.read(buf);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->bytes, 0u);
  EXPECT_FALSE(r->more_data);
  EXPECT_EQ(c.read(buf).error(), errc::kNoData);  // the empty message was consumed

  ServerEnd bs = server({}, "bytes");
  ClientEnd bc = client({}, "bytes");
  ASSERT_TRUE(bc.set_state(ReadMode::kByte, WaitMode::kNoWait));
  ASSERT_EQ(bs.write({}).value(), 0u);
  EXPECT_EQ(bc.read(buf).error(), errc::kNoData);  // nothing was queued on a byte pipe
}

TEST_F(NamedPipe, ZeroByteReadReportsMoreDataForANonEmptyMessage) {
  ServerEnd s = server(message_pipe());
  ClientEnd c = client();
  ASSERT_TRUE(c.set_state(ReadMode::kMessage, WaitMode::kWait));
  ASSERT_TRUE(s.write(bytes("abc")));
  auto r = c.read({});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->bytes, 0u);
  EXPECT_TRUE(r->more_data);
  EXPECT_EQ(read_text(c), "abc");
}

TEST_F(NamedPipe, ZeroByteReadOnAByteModeEndLeavesTheData) {
  ServerEnd s = server();
  ClientEnd c = client();
  std::atomic<int> reading{0};
  std::thread writer([&] {
    ASSERT_TRUE(testing::wait_until_sleeping(reading, 5s));
    ASSERT_TRUE(s.write(bytes("kept")));
  });
  reading = testing::current_thread_id();
  auto r = c.read({});  // waits for data, takes none
  ASSERT_TRUE(r);
  EXPECT_EQ(r->bytes, 0u);
  writer.join();
  EXPECT_EQ(read_text(c), "kept");
}

TEST_F(NamedPipe, PeekArithmeticOnAMessagePipe) {
  ServerEnd s = server(message_pipe());
  ClientEnd c = client();
  ASSERT_TRUE(s.write(bytes("0123456789")));
  ASSERT_TRUE(s.write(bytes("abcde")));
  std::byte four[4];
  auto p = c.peek(four);  // the client is in byte-read mode: still one message
  ASSERT_TRUE(p);
  EXPECT_EQ(p->bytes_read, 4u);
  EXPECT_EQ(p->total_available, 15u);
  EXPECT_EQ(p->bytes_left_this_message, 6u);
  std::byte hundred[100];
  p = c.peek(hundred);
  EXPECT_EQ(p->bytes_read, 10u);
  EXPECT_EQ(p->bytes_left_this_message, 0u);
  p = c.peek();
  EXPECT_EQ(p->bytes_read, 0u);
  EXPECT_EQ(p->total_available, 15u);
  EXPECT_EQ(p->bytes_left_this_message, 10u);
}

TEST_F(NamedPipe, PeekArithmeticOnAByteePipeWrapsBelowZero) {
  ServerEnd s = server();
  ClientEnd c = client();
  auto empty = c.peek();
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->total_available, 0u);
  ASSERT_TRUE(s.write(bytes("0123456789")));
  ASSERT_TRUE(s.write(bytes("abcde")));
  std::byte four[4];
  auto p = c.peek(four);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->bytes_read, 4u);
  EXPECT_EQ(p->total_available, 15u);
  EXPECT_EQ(p->bytes_left_this_message, 0xFFFFFFFCu);
  std::byte hundred[100];
  p = c.peek(hundred);
  EXPECT_EQ(p->bytes_read, 15u);
  EXPECT_EQ(p->bytes_left_this_message, 0xFFFFFFF1u);
  EXPECT_EQ(text(std::span(hundred, 15)), "0123456789abcde");
  EXPECT_EQ(c.peek()->bytes_left_this_message, 0u);
}

TEST_F(NamedPipe, NoWaitReadOfAnEmptyPipeIsNoData) {
  ServerEnd s = server();
  ClientEnd c = client();
  ASSERT_TRUE(c.set_state(ReadMode::kByte, WaitMode::kNoWait));
  std::byte buf[4];
  EXPECT_EQ(c.read(buf).error(), errc::kNoData);
  EXPECT_EQ(c.state()->wait_mode, WaitMode::kNoWait);
}

TEST_F(NamedPipe, NoWaitWritesAreAllOrNothingAgainstTheQuota) {
  ServerOptions o;
  o.out_buffer_size = 512;
  o.wait_mode = WaitMode::kNoWait;
  ServerEnd s = server(o);
  ClientEnd c = client();
  std::string big(600, 'x');
  auto w = [&](std::size_t n) {
    return s.write(bytes(std::string_view(big).substr(0, n))).value();
  };
  EXPECT_EQ(w(513), 0u);
  EXPECT_EQ(w(300), 300u);
  EXPECT_EQ(w(300), 0u);
  EXPECT_EQ(w(212), 212u);
  EXPECT_EQ(w(1), 0u);
  EXPECT_EQ(c.peek()->total_available, 512u);
}

TEST_F(NamedPipe, NoWaitByteWriteHandsBytesToAWaitingReader) {
  ServerOptions o;
  o.out_buffer_size = 512;
  ServerEnd s = server(o);
  ClientEnd c = client();
  std::string got;
  std::atomic<int> reading{0};
  std::thread reader([&] {
    reading = testing::current_thread_id();
    got = read_text(c, 1);
  });
  ASSERT_TRUE(testing::wait_until_sleeping(reading, 5s));  // the read is pending
  ASSERT_TRUE(s.set_state(ReadMode::kByte, WaitMode::kNoWait));
  std::string data(514, 'y');
  EXPECT_EQ(s.write(bytes(data)).value(), 1u);  // 513 would not fit the 512 quota
  reader.join();
  EXPECT_EQ(got, "y");
}

TEST_F(NamedPipe, NoWaitMessageWriteServesNobodyWhenItDoesNotFit) {
  ServerOptions o = message_pipe();
  o.out_buffer_size = 512;
  ServerEnd s = server(o);
  ClientEnd c = client();
  ASSERT_TRUE(c.set_state(ReadMode::kMessage, WaitMode::kWait));
  std::atomic<int> reading{0};
  std::string got;
  std::thread reader([&] {
    reading = testing::current_thread_id();
    got = read_text(c, 1);
  });
  ASSERT_TRUE(testing::wait_until_sleeping(reading, 5s));
  ASSERT_TRUE(s.set_state(ReadMode::kMessage, WaitMode::kNoWait));
  std::string data(514, 'm');
  EXPECT_EQ(s.write(bytes(data)).value(), 0u);
  EXPECT_EQ(s.write(bytes(std::string_view(data).substr(0, 513))).value(), 513u);  // 1 + 512
  reader.join();
  EXPECT_EQ(got, "m");
}

TEST_F(NamedPipe, BlockingWriteCompletesWhenUnreadBytesFitTheQuota) {
  ServerOptions o;
  o.out_buffer_size = 1024;
  ServerEnd s = server(o);
  ClientEnd c = client();
  std::atomic<bool> done{false};
  std::atomic<int> writing{0};
  std::thread writer([&] {
    writing = testing::current_thread_id();
    std::string data(3000, 'q');
    EXPECT_EQ(s.write(bytes(data)).value(), 3000u);
    done = true;
  });
  // The write is visible at once, though it has not completed.
  ASSERT_TRUE(testing::wait_until_sleeping(writing, 5s));
  EXPECT_EQ(c.peek()->total_available, 3000u);
  EXPECT_FALSE(done);
  std::vector<std::byte> buf(1975);
  ASSERT_EQ(c.read(buf)->bytes, 1975u);
  ASSERT_TRUE(testing::wait_until_sleeping(writing, 5s));  // woken by the read, asleep again
  EXPECT_FALSE(done) << "1025 unread bytes exceed the 1024 quota";
  ASSERT_EQ(c.read(std::span(buf).first(1))->bytes, 1u);
  writer.join();
  EXPECT_TRUE(done);
}

TEST_F(NamedPipe, BufferSizeZeroMakesEveryWriteWaitForTheReader) {
  ServerOptions o;
  o.out_buffer_size = 0;
  o.in_buffer_size = 0;
  ServerEnd s = server(o);
  ClientEnd c = client();
  EXPECT_EQ(c.info()->out_buffer_size, 0u);
  std::atomic<bool> done{false};
  std::atomic<int> writing{0};
  std::thread writer([&] {
    writing = testing::current_thread_id();
    EXPECT_TRUE(s.write(bytes("z")));
    done = true;
  });
  ASSERT_TRUE(testing::wait_until_sleeping(writing, 5s));
  EXPECT_FALSE(done);
  EXPECT_EQ(read_text(c), "z");
  writer.join();
}

TEST_F(NamedPipe, InfoReportsTheBufferSizesVerbatimFromBothEnds) {
  ServerOptions o = message_pipe();
  o.out_buffer_size = 1000;
  o.in_buffer_size = 3000;
  o.max_instances = 7;
  ServerEnd s = server(o);
  ClientEnd c = client();
  auto si = s.info().value();
  auto ci = c.info().value();
  EXPECT_TRUE(si.server_end);
  EXPECT_FALSE(ci.server_end);
  for (const auto& i : {si, ci}) {
    EXPECT_EQ(i.type, PipeType::kMessage);
    EXPECT_EQ(i.out_buffer_size, 1000u);
    EXPECT_EQ(i.in_buffer_size, 3000u);
    EXPECT_EQ(i.max_instances, 7u);
  }
}

TEST_F(NamedPipe, HandleStateCountsInstancesAndModes) {
  ServerEnd a = server(message_pipe());
  ServerEnd b = server(message_pipe());
  auto st = a.state().value();
  EXPECT_EQ(st.read_mode, ReadMode::kMessage);
  EXPECT_EQ(st.wait_mode, WaitMode::kWait);
  EXPECT_EQ(st.current_instances, 2u);
  ClientEnd c = client();
  EXPECT_EQ(c.state()->read_mode, ReadMode::kByte);
  b.close();
  EXPECT_EQ(a.state()->current_instances, 1u);
}

TEST_F(NamedPipe, MessageReadModeOnAByteePipeIsInvalid) {
  ServerEnd s = server();
  ClientEnd c = client();
  EXPECT_EQ(c.set_state(ReadMode::kMessage, WaitMode::kWait).error(), errc::kInvalidParameter);
  EXPECT_EQ(s.set_state(ReadMode::kMessage, WaitMode::kWait).error(), errc::kInvalidParameter);
}

TEST_F(NamedPipe, AccessModesDecideWhatEachEndMayDo) {
  ServerOptions inbound;
  inbound.access = PipeAccess::kInbound;
  ServerEnd s = server(inbound);
  ClientOptions read_only;
  read_only.desired_access = rights::kRead;
  EXPECT_EQ(ClientEnd::open(registry(), pipe_name(), read_only).error(), errc::kAccessDenied);
  ClientOptions write_only;
  write_only.desired_access = rights::kWriteData;
  ClientEnd c = client(write_only);
  std::byte buf[4];
  EXPECT_EQ(c.read(buf).error(), errc::kAccessDenied);
  EXPECT_EQ(c.peek(buf).error(), errc::kAccessDenied);
  EXPECT_EQ(c.info().error(), errc::kAccessDenied);  // no read-attributes right
  EXPECT_EQ(s.write(bytes("x")).error(), errc::kAccessDenied);
  EXPECT_EQ(s.set_state(ReadMode::kByte, WaitMode::kWait).error(), errc::kAccessDenied);
  ASSERT_TRUE(c.write(bytes("in")));
  EXPECT_EQ(read_text(s), "in");
}

TEST_F(NamedPipe, ClientWithNoAccessStillConnects) {
  ServerEnd s = server();
  ClientOptions none;
  none.desired_access = 0;
  ClientEnd c = client(none);
  EXPECT_EQ(s.connect().value(), ConnectStatus::kAlreadyConnected);
  EXPECT_TRUE(c.info());
  EXPECT_EQ(c.write(bytes("x")).error(), errc::kAccessDenied);
}

TEST_F(NamedPipe, TransactWritesOneMessageAndReadsTheReply) {
  ServerEnd s = server(message_pipe());
  ClientEnd c = client();
  std::byte reply[64];
  EXPECT_EQ(c.transact(bytes("q"), reply).error(), errc::kBadPipe);  // still byte-read mode
  ASSERT_TRUE(c.set_state(ReadMode::kMessage, WaitMode::kWait));
  std::thread server_side([&] {
    EXPECT_EQ(read_text(s), "question");
    ASSERT_TRUE(s.write(bytes("a rather long answer")));
  });
  std::byte small[8];
  auto r = c.transact(bytes("question"), small);
  server_side.join();
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->bytes, 8u);
  EXPECT_TRUE(r->more_data);
  EXPECT_EQ(text(std::span(small, 8)), "a rather");
  EXPECT_EQ(read_text(c), " long answer");
}

TEST_F(NamedPipe, TransactWithUnreadDataIsBusyAndWritesNothing) {
  ServerEnd s = server(message_pipe());
  ClientEnd c = client();
  ASSERT_TRUE(c.set_state(ReadMode::kMessage, WaitMode::kWait));
  ASSERT_TRUE(s.write(bytes("pending")));
  std::byte reply[16];
  EXPECT_EQ(c.transact(bytes("q"), reply).error(), errc::kPipeBusy);
  EXPECT_EQ(s.peek()->total_available, 0u);
  EXPECT_EQ(read_text(c), "pending");
}

TEST_F(NamedPipe, TransactOnAByteePipeIsBadPipe) {
  ServerEnd s = server();
  ClientEnd c = client();
  std::byte reply[16];
  EXPECT_EQ(c.transact(bytes("q"), reply).error(), errc::kBadPipe);
}

TEST_F(NamedPipe, CallOpensTransactsAndCloses) {
  ServerEnd s = server(message_pipe());
  std::thread server_side([&] {
    ASSERT_TRUE(s.connect());
    EXPECT_EQ(read_text(s), "call");
    ASSERT_TRUE(s.write(bytes("answer")));
    std::byte buf[4];
    EXPECT_EQ(s.read(buf).error(), errc::kBrokenPipe);  // the caller closed
  });
  std::byte reply[64];
  auto r = call(registry(), pipe_name(), bytes("call"), reply, 2000ms);
  server_side.join();
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(text(std::span(reply, r->bytes)), "answer");
}

TEST_F(NamedPipe, CallOnAByteePipeIsInvalidParameter) {
  ServerEnd s = server();
  std::byte reply[8];
  EXPECT_EQ(call(registry(), pipe_name(), bytes("x"), reply).error(), errc::kInvalidParameter);
}

TEST_F(NamedPipe, WaitForInstanceTimesOutWhenAllAreBusyAndWakesOnANewOne) {
  ServerOptions o;
  o.default_timeout = 100ms;
  ServerEnd s = server(o);
  ClientEnd c = client();
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(wait_for_instance(registry(), pipe_name(), kUseDefaultWait).error(),
            errc::kWaitTimeout);
  auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_GE(waited, 90ms);
  EXPECT_LT(waited, 2000ms);
  std::atomic<int> waiting{0};
  std::optional<Result<ServerEnd>> second;
  std::thread creator([&] {
    ASSERT_TRUE(testing::wait_until_sleeping(waiting, 5s));
    second.emplace(ServerEnd::create(registry(), pipe_name()));
  });
  waiting = testing::current_thread_id();
  EXPECT_TRUE(wait_for_instance(registry(), pipe_name(), 5000ms));
  creator.join();
  ASSERT_TRUE(second && *second);
}

// Failed before: kUseDefaultWait was 0 ms, so a wait of 0 ms waited the pipe's default.
TEST_F(NamedPipe, AWaitOfZeroLooksOnceInsteadOfWaitingTheDefault) {
  ServerOptions o;
  o.default_timeout = 5000ms;
  ServerEnd s = server(o);
  ClientEnd c = client();
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(wait_for_instance(registry(), pipe_name(), 0ms).error(), errc::kWaitTimeout);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2000ms);
}

// The C++ API's one time-out code compares as the portable one, whichever call gave it.
TEST_F(NamedPipe, EveryTimeOutIsWaitTimeoutAndStdTimedOut) {
  ServerEnd s = server();
  auto connected = s.connect_for(10ms);
  ASSERT_FALSE(connected);
  EXPECT_EQ(connected.error(), errc::kWaitTimeout);
  EXPECT_EQ(connected.error(), std::errc::timed_out);
  ClientEnd c = client();
  auto waited = wait_for_instance(registry(), pipe_name(), 10ms);
  EXPECT_EQ(waited.error(), errc::kWaitTimeout);
}

TEST_F(NamedPipe, OpenForWaitsForAServerThatIsNotThereYet) {
  std::atomic<int> opening{0};
  std::optional<Result<ServerEnd>> made;
  std::thread starter([&] {
    ASSERT_TRUE(testing::wait_until_sleeping(opening, 5s));  // open_for waits for the name now
    made.emplace(ServerEnd::create(registry(), pipe_name(), message_pipe()));
  });
  opening = testing::current_thread_id();
  ClientOptions o;
  o.read_mode = ReadMode::kMessage;
  auto c = ClientEnd::open_for(registry(), pipe_name(), 10s, o);
  starter.join();
  ASSERT_TRUE(c) << c.error().message();
  ASSERT_TRUE(made && *made);
  EXPECT_EQ(c->state().value().read_mode, ReadMode::kMessage);
  ASSERT_TRUE((*made)->write(bytes("one")));
  ASSERT_TRUE((*made)->write(bytes("two")));
  EXPECT_EQ(read_text(*c), "one") << "the client reads messages";
}

TEST_F(NamedPipe, OpenForWaitsThroughABusyPipeUntilAnInstanceListens) {
  ServerOptions o;
  o.max_instances = 1;
  ServerEnd s = server(o);
  ClientEnd first = client();
  std::atomic<int> opening{0};
  std::thread server_side([&] {
    ASSERT_TRUE(testing::wait_until_sleeping(opening, 5s));  // open_for waits for an instance
    ASSERT_TRUE(s.disconnect());
    ASSERT_TRUE(s.connect());
  });
  opening = testing::current_thread_id();
  auto c = ClientEnd::open_for(registry(), pipe_name(), 10s);
  server_side.join();
  ASSERT_TRUE(c) << c.error().message();
  ASSERT_TRUE(c->write(bytes("second")));
  EXPECT_EQ(read_text(s), "second");
}

TEST_F(NamedPipe, OpenForTimesOutWithWaitTimeoutAndFailsAtOnceOnOtherErrors) {
  auto start = std::chrono::steady_clock::now();
  auto missing = ClientEnd::open_for(registry(), pipe_name(), 100ms);
  auto waited = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error(), errc::kWaitTimeout);
  EXPECT_GE(waited, 100ms);
  EXPECT_LT(waited, 5000ms);
  EXPECT_EQ(ClientEnd::open_for(registry(), pipe_name(), 0ms).error(), errc::kWaitTimeout);
  EXPECT_EQ(ClientEnd::open_for(registry(), pipe_name(), -1ms).error(), errc::kInvalidParameter);
  ServerEnd s = server();  // a byte pipe: message-read mode is refused, without waiting
  ClientOptions o;
  o.read_mode = ReadMode::kMessage;
  EXPECT_EQ(ClientEnd::open_for(registry(), pipe_name(), kWaitForever, o).error(),
            errc::kInvalidParameter);
}

// Failed before (did not compile): text in and whole messages out without buffers to size.
TEST_F(NamedPipe, StringsGoInAndWholeMessagesComeOutAsStrings) {
  ServerOptions so = message_pipe();
  so.out_buffer_size = 1024 * 1024;  // the big write returns before anyone reads
  ServerEnd s = server(so);
  ClientOptions o;
  o.read_mode = ReadMode::kMessage;
  ClientEnd c = client(o);
  std::string big(300 * 1024, 'q');
  ASSERT_EQ(s.write("hello").value(), 5u);
  ASSERT_EQ(s.write(std::string_view("")).value(), 0u);
  ASSERT_EQ(s.write(big).value(), big.size());
  EXPECT_EQ(c.read_string().value(), "hello");
  EXPECT_EQ(c.read_string().value(), "");
  EXPECT_EQ(c.read_string().value(), big) << "one read, whatever the size";
  ASSERT_TRUE(s.write({}));  // still the empty write of bytes
  EXPECT_EQ(c.read_string().value(), "");
  s.close();
  EXPECT_EQ(c.read_string().error(), errc::kBrokenPipe);
}

TEST_F(NamedPipe, FlushWaitsUntilThePeerHasReadEverything) {
  ServerEnd s = server();
  ClientEnd c = client();
  ASSERT_TRUE(s.write(bytes("flush me")));
  std::atomic<bool> flushed{false};
  std::atomic<int> flushing{0};
  std::thread flusher([&] {
    flushing = testing::current_thread_id();
    EXPECT_TRUE(s.flush());
    flushed = true;
  });
  ASSERT_TRUE(testing::wait_until_sleeping(flushing, 5s));
  EXPECT_FALSE(flushed);
  EXPECT_EQ(read_text(c), "flush me");
  flusher.join();
}

TEST_F(NamedPipe, ABlockedWriteFailsWithBrokenPipeWhenTheReaderCloses) {
  ServerOptions o;
  o.out_buffer_size = 0;
  ServerEnd s = server(o);
  ClientEnd c = client();
  std::atomic<int> writing{0};
  std::thread writer([&] {
    writing = testing::current_thread_id();
    EXPECT_EQ(s.write(bytes("never read")).error(), errc::kBrokenPipe);
  });
  ASSERT_TRUE(testing::wait_until_sleeping(writing, 5s));
  c.close();
  writer.join();
}

TEST_F(NamedPipe, MessagesLargerThanTheRingArriveWhole) {
  ServerOptions o = message_pipe();
  o.out_buffer_size = 4096;  // ring of 64 KiB
  ServerEnd s = server(o);
  ClientEnd c = client();
  ASSERT_TRUE(c.set_state(ReadMode::kMessage, WaitMode::kWait));
  std::vector<std::byte> big(1 << 20);
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<std::byte>(i * 7 + 3);
  std::thread writer([&] { EXPECT_EQ(s.write(big).value(), big.size()); });
  std::vector<std::byte> got(big.size() + 10);
  auto r = c.read(got);
  writer.join();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->bytes, big.size());
  EXPECT_FALSE(r->more_data);
  EXPECT_TRUE(std::equal(big.begin(), big.end(), got.begin()));
}

TEST_F(NamedPipe, ClientOperationsThatOnlyServersMayDoAreInvalidFunctions) {
  ServerEnd s = server();
  ClientEnd c = client();
  auto* as_server = static_cast<ServerEnd*>(static_cast<PipeEnd*>(&c));
  EXPECT_EQ(as_server->connect().error(), errc::kInvalidFunction);
  EXPECT_EQ(as_server->disconnect().error(), errc::kInvalidFunction);
}

TEST_F(NamedPipe, CancelSynchronousIoAbortsABlockedReadWriteAndConnect) {
  ServerEnd s = server();
  ClientEnd c = client();
  std::atomic<int> reading{0};
  std::thread reader([&] {
    std::byte buf[8];
    reading = testing::current_thread_id();
    EXPECT_EQ(c.read(buf).error(), errc::kOperationAborted);
  });
  ASSERT_TRUE(testing::wait_until_sleeping(reading, 5s));
  EXPECT_TRUE(cancel_synchronous_io(static_cast<std::uint32_t>(reading.load())));
  reader.join();
  EXPECT_EQ(cancel_synchronous_io(static_cast<std::uint32_t>(reading.load())).error(),
            errc::kNotFound);  // it returned: nothing to cancel
  ASSERT_TRUE(s.write(bytes("still works")));
  EXPECT_EQ(read_text(c), "still works");

  ServerEnd lonely = server({}, "lonely");
  std::atomic<int> connecting{0};
  std::thread connector([&] {
    connecting = testing::current_thread_id();
    EXPECT_EQ(lonely.connect().error(), errc::kOperationAborted);
  });
  ASSERT_TRUE(testing::wait_until_sleeping(connecting, 5s));
  EXPECT_TRUE(cancel_synchronous_io(static_cast<std::uint32_t>(connecting.load())));
  connector.join();
  EXPECT_TRUE(ClientEnd::open(registry(), pipe_name("lonely")));  // still listening

  EXPECT_EQ(cancel_synchronous_io(static_cast<std::uint32_t>(testing::current_thread_id())).error(),
            errc::kNotFound);
}

TEST_F(NamedPipe, AConnectionCostsFewDescriptors) {
  // Server end: its socket, both segments, its instance lock, its name directory; client end: its
  // socket, both segments and the name directory. The segments stay open so that the end can be
  // shared with another process (PipeEnd::share()).
  int before = testing::open_descriptor_count();
  std::vector<std::pair<ServerEnd, ClientEnd>> pairs;
  for (int i = 0; i < 10; ++i) {
    ServerEnd s = server({}, "many");
    ClientEnd c = client({}, "many");
    pairs.emplace_back(std::move(s), std::move(c));
  }
  int per_connection = (testing::open_descriptor_count() - before) / 10;
  EXPECT_LE(per_connection, 9);
}

// This process's own memory: anonymous pages (heap, stacks) and shared memory (the segments),
// in proportion to their sharers. File pages are left out: the test binary's text is shared
// with the other test processes ctest runs beside this one, so its share moves whenever one
// of them starts or ends (that made the test fail under ctest -j2 and pass alone).
std::int64_t own_memory() {
  std::ifstream in("/proc/self/smaps_rollup");
  std::string key;
  std::int64_t total_kib = -1;
  while (in >> key) {
    if (key == "Pss_Anon:" || key == "Pss_Shmem:") {
      std::int64_t kib = 0;
      in >> kib;
      total_kib = (total_kib < 0 ? 0 : total_kib) + kib;
    }
    in.ignore(1 << 20, '\n');
  }
  return total_kib < 0 ? -1 : total_kib * 1024;
}

TEST_F(NamedPipe, AnIdleConnectionCostsItsTwoBufferSizesPlus16KiB) {
  // Issue 4's bar, for a connection that has carried one message each way: both segments
  // (header page + touched ring pages) and both ends' bookkeeping, all in this process.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "sanitizers add shadow memory and redzones to every allocation";
#endif
  ServerOptions o;
  o.out_buffer_size = 4096;
  o.in_buffer_size = 4096;
  constexpr int kWarmUp = 50;
  constexpr int kConnections = 200;
  std::vector<std::pair<ServerEnd, ClientEnd>> pairs;
  pairs.reserve(kWarmUp + kConnections);
  auto connect_one = [&] {
    ServerEnd s = server(o, "idle");
    ClientEnd c = client({}, "idle");
    ASSERT_TRUE(c.write(bytes("ping")));
    ASSERT_EQ(read_text(s), "ping");
    ASSERT_TRUE(s.write(bytes("pong")));
    ASSERT_EQ(read_text(c), "pong");
    pairs.emplace_back(std::move(s), std::move(c));
  };
  // What the first connections pay once is not per connection: a malloc arena for a thread
  // that met contention (which depends on the machine's load), the threads' stacks, the
  // engine's tables growing. Measured after them, the growth is what each connection costs.
  for (int i = 0; i < kWarmUp; ++i) connect_one();
  std::int64_t before = own_memory();
  ASSERT_GT(before, 0);
  for (int i = 0; i < kConnections; ++i) connect_one();
  std::int64_t per_connection = (own_memory() - before) / kConnections;
  std::printf("per idle connection: %lld bytes\n", static_cast<long long>(per_connection));
  EXPECT_LE(per_connection, 2 * 4096 + 16 * 1024);
}

TEST_F(NamedPipe, MovedFromEndsReportInvalidHandle) {
  ServerEnd s = server();
  ServerEnd moved = std::move(s);
  std::byte buf[1];
  EXPECT_FALSE(s.is_open());  // NOLINT(bugprone-use-after-move): that is the point
  EXPECT_EQ(s.read(buf).error(), errc::kInvalidHandle);
  EXPECT_EQ(s.connect().error(), errc::kInvalidHandle);
}

}  // namespace
}  // namespace sluice
