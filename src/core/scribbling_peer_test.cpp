// A hostile client costs only its own connection (issue 11, item 7), under fire: one server (this
// process) with several instances; well-behaved client processes exchanging checked messages
// with it (sequence numbers, lengths and a payload each side can regenerate) and reconnecting
// often, so that they land on instances the hostile client used; and one hostile client process
// that connects properly, then writes random bytes, extreme values and forged records over every
// byte of its own segment (the header lines and the ring), rings the futex words and the
// doorbell, ends the connection one way or another and connects again, until it is SIGKILLed and
// another one takes its place.
//
// The server must neither crash nor hang; every well-behaved message arrives whole, in order and
// correct, both ways; every operation on a hostile connection returns (data or an error) within a
// bounded time, served by a thread of its own or (every other instance) by the agent thread that
// all connections share; and with the hostile client stopped (SIGSTOP) in the middle of a
// connection, the server rests.
//
// SLUICE_SCRIBBLE_SECONDS lengthens the run; SLUICE_SCRIBBLE_SEED repeats one (the seed is printed;
// when the SIGKILLs fall is not part of it).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "helper_process.hpp"
#include "hostile_segment.hpp"
#include "os/linux/unix_socket.hpp"
#include "pipe_fixture.hpp"
#include "raw_client.hpp"
#include "sluice/io_context.hpp"
#include "sluice/named_pipe.hpp"
#include "thread_state.hpp"

#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SLUICE_SCRIBBLE_UNDER_TSAN 1
#endif
#if __has_feature(address_sanitizer)
#define SLUICE_SCRIBBLE_UNDER_ASAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define SLUICE_SCRIBBLE_UNDER_TSAN 1
#endif
#if defined(__SANITIZE_ADDRESS__)
#define SLUICE_SCRIBBLE_UNDER_ASAN 1
#endif

namespace sluice {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using testing::HostileSegment;

// Sanitizers slow everything (TSan 5-10 times): the run is shorter there, not the checks.
#if defined(SLUICE_SCRIBBLE_UNDER_TSAN)
constexpr double kDefaultSeconds = 1.5;
#elif defined(SLUICE_SCRIBBLE_UNDER_ASAN)
constexpr double kDefaultSeconds = 2.5;
#else
constexpr double kDefaultSeconds = 3.0;
#endif

// splitmix64: small, and the same sequence everywhere for a seed.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  std::uint64_t below(std::uint64_t n) { return n ? next() % n : 0; }
  bool one_in(std::uint64_t n) { return below(n) == 0; }

 private:
  std::uint64_t state_;
};

// ---- the well-behaved protocol ----
//
//   request  [u32 kRequestMagic][u32 client][u64 seq][u32 size][u32 0][payload]
//   reply    [u32 kReplyMagic][u32 client][u64 seq][u32 size][u32 0][u64 request sum][payload]
//
// (size: of the whole message)
//
// Payloads are made from (client, seq), so each side checks every byte it receives; sequence
// numbers run on across the client's connections, so the server checks the order too.

constexpr std::uint32_t kRequestMagic = 0x51455248;  // "HREQ"
constexpr std::uint32_t kReplyMagic = 0x50455248;    // "HREP"
constexpr std::size_t kRequestHeader = 24;
constexpr std::size_t kReplyHeader = 32;
constexpr std::size_t kMaxMessage = 12000;  // larger than the smaller rings: messages fragment

std::uint64_t sum_of(std::span<const std::byte> data) {
  std::uint64_t h = 1469598103934665603ull;
  for (std::byte b : data) h = (h ^ static_cast<std::uint8_t>(b)) * 1099511628211ull;
  return h;
}

void fill(std::span<std::byte> data, std::uint64_t seed) {
  Rng rng(seed);
  for (std::size_t i = 0; i < data.size(); i += 8) {
    std::uint64_t v = rng.next();
    std::memcpy(data.data() + i, &v, std::min<std::size_t>(8, data.size() - i));
  }
}

bool filled_with(std::span<const std::byte> data, std::uint64_t seed) {
  std::vector<std::byte> expected(data.size());
  fill(expected, seed);
  return std::equal(data.begin(), data.end(), expected.begin());
}

std::uint64_t request_seed(std::uint32_t client, std::uint64_t seq) {
  return (std::uint64_t{client} << 40) ^ seq;
}
std::uint64_t reply_seed(std::uint32_t client, std::uint64_t seq) {
  return request_seed(client, seq) ^ 0x5EEDull << 48;
}
std::size_t request_size(Rng& rng) {
  // Mostly small, some larger than a whole ring, a few with no payload at all.
  if (rng.one_in(8)) return kRequestHeader;
  if (rng.one_in(4)) return kRequestHeader + rng.below(kMaxMessage - kRequestHeader);
  return kRequestHeader + rng.below(300);
}
std::size_t reply_size(std::uint64_t seq) { return kReplyHeader + (seq * 7919) % 9000; }

template <class T>
T field(std::span<const std::byte> m, std::size_t at) {
  T v;
  std::memcpy(&v, m.data() + at, sizeof v);
  return v;
}
template <class T>
void put(std::span<std::byte> m, std::size_t at, T v) {
  std::memcpy(m.data() + at, &v, sizeof v);
}

// args: directory, pipe name, client number, seed, milliseconds to run. Exchanges checked
// messages, reconnecting every few; exits 0 when every reply was right (else prints why).
SLUICE_TEST_HELPER(scribble_honest_client) {
  auto reg = Registry::open(args.at(0));
  if (!reg) return 10;
  const std::string& name = args.at(1);
  auto client = static_cast<std::uint32_t>(std::stoul(args.at(2)));
  Rng rng(std::stoull(args.at(3)));
  auto until = Clock::now() + std::chrono::milliseconds(std::stoll(args.at(4)));
  std::uint64_t seq = 0;
  std::vector<std::byte> request(kMaxMessage), reply(kMaxMessage);
  auto fail = [&](const char* what, int code) {
    std::fprintf(stderr, "honest client %u, message %llu: %s\n", client,
                 static_cast<unsigned long long>(seq), what);
    return code;
  };
  while (Clock::now() < until) {
    auto deadline = Clock::now() + 20s;
    auto c = ClientEnd::open(*reg, name);
    while (!c && c.error() == errc::kPipeBusy && Clock::now() < deadline) {
      (void)wait_for_instance(*reg, name, 1000ms);
      c = ClientEnd::open(*reg, name);
    }
    if (!c) return fail(("open: " + c.error().message()).c_str(), 11);
    if (!c->set_state(ReadMode::kMessage, WaitMode::kWait)) return fail("set_state", 12);
    for (std::uint64_t n = 1 + rng.below(12); n > 0 && Clock::now() < until; --n) {
      ++seq;
      std::span<std::byte> req(request.data(), request_size(rng));
      put(req, 0, kRequestMagic);
      put(req, 4, client);
      put(req, 8, seq);
      put(req, 16, static_cast<std::uint32_t>(req.size()));
      put(req, 20, std::uint32_t{0});
      fill(req.subspan(kRequestHeader), request_seed(client, seq));
      Result<ReadResult> r = errc::kInvalidFunction;
      if (rng.one_in(2)) {
        r = c->transact(req, reply);
      } else {
        auto w = c->write(req);
        if (!w || *w != req.size()) return fail("write", 13);
        r = c->read(reply);
      }
      if (!r) return fail(("reply: " + r.error().message()).c_str(), 14);
      std::span<const std::byte> rep(reply.data(), r->bytes);
      if (r->more_data || rep.size() != reply_size(seq) ||
          field<std::uint32_t>(rep, 16) != rep.size())
        return fail("reply of the wrong size", 15);
      if (field<std::uint32_t>(rep, 0) != kReplyMagic || field<std::uint32_t>(rep, 4) != client ||
          field<std::uint64_t>(rep, 8) != seq || field<std::uint64_t>(rep, 24) != sum_of(req))
        return fail("reply for another request", 16);
      if (!filled_with(rep.subspan(kReplyHeader), reply_seed(client, seq)))
        return fail("reply payload corrupt", 17);
    }
  }
  return 0;
}

// ---- the hostile client ----

std::uint64_t extreme_value(Rng& rng, std::uint64_t capacity, std::uint64_t current) {
  switch (rng.below(14)) {
    case 0:
      return 0;
    case 1:
      return 1;
    case 2:
      return ~0ull;
    case 3:
      return 1ull << 63;
    case 4:
      return (1ull << 63) - 1;
    case 5:
      return 0xFFFFFFFFull;
    case 6:
      return 1ull << 32;
    case 7:
      return capacity;
    case 8:
      return capacity - 16;
    case 9:
      return capacity + 16;
    case 10:
      return current + 16 * (1 + rng.below(4));
    case 11:
      return current - 16 * (1 + rng.below(4));
    case 12:
      return current + capacity;
    default:
      return rng.next();
  }
}

std::uint32_t extreme_length(Rng& rng, std::uint64_t capacity) {
  auto cap = static_cast<std::uint32_t>(capacity);
  switch (rng.below(12)) {
    case 0:
      return 0;
    case 1:
      return 1;
    case 2:
      return 15;
    case 3:
      return 16;
    case 4:
      return cap - 16;
    case 5:
      return cap - 15;
    case 6:
      return cap;
    case 7:
      return cap + 1;
    case 8:
      return 1u << 31;
    case 9:
      return 0xFFFFFFFFu;
    case 10:
      return static_cast<std::uint32_t>(rng.below(capacity));
    default:
      return static_cast<std::uint32_t>(rng.below(64));
  }
}

// One scribble on the hostile client's own segment, or on its side of the connection.
void scribble_once(testing::RawClient& c, HostileSegment& seg, Rng& rng,
                   std::vector<std::byte>& scratch) {
  using W = HostileSegment::Word;
  const std::uint64_t cap = seg.capacity();
  switch (rng.below(11)) {
    case 0: {  // an honest message, as the server's protocol wants it or not
      std::size_t n = rng.below(3000);
      fill(std::span(scratch).first(n), rng.next());
      auto room = c.channel.fragment_room(n);
      if (room && *room >= static_cast<std::int64_t>(n))
        c.channel.append(scratch.data(), n, shm::kFirst | shm::kLast);
      seg.set_pos(c.channel.ring_end());
      break;
    }
    case 1:    // a forged record where the next one goes
    case 2: {  // or anywhere within a lap of it
      if (rng.one_in(2)) seg.set_pos(seg.pos() + 16 * rng.below(cap / 16) - cap / 2);
      std::uint32_t length = extreme_length(rng, cap);
      fill(std::span(scratch).first(64), rng.next());
      auto tag = static_cast<HostileSegment::Tag>(rng.one_in(2) ? 0 : rng.below(6));
      seg.record(length, static_cast<std::uint32_t>(rng.below(16)),
                 std::span(scratch).first(std::min<std::size_t>(length, 64)), tag);
      if (rng.one_in(2)) seg.ring_data();
      break;
    }
    case 3: {  // random bytes anywhere in the segment: the header page or the ring
      auto bytes = seg.bytes();
      std::size_t n = 1 + rng.below(32);
      std::size_t at = rng.below(bytes.size() - n);
      for (std::size_t i = 0; i < n; ++i) bytes[at + i] = static_cast<std::byte>(rng.next());
      break;
    }
    case 4: {  // an extreme value over any aligned word of the header lines or the ring
      auto bytes = rng.one_in(2) ? seg.header_bytes() : seg.ring_bytes();
      std::size_t at = 8 * rng.below(bytes.size() / 8);
      std::uint64_t now;
      std::memcpy(&now, bytes.data() + at, 8);
      std::uint64_t v = extreme_value(rng, cap, now);
      std::memcpy(bytes.data() + at, &v, 8);
      break;
    }
    case 5: {  // an extreme value in one of the counters
      auto w = static_cast<W>(rng.below(7));
      seg.set(w, extreme_value(rng, cap, seg.get(w)));
      if (rng.one_in(2)) seg.ring_data();
      if (rng.one_in(2)) seg.ring_space();
      break;
    }
    case 6:  // the end state and the waiting flags
      seg.set_state(rng.one_in(2) ? static_cast<std::uint32_t>(rng.below(4))
                                  : static_cast<std::uint32_t>(rng.next()));
      seg.set_waiting(static_cast<std::uint32_t>(rng.next()),
                      static_cast<std::uint32_t>(rng.next()));
      if (rng.one_in(4)) seg.set_state(0);
      seg.ring_data();
      break;
    case 7: {  // the futex words, with and without wakes
      bool wake = rng.one_in(2);
      for (std::uint64_t n = 1 + rng.below(200); n > 0; --n) {
        if (rng.one_in(2)) {
          seg.ring_data(wake);
        } else {
          seg.ring_space(wake);
        }
      }
      break;
    }
    case 8:  // doorbells the server never asked for
      for (std::uint64_t n = 1 + rng.below(64); n > 0; --n) os::ring_doorbell(c.socket.get());
      break;
    case 9:  // reads what the server wrote (its writes may complete), or tries to
      (void)c.channel.read_bytes(scratch.data(), rng.below(scratch.size()));
      break;
    default:  // the states an end may honestly publish
      c.channel.publish_state(static_cast<shm::EndState>(rng.below(3)));
      break;
  }
}

// args: directory, pipe name, seed. Scribbles on connection after connection until killed.
SLUICE_TEST_HELPER(scribble_hostile_client) {
  Rng rng(std::stoull(args.at(2)));
  std::vector<std::byte> scratch(4096);
  for (;;) {
    auto c = testing::connect_raw(args.at(0), args.at(1), 2000ms);
    if (!c) continue;  // every instance busy: try again
    HostileSegment seg(c->channel);
    for (std::uint64_t n = 1 + rng.below(400); n > 0; --n) scribble_once(*c, seg, rng, scratch);
    switch (rng.below(3)) {  // how it ends: a hang-up, or a close first, or a disconnect
      case 0:
        break;
      case 1:
        c->channel.publish_state(shm::EndState::kClosed);
        break;
      default:
        c->channel.publish_state(shm::EndState::kDisconnected);
        break;
    }
  }
}

// ---- the server ----

class ScribblingPeer : public testing::PipeTest {};

// What the server threads saw; counters are atomics, the rest under mu.
struct Findings {
  std::mutex mu;
  std::vector<std::string> problems;                      // guarded by mu
  std::map<std::uint32_t, std::uint64_t> last_seq;        // guarded by mu: per honest client
  std::map<std::string, std::uint64_t> hostile_outcomes;  // guarded by mu
  std::atomic<std::uint64_t> honest_messages{0};
  std::atomic<std::uint64_t> hostile_connections{0};
  std::atomic<std::uint64_t> hostile_operations{0};
  std::atomic<std::int64_t> longest_hostile_op_ns{0};
  std::atomic<int> hostile_open{0};  // hostile connections a server thread holds now

  void problem(std::string what) {
    std::lock_guard lock(mu);
    if (problems.size() < 20) problems.push_back(std::move(what));
  }
  void hostile_outcome(const char* op, std::error_code e, Clock::duration took) {
    ++hostile_operations;
    std::int64_t ns = std::chrono::duration_cast<std::chrono::nanoseconds>(took).count();
    std::int64_t seen = longest_hostile_op_ns.load();
    while (ns > seen && !longest_hostile_op_ns.compare_exchange_weak(seen, ns)) {
    }
    std::lock_guard lock(mu);
    ++hostile_outcomes[std::string(op) + (e ? " " + e.message() : " ok")];
  }
};

// Checks an honest request and makes its reply; false (with a problem noted) if it is wrong.
bool answer(std::span<const std::byte> req, bool more_data, Findings& f,
            std::vector<std::byte>& out) {
  if (more_data || req.size() < kRequestHeader || field<std::uint32_t>(req, 0) != kRequestMagic ||
      field<std::uint32_t>(req, 16) != req.size()) {
    f.problem("an honest request arrived cut or merged (" + std::to_string(req.size()) + " bytes)");
    return false;
  }
  auto client = field<std::uint32_t>(req, 4);
  auto seq = field<std::uint64_t>(req, 8);
  if (!filled_with(req.subspan(kRequestHeader), request_seed(client, seq))) {
    f.problem("honest request " + std::to_string(seq) + " of client " + std::to_string(client) +
              " arrived corrupt");
    return false;
  }
  {
    std::lock_guard lock(f.mu);
    std::uint64_t& last = f.last_seq[client];
    if (seq != last + 1) {
      f.problems.push_back("client " + std::to_string(client) + ": request " + std::to_string(seq) +
                           " came after " + std::to_string(last));
      return false;
    }
    last = seq;
  }
  out.resize(reply_size(seq));
  std::span<std::byte> rep(out);
  put(rep, 0, kReplyMagic);
  put(rep, 4, client);
  put(rep, 8, seq);
  put(rep, 16, static_cast<std::uint32_t>(rep.size()));
  put(rep, 20, std::uint32_t{0});
  put(rep, 24, sum_of(req));
  fill(rep.subspan(kReplyHeader), reply_seed(client, seq));
  return true;
}

// The server's operations on one instance, synchronous or asynchronous (then the agent thread
// serves them while they are pending, and this thread only waits for the handler).
class Io {
 public:
  Io(ServerEnd& s, bool async) : s_(s), async_(async) {}
  Result<ReadResult> read(std::span<std::byte> buffer) {
    if (!async_) return s_.read(buffer);
    return finish<ReadResult>(
        [&](auto done) { return s_.async_read(buffer, ctx_.executor(), done); });
  }
  Result<std::size_t> write(std::span<const std::byte> data) {
    if (!async_) return s_.write(data);
    return finish<std::size_t>(
        [&](auto done) { return s_.async_write(data, ctx_.executor(), done); });
  }
  Result<ReadResult> transact(std::span<const std::byte> request, std::span<std::byte> reply) {
    if (!async_) return s_.transact(request, reply);
    return finish<ReadResult>(
        [&](auto done) { return s_.async_transact(request, reply, ctx_.executor(), done); });
  }

 private:
  template <class T, class Start>
  Result<T> finish(Start start) {
    std::optional<Result<T>> got;
    auto started = start([&got](Result<T> r) { got = std::move(r); });
    if (!started) return started.error();
    while (!got) ctx_.run_one_for(100ms);  // a handler that never comes is the hang looked for
    return std::move(*got);
  }

  ServerEnd& s_;
  bool async_;
  IoContext ctx_;
};

// One instance: connects, serves each client until its connection ends, disconnects, again.
void serve_instance(ServerEnd& s, bool async, const std::set<std::uint32_t>& honest_pids,
                    Findings& f, const std::atomic<bool>& stop) {
  Io io(s, async);
  std::vector<std::byte> request(64 * 1024), reply;
  while (!stop) {
    auto connected = s.connect_for(100ms);
    if (!connected) {
      if (connected.error() == errc::kNoData) (void)s.disconnect();  // came and went already
      continue;
    }
    auto pid = s.client_process_id();
    bool honest = pid && honest_pids.count(*pid) > 0;
    if (!honest) {
      ++f.hostile_connections;
      ++f.hostile_open;
    }
    for (std::uint64_t round = 0;; ++round) {
      auto started = Clock::now();
      Result<ReadResult> r = errc::kInvalidFunction;
      if (honest) {
        r = io.read(request);
      } else if (round % 8 == 7) {  // a transaction (refused while anything is unread)
        r = io.transact(testing::bytes("?"), request);
        f.hostile_outcome("transact", r ? std::error_code{} : r.error(), Clock::now() - started);
        if (!r && r.error() == errc::kPipeBusy) continue;
      } else {
        auto p = s.peek(request);
        f.hostile_outcome("peek", p ? std::error_code{} : p.error(), Clock::now() - started);
        started = Clock::now();
        r = io.read(request);
        f.hostile_outcome("read", r ? std::error_code{} : r.error(), Clock::now() - started);
      }
      if (!r) {
        if (honest && r.error() != errc::kBrokenPipe) {
          f.problem("an honest connection's " + std::string(async ? "asynchronous " : "") +
                    "read failed: " + r.error().message());
        }
        break;
      }
      if (honest) {
        if (!answer(std::span(request).first(r->bytes), r->more_data, f, reply)) break;
        ++f.honest_messages;
      } else if (r->bytes % 4 == 0) {
        reply.assign(1 + r->bytes % 5000, std::byte{'?'});  // some answer, for its ring
      } else {
        continue;  // mostly none: a reply waits for a reader that may never read
      }
      started = Clock::now();
      auto w = io.write(reply);
      if (!honest)
        f.hostile_outcome("write", w ? std::error_code{} : w.error(), Clock::now() - started);
      if (!w) {
        if (honest) {
          f.problem("an honest connection's " + std::string(async ? "asynchronous " : "") +
                    "write of " + std::to_string(reply.size()) + " bytes (out quota " +
                    std::to_string(s.info()->out_buffer_size) + ") failed: " + w.error().message());
        }
        break;
      }
    }
    if (!honest) --f.hostile_open;
    (void)s.disconnect();
  }
}

std::chrono::nanoseconds process_cpu() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  auto tv = [](const timeval& t) {
    return std::chrono::seconds(t.tv_sec) + std::chrono::microseconds(t.tv_usec);
  };
  return tv(u.ru_utime) + tv(u.ru_stime);
}

// Waits up to `limit` until `holds()`; false on time-out.
template <class Pred>
bool within(Clock::duration limit, Pred holds) {
  auto end = Clock::now() + limit;
  while (!holds()) {
    if (Clock::now() > end) return false;
    std::this_thread::yield();
  }
  return true;
}

long long ms(Clock::duration d) {
  return static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
}

TEST_F(ScribblingPeer, CostsOnlyItsOwnConnections) {
  double seconds = kDefaultSeconds;
  if (const char* s = std::getenv("SLUICE_SCRIBBLE_SECONDS")) seconds = std::atof(s);
  std::uint64_t seed = std::random_device{}();
  if (const char* s = std::getenv("SLUICE_SCRIBBLE_SEED")) seed = std::strtoull(s, nullptr, 0);
  std::printf("scribbling for %.1f s; SLUICE_SCRIBBLE_SEED=%llu repeats the run\n", seconds,
              static_cast<unsigned long long>(seed));
  std::fflush(stdout);
  auto run_for = std::chrono::milliseconds(static_cast<long long>(seconds * 1000));
  Rng rng(seed);

  // Instances with small and large rings either way; more than clients, so that the hostile
  // client always finds one free.
  constexpr int kHonestClients = 3;
  const std::vector<std::pair<std::uint32_t, std::uint32_t>> quotas = {
      {4096, 4096}, {1024, 16384}, {16384, 1024}, {4096, 0}, {65536, 65536}, {0, 4096}};
  std::vector<ServerEnd> ends;
  for (auto [in, out] : quotas) {
    ServerOptions o;
    o.type = PipeType::kMessage;
    o.read_mode = ReadMode::kMessage;
    o.in_buffer_size = in;
    o.out_buffer_size = out;
    auto s = ServerEnd::create(registry(), pipe_name(), o);
    ASSERT_TRUE(s) << s.error().message();
    ends.push_back(std::move(*s));
  }

  // The well-behaved clients come first: the server threads know them by their process ids.
  std::vector<Process> honest;
  std::set<std::uint32_t> honest_pids;
  for (int i = 0; i < kHonestClients; ++i) {
    auto c = testing::spawn_helper("scribble_honest_client",
                                   {directory(), pipe_name(), std::to_string(i),
                                    std::to_string(rng.next()), std::to_string(run_for.count())});
    ASSERT_TRUE(c);
    honest_pids.insert(c->pid());
    honest.push_back(std::move(*c));
  }
  struct KillAll {
    std::vector<Process>& children;
    ~KillAll() {
      for (auto& c : children) {
        (void)c.kill();
        (void)c.wait(5s);
      }
    }
  } kill_honest{honest};

  Findings f;
  std::atomic<bool> stop{false};
  std::atomic<int> running{0};
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < ends.size(); ++i) {
    ++running;
    threads.emplace_back([&, i] {
      serve_instance(ends[i], i % 2 == 1, honest_pids, f, stop);  // every other one asynchronous
      --running;
    });
  }
  struct StopAndJoin {
    std::atomic<bool>& stop;
    std::atomic<int>& running;
    std::vector<std::thread>& threads;
    ~StopAndJoin() {
      stop = true;
      // A server thread that never comes back is the hang this test looks for: report it
      // rather than wait for ctest's time-out.
      if (!within(10s, [&] { return running.load() == 0; })) {
        std::fprintf(stderr, "%d server threads hang\n", running.load());
        std::abort();
      }
      for (auto& t : threads) t.join();
    }
  } joiner{stop, running, threads};

  // The hostile clients, one at a time, each SIGKILLed at a moment of its own.
  auto until = Clock::now() + run_for;
  int generation = 0;
  Process hostile;
  bool hostile_alive = false;
  struct KillHostile {
    Process& p;
    ~KillHostile() {
      (void)p.kill();
      (void)p.wait(5s);
    }
  } kill_hostile{hostile};
  for (;;) {
    std::uint64_t hostile_seed = rng.next();
    auto h = testing::spawn_helper("scribble_hostile_client",
                                   {directory(), pipe_name(), std::to_string(hostile_seed)});
    ASSERT_TRUE(h);
    hostile = std::move(*h);
    hostile_alive = true;
    ++generation;
    auto lifetime = std::chrono::milliseconds(150 + rng.below(500));
    if (Clock::now() + lifetime >= until) break;  // the last one lives on, to be stopped
    // Waiting for it to exit is the clock: it never does by itself (a crash would be a bug of
    // the test's own client, reported here).
    auto exited = hostile.wait(lifetime);
    EXPECT_FALSE(exited) << "the hostile client exited by itself: " << exited.value_or(-1);
    (void)hostile.kill();
    (void)hostile.wait(5s);
    hostile_alive = false;
  }
  for (std::size_t i = 0; i < honest.size(); ++i) {
    auto code = honest[i].wait(run_for + 60s);
    EXPECT_EQ(code.value_or(-1), 0) << "honest client " << i << " (its stderr says why)";
  }

  // The hostile client stops in the middle of a connection: the server rests.
  ASSERT_TRUE(hostile_alive);
  bool stopped_connected = false;
  for (int attempt = 0; attempt < 50 && !stopped_connected; ++attempt) {
    (void)within(2s, [&] { return f.hostile_open.load() > 0; });
    ASSERT_EQ(::kill(static_cast<pid_t>(hostile.pid()), SIGSTOP), 0);
    stopped_connected = f.hostile_open.load() > 0;
    if (!stopped_connected) ::kill(static_cast<pid_t>(hostile.pid()), SIGCONT);
  }
  auto cpu_before = process_cpu();
  auto rest_start = Clock::now();
  std::this_thread::sleep_for(300ms);  // the window CPU time is measured over, not a wait
  auto rest_wall = Clock::now() - rest_start;
  auto rest_cpu = process_cpu() - cpu_before;
  EXPECT_LT(rest_cpu, rest_wall / 10) << "the server works while the hostile client is stopped";

  // It dies: its connection fails at once, and the server threads go back to listening.
  (void)hostile.kill();
  (void)hostile.wait(5s);
  auto killed_at = Clock::now();
  EXPECT_TRUE(within(2s, [&] { return f.hostile_open.load() == 0; }))
      << "a server thread outlived it";
  auto noticed = Clock::now() - killed_at;

  {
    std::lock_guard lock(f.mu);
    for (const auto& p : f.problems) ADD_FAILURE() << p;
    for (const auto& [what, count] : f.hostile_outcomes) {
      bool expected = what.ends_with(" ok");
      for (errc e : {errc::kBadPipe, errc::kBrokenPipe, errc::kNoData, errc::kPipeBusy})
        expected = expected || what.ends_with(make_error_code(e).message());
      EXPECT_TRUE(expected) << "a hostile connection's " << what << " (" << count << " times)";
    }
    EXPECT_EQ(f.last_seq.size(), static_cast<std::size_t>(kHonestClients));
  }
  EXPECT_GT(f.honest_messages.load(), 0u);
  EXPECT_GT(f.hostile_connections.load(), 0u);
  auto longest = std::chrono::nanoseconds(f.longest_hostile_op_ns.load());
  // A hostile connection lasts as long as its client scribbles on it, or until the client's
  // SIGKILL: each operation on it must end by then.
  EXPECT_LT(longest, 2s) << "an operation on a hostile connection took that long";

  std::printf(
      "%d hostile clients, %llu hostile connections, %llu operations on them (longest "
      "%lld ms); %llu honest messages checked; at rest with the hostile client stopped%s: "
      "%lld ms of CPU in %lld ms; its death noticed in %lld ms\n",
      generation, static_cast<unsigned long long>(f.hostile_connections.load()),
      static_cast<unsigned long long>(f.hostile_operations.load()), ms(longest),
      static_cast<unsigned long long>(f.honest_messages.load()),
      stopped_connected ? " mid-connection" : "", ms(rest_cpu), ms(rest_wall), ms(noticed));
  {
    std::lock_guard lock(f.mu);
    for (const auto& [what, count] : f.hostile_outcomes)
      std::printf("  hostile %s: %llu\n", what.c_str(), static_cast<unsigned long long>(count));
  }
}

}  // namespace
}  // namespace sluice
