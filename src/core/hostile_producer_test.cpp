// A client process that tells one lie in its own segment per connection (every shape of
// tests/support/hostile_segment.hpp), against an honest server in this process that reads,
// peeks, transacts or writes through the public API. Each server thread is asleep in its
// operation when the lie arrives. Whatever the lie, the operation returns data or an error
// (kBadPipe, kBrokenPipe) or goes on waiting asleep: its thread uses next to no CPU while the
// liar lives, and once the liar is SIGKILLed it fails promptly (kBrokenPipe, kBadPipe).
#include <gtest/gtest.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "helper_process.hpp"
#include "hostile_segment.hpp"
#include "pipe_fixture.hpp"
#include "raw_client.hpp"
#include "sluice/anonymous_pipe.hpp"
#include "sluice/named_pipe.hpp"
#include "thread_state.hpp"

namespace sluice {
namespace {

using namespace std::chrono_literals;
using testing::HostileSegment;
using testing::RecordShape;
using testing::Seen;

// What a server thread does with its connection.
enum class Role : char {
  kMessageReader = 'm',  // message-read mode: a transaction first, then peeks and reads
  kByteReader = 'b',     // byte-read mode: peeks and reads
  kWriter = 'w',         // writes until the quota stops it, then one that waits
};

// args: directory, pipe name, then "Shape/role" for each connection to make. Connects each,
// sends its index as the first message, says "c", waits for a byte on stdin, forges every lie,
// says "k", and then (when a shape keeps ringing) rings until it is killed.
SLUICE_TEST_HELPER(hostile_producer) {
  std::vector<testing::RawClient> clients;
  std::vector<const RecordShape*> shapes;
  auto deadline = std::chrono::steady_clock::now() + 10s;  // for every connection together
  for (std::size_t i = 2; i < args.size(); ++i) {
    const RecordShape* shape = testing::find_shape(args[i].substr(0, args[i].find('/')));
    if (!shape) return 10;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    auto client = testing::connect_raw(args.at(0), args.at(1), std::max(left, 1ms));
    if (!client) return 11;
    std::string id = std::to_string(i - 2);
    auto room = client->channel.fragment_room(id.size());
    if (!room || *room < static_cast<std::int64_t>(id.size())) return 12;
    client->channel.append(reinterpret_cast<const std::byte*>(id.data()), id.size(),
                           shm::kFirst | shm::kLast);
    clients.push_back(std::move(*client));
    shapes.push_back(shape);
  }
  if (::write(1, "c", 1) != 1) return 13;
  char go;
  if (::read(0, &go, 1) != 1) return 14;
  std::vector<HostileSegment> segments;
  for (auto& c : clients) segments.emplace_back(c.channel);
  bool ringing = false;
  for (std::size_t i = 0; i < shapes.size(); ++i) {
    shapes[i]->forge(segments[i]);
    ringing = ringing || shapes[i]->keeps_ringing;
  }
  // As a writer does once it has published: whatever sleeps on the segment looks again.
  for (auto& s : segments) {
    s.ring_data();
    s.ring_space();
  }
  if (::write(1, "k", 1) != 1) return 15;
  while (ringing) {
    for (std::size_t i = 0; i < shapes.size(); ++i)
      if (shapes[i]->keeps_ringing) shapes[i]->forge(segments[i]);
  }
  while (::read(0, &go, 1) > 0) {
  }
  ::pause();  // until SIGKILL
  return 0;
}

std::chrono::nanoseconds cpu_time(clockid_t clock) {
  timespec ts{};
  ::clock_gettime(clock, &ts);
  return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
}

long long ms(std::chrono::nanoseconds d) {
  return static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
}

struct Spec {
  const RecordShape* shape;
  Role role;
};

// One finished operation of a server thread.
struct Event {
  char op;  // 't' transact, 'p' peek, 'r' read, 'w' write
  std::error_code error;
  std::size_t bytes = 0;
};

// For failure messages: what a server thread's operations returned, in order.
std::string describe(const std::vector<Event>& events) {
  std::string out = "; operations:";
  for (const auto& e : events)
    out += std::string(" ") + e.op + "=" + (e.error ? e.error.message() : std::to_string(e.bytes));
  return out;
}

// A server thread and what it saw.
struct Served {
  std::thread thread;
  std::atomic<int> tid{0};     // published right before its first blocking operation
  clockid_t clock{};           // written before tid
  std::atomic<int> index{-1};  // the connection's spec, once its first message came
  std::mutex mu;
  std::vector<Event> events;  // guarded by mu
  std::atomic<bool> finished{false};
  std::chrono::steady_clock::time_point finished_at;  // written before finished
  std::error_code final_error;                        // written before finished
  std::string problem;                                // written before finished

  void log(char op, std::error_code error, std::size_t bytes = 0) {
    std::lock_guard lock(mu);
    events.push_back({op, error, bytes});
  }
  std::vector<Event> snapshot() {
    std::lock_guard lock(mu);
    return events;
  }
};

class HostileProducer : public testing::PipeTest {
 protected:
  void run(const std::vector<Spec>& specs);
};

void serve(ServerEnd& s, const std::vector<Spec>& specs, Served& me,
           const std::shared_future<void>& release) {
  auto finish = [&](std::error_code e) {
    me.final_error = e;
    me.finished_at = std::chrono::steady_clock::now();
    me.finished = true;
    release.wait();
  };
  if (!s.connect_for(20s)) {
    me.problem = "no client connected";
    return finish({});
  }
  std::vector<std::byte> buffer(64 * 1024);
  auto id = s.read(buffer);
  if (!id) {
    me.problem = "no first message: " + id.error().message();
    return finish(id.error());
  }
  int index = std::stoi(testing::text(std::span(buffer).first(id->bytes)));
  Role role = specs.at(static_cast<std::size_t>(index)).role;
  if (role == Role::kByteReader) (void)s.set_state(ReadMode::kByte, WaitMode::kWait);
  me.index = index;
  ::pthread_getcpuclockid(::pthread_self(), &me.clock);
  if (role == Role::kWriter) {
    std::vector<std::byte> message(1000, std::byte{'w'});
    me.tid = testing::current_thread_id();
    for (;;) {
      auto w = s.write(message);
      me.log('w', w ? std::error_code{} : w.error(), w.value_or(0));
      if (!w) return finish(w.error());
    }
  }
  me.tid = testing::current_thread_id();
  if (role == Role::kMessageReader) {
    auto t = s.transact(testing::bytes("?"), buffer);
    me.log('t', t ? std::error_code{} : t.error(), t ? t->bytes : 0);
    if (!t && t.error() != errc::kPipeBusy) return finish(t.error());
  }
  for (;;) {
    auto p = s.peek(buffer);
    me.log('p', p ? std::error_code{} : p.error(), p ? p->bytes_read : 0);
    auto r = s.read(buffer);
    me.log('r', r ? std::error_code{} : r.error(), r ? r->bytes : 0);
    if (!r) return finish(r.error());
  }
}

void HostileProducer::run(const std::vector<Spec>& specs) {
  ServerOptions o;
  o.type = PipeType::kMessage;
  o.read_mode = ReadMode::kMessage;
  o.in_buffer_size = 4096;
  o.out_buffer_size = 4096;
  std::promise<void> release_promise;
  std::shared_future<void> release = release_promise.get_future().share();
  std::vector<ServerEnd> ends;
  std::vector<std::unique_ptr<Served>> served;
  for (std::size_t i = 0; i < specs.size(); ++i) {
    auto s = ServerEnd::create(registry(), pipe_name(), o);
    ASSERT_TRUE(s) << s.error().message();
    ends.push_back(std::move(*s));
  }
  for (auto& end : ends) {
    served.push_back(std::make_unique<Served>());
    Served& me = *served.back();
    me.thread = std::thread([&specs, &end, &me, release] { serve(end, specs, me, release); });
  }
  struct Joiner {  // a failed ASSERT must still let every server thread go
    std::promise<void>& release;
    std::vector<std::unique_ptr<Served>>& served;
    ~Joiner() {
      try {
        release.set_value();
      } catch (const std::future_error&) {
      }
      for (auto& s : served) s->thread.join();
    }
  } joiner{release_promise, served};

  auto to_child = AnonymousPipe::create();
  auto from_child = AnonymousPipe::create();
  ASSERT_TRUE(to_child && from_child);
  std::vector<std::string> args = {directory(), pipe_name()};
  for (const auto& spec : specs)
    args.push_back(std::string(spec.shape->name) + "/" + static_cast<char>(spec.role));
  SpawnOptions stdio;
  stdio.stdin_fd = to_child->read.native_handle();
  stdio.stdout_fd = from_child->write.native_handle();
  auto child = testing::spawn_helper("hostile_producer", args, stdio);
  ASSERT_TRUE(child);
  testing::KillOnExit guard(*child);
  to_child->read.close();
  from_child->write.close();
  std::byte said[1];
  ASSERT_EQ(from_child->read.read(said).value_or(0), 1u) << "the liar never connected";

  // Every server thread is asleep in its first blocking operation when the lies arrive.
  auto name_of = [&](Served& s) {
    int i = s.index.load();
    if (i < 0) return std::string("(unidentified connection)");
    return std::string(specs[static_cast<std::size_t>(i)].shape->name) + "/" +
           static_cast<char>(specs[static_cast<std::size_t>(i)].role);
  };
  for (auto& s : served) ASSERT_TRUE(testing::wait_until_sleeping(s->tid, 10s)) << name_of(*s);
  std::vector<std::size_t> before_lies;
  for (auto& s : served) before_lies.push_back(s->snapshot().size());
  ASSERT_TRUE(to_child->write.write(testing::bytes("f")));
  ASSERT_EQ(from_child->read.read(said).value_or(0), 1u) << "the liar died forging";

  // Each thread comes to rest: finished, or asleep in an operation (a spinning one never is).
  for (auto& s : served) {
    EXPECT_TRUE(testing::wait_until_sleeping(s->tid, 5s)) << name_of(*s) << " never rests";
  }
  // And stays at rest while the liar lives (a thread that only wakes now and then uses a few
  // milliseconds of the window; one that spins, most of it).
  constexpr auto kWindow = 100ms;
  std::vector<std::chrono::nanoseconds> cpu_before;
  for (auto& s : served) cpu_before.push_back(cpu_time(s->clock));
  auto window_start = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(kWindow);  // the window CPU time is measured over, not a wait
  auto wall = std::chrono::steady_clock::now() - window_start;
  std::chrono::nanoseconds busiest{0};
  for (std::size_t i = 0; i < served.size(); ++i) {
    auto busy = cpu_time(served[i]->clock) - cpu_before[i];
    busiest = std::max(busiest, busy);
    EXPECT_LT(busy, wall / 5) << name_of(*served[i]) << " is busy while the liar lives";
  }

  // What the operations saw while the liar lived, against what each shape allows.
  for (std::size_t i = 0; i < served.size(); ++i) {
    Served& s = *served[i];
    ASSERT_GE(s.index.load(), 0);
    const Spec& spec = specs[static_cast<std::size_t>(s.index.load())];
    auto events = s.snapshot();
    bool data = false, bad_pipe = false, broken_pipe = false, any = false;
    for (std::size_t e = before_lies[i]; e < events.size(); ++e) {
      if (events[e].op == 'p') continue;  // a peek never waits: it says nothing of the lie
      if (events[e].op == 't' && events[e].error == errc::kPipeBusy) continue;
      any = true;
      data = data || !events[e].error;
      bad_pipe = bad_pipe || events[e].error == errc::kBadPipe;
      broken_pipe = broken_pipe || events[e].error == errc::kBrokenPipe;
      if (events[e].error && events[e].error != errc::kBadPipe &&
          events[e].error != errc::kBrokenPipe)
        ADD_FAILURE() << name_of(s) << ": " << events[e].op << " failed with "
                      << events[e].error.message();
    }
    switch (spec.shape->reader_sees) {
      case Seen::kData:
        EXPECT_TRUE(data) << name_of(s) << describe(events);
        break;
      case Seen::kNothing:
        EXPECT_FALSE(any) << name_of(s) << ": an operation ended on a lie" << describe(events);
        break;
      case Seen::kBadPipe:
        // A writer waiting for the quota looks only at what was read: it goes on waiting.
        if (spec.role != Role::kWriter) {
          EXPECT_TRUE(bad_pipe) << name_of(s) << describe(events);
        }
        EXPECT_FALSE(data) << name_of(s) << describe(events);
        break;
      case Seen::kBrokenPipe:
        EXPECT_TRUE(broken_pipe) << name_of(s) << describe(events);
        break;
      case Seen::kAny:
        break;
    }
  }

  // The liar dies: every operation still waiting fails, promptly.
  auto killed_at = std::chrono::steady_clock::now();
  ASSERT_TRUE(child->kill());
  std::chrono::nanoseconds slowest{0};
  for (auto& s : served) {
    ASSERT_TRUE(testing::becomes_true(s->finished, 5s)) << name_of(*s) << " outlived the liar";
    slowest = std::max(slowest, std::max(s->finished_at, killed_at) - killed_at);
    EXPECT_EQ(s->problem, "") << name_of(*s);
    const Spec& spec = specs[static_cast<std::size_t>(s->index.load())];
    std::error_code e = s->final_error;
    if (spec.role == Role::kWriter) {
      EXPECT_TRUE(e == errc::kBrokenPipe || e == errc::kNoData || e == errc::kBadPipe)
          << name_of(*s) << ": " << e.message();
    } else {
      EXPECT_TRUE(e == errc::kBrokenPipe || e == errc::kBadPipe)
          << name_of(*s) << ": " << e.message();
    }
  }
  EXPECT_LT(slowest, 1s);
  // A peek after the end agrees with the reads: the pipe is broken, or bad.
  for (std::size_t i = 0; i < ends.size(); ++i) {
    auto p = ends[i].peek();
    EXPECT_FALSE(p) << name_of(*served[i]) << ": peek still sees " << (p ? p->total_available : 0)
                    << " bytes of a dead liar";
    if (!p) {
      EXPECT_TRUE(p.error() == errc::kBrokenPipe || p.error() == errc::kBadPipe)
          << name_of(*served[i]) << ": " << p.error().message();
    }
  }
  std::printf(
      "%zu connections: busiest server thread %lld ms of %lld ms with the liar alive; "
      "the last failed %lld ms after its death\n",
      served.size(), ms(busiest), ms(wall), ms(slowest));
}

std::vector<Spec> specs_for(bool writer_side, bool ringing, std::initializer_list<Role> roles) {
  std::vector<Spec> out;
  for (const auto& shape : testing::record_shapes()) {
    if (shape.writer_side != writer_side || shape.keeps_ringing != ringing) continue;
    for (Role role : roles) out.push_back({&shape, role});
  }
  return out;
}

TEST_F(HostileProducer, LiesInItsRecordsCostAMessageReaderOnlyItsConnection) {
  run(specs_for(false, false, {Role::kMessageReader}));
}

TEST_F(HostileProducer, LiesInItsRecordsCostAByteReaderOnlyItsConnection) {
  run(specs_for(false, false, {Role::kByteReader}));
}

TEST_F(HostileProducer, LiesAboutWhatItReadCostAWriterOnlyItsConnection) {
  run(specs_for(true, false, {Role::kWriter}));
}

TEST_F(HostileProducer, FutexWordsThatChangeForNothingLeaveEveryoneAsleep) {
  auto specs = specs_for(false, true, {Role::kMessageReader, Role::kByteReader});
  auto writers = specs_for(true, true, {Role::kWriter});
  specs.insert(specs.end(), writers.begin(), writers.end());
  run(specs);
}

}  // namespace
}  // namespace sluice
