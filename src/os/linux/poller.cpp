#include "os/linux/poller.hpp"

#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>

#include "os/linux/errno_map.hpp"

namespace sluice::os {

Result<Poller> Poller::create() {
  Poller p;
  p.epoll_.reset(::epoll_create1(EPOLL_CLOEXEC));
  if (!p.epoll_) return last_errno();
  p.wake_.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!p.wake_) return last_errno();
  p.interrupt_.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!p.interrupt_) return last_errno();
  auto added = p.add(p.wake_.get(), kWakeKey);
  if (!added) return added.error();
  return p;
}

Result<void> Poller::add(int fd, std::uint64_t key) {
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLRDHUP;
  ev.data.u64 = key;
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) != 0) return last_errno();
  return {};
}

void Poller::remove(int fd) noexcept { ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr); }

void Poller::wake() noexcept {
  std::uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(wake_.get(), &one, sizeof one);
}

bool Poller::await_events() {
  pollfd fds[2] = {{epoll_.get(), POLLIN, 0}, {interrupt_.get(), POLLIN, 0}};
  for (;;) {
    int n = ::poll(fds, 2, -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return true;  // ENOMEM: the caller's wait() reports what it can
    if (fds[1].revents & POLLIN) {
      std::uint64_t drained;
      [[maybe_unused]] ssize_t r = ::read(interrupt_.get(), &drained, sizeof drained);
      return false;
    }
    if (fds[0].revents & POLLIN) return true;
  }
}

void Poller::interrupt_await() noexcept {
  std::uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(interrupt_.get(), &one, sizeof one);
}

void Poller::wait(std::vector<PollEvent>& out, int timeout_ms) {
  epoll_event events[64];
  int n = ::epoll_wait(epoll_.get(), events, 64, timeout_ms);
  for (int i = 0; i < n; ++i) {
    if (events[i].data.u64 == kWakeKey) {
      std::uint64_t drained;
      [[maybe_unused]] ssize_t r = ::read(wake_.get(), &drained, sizeof drained);
    }
    out.push_back({events[i].data.u64, (events[i].events & EPOLLIN) != 0,
                   (events[i].events & (EPOLLHUP | EPOLLRDHUP | EPOLLERR)) != 0});
  }
}

}  // namespace sluice::os
