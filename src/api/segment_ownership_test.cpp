// Each data segment is writable only by its producer (docs/data-path.md): a client that turns
// against the server cannot write, map writable, punch holes in, resize or reopen the segment
// the server produces, and the server goes on serving it.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <vector>

#include "helper_process.hpp"
#include "other_user.hpp"
#include "pipe_fixture.hpp"
#include "sluice/named_pipe.hpp"

namespace sluice {
namespace {

using namespace std::chrono_literals;

// The read-only memfd descriptors of data segments this process holds: its peers' segments.
std::vector<int> peer_segments() {
  std::vector<int> found;
  for (int fd = 3; fd < 1024; ++fd) {
    char target[256] = {};
    std::string link = "/proc/self/fd/" + std::to_string(fd);
    ssize_t n = ::readlink(link.c_str(), target, sizeof target - 1);
    if (n <= 0 || std::string(target).rfind("/memfd:sluice-ring", 0) != 0) continue;
    int flags = ::fcntl(fd, F_GETFL);
    if (flags >= 0 && (flags & O_ACCMODE) == O_RDONLY) found.push_back(fd);
  }
  return found;
}

// Bits of what the attacker achieved against a segment descriptor `fd` it should only read.
int attack(int fd, bool other_user) {
  int achieved = 0;
  struct stat st {};
  if (::fstat(fd, &st) != 0) return 1 << 10;
  void* writable = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (writable != MAP_FAILED) {
    achieved |= 1;
    ::munmap(writable, 4096);
  }
  char junk[16] = {};
  if (::pwrite(fd, junk, sizeof junk, 4096) >= 0) achieved |= 2;
  if (::ftruncate(fd, 0) == 0) achieved |= 4;
  if (::ftruncate(fd, st.st_size + (1 << 20)) == 0) achieved |= 8;
  if (::fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 4096, 4096) == 0) achieved |= 16;
  if (other_user) {  // the owner (or root) may change its own file's mode and open it anew
    std::string path = "/proc/self/fd/" + std::to_string(fd);
    int reopened = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    if (reopened >= 0) {
      achieved |= 32;
      ::close(reopened);
    }
    if (::fchmod(fd, 0666) == 0) achieved |= 64;
  }
  return achieved;
}

// args: directory, pipe name, "other-user" or "same-user". Attacks the server's segment, then
// checks that the server still answers. Exit status: 0, or what it achieved (bits of attack()),
// or 100+ for a failure of the honest part.
SLUICE_TEST_HELPER(segment_attacker) {
  auto reg = Registry::open(args.at(0));
  if (!reg) return 100;
  auto c = ClientEnd::open(*reg, args.at(1));
  if (!c) return 101;
  auto segments = peer_segments();
  if (segments.size() != 1) return 102;
  int achieved = attack(segments.front(), args.at(2) == "other-user");
  if (achieved) return achieved;
  if (!c->write(testing::bytes("still there?"))) return 103;
  std::byte buf[64];
  auto r = c->read(buf);
  if (!r || testing::text(std::span(buf, r->bytes)) != "still there?") return 104;
  return 0;
}

class SegmentOwnership : public testing::MultiUserPipeTest {
 protected:
  // Serves one echo to the attacker; its exit status.
  int serve_attacker(const testing::TestUser* user) {
    ServerOptions o;
    o.security = SecurityDescriptor::unrestricted();
    auto s = ServerEnd::create(registry(), pipe_name(), o);
    EXPECT_TRUE(s) << s.error().message();
    if (!s) return -1;
    std::vector<std::string> args = {directory(), pipe_name(), user ? "other-user" : "same-user"};
    auto child = user ? testing::spawn_helper_as(*user, "segment_attacker", args)
                      : testing::spawn_helper("segment_attacker", args);
    EXPECT_TRUE(child);
    if (!child) return -1;
    testing::KillOnExit guard(*child);
    if (!s->connect_for(10s)) return -2;
    std::byte buf[64];
    auto r = s->read(buf);
    if (r) {
      EXPECT_TRUE(s->write(std::span(buf, r->bytes)));
    }
    auto status = child->wait(10s);
    return status ? static_cast<int>(*status) : -3;
  }
};

TEST_F(SegmentOwnership, AClientCannotWriteMapWritablePunchOrResizeTheServersSegment) {
  // Before, the client mapped the server's segment read-write: it could do all of these.
  EXPECT_EQ(serve_attacker(nullptr), 0);
}

TEST_F(SegmentOwnership, AClientOfAnotherUserCannotOpenAWritableDescriptorOfItEither) {
  SLUICE_SKIP_UNLESS_ROOT();
  EXPECT_EQ(serve_attacker(&testing::kAlice), 0);
}

}  // namespace
}  // namespace sluice
