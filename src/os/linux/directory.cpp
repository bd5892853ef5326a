#include "os/linux/directory.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string_view>

#include "os/linux/errno_map.hpp"

namespace sluice::os {

Result<UniqueFd> open_directory(const std::string& path, unsigned mode, bool create) {
  if (create && ::mkdir(path.c_str(), mode) == 0) ::chmod(path.c_str(), mode);  // umask-free
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) return errno == ENOENT ? make_error_code(errc::kPathNotFound) : last_errno();
  return fd;
}

Result<UniqueFd> open_subdirectory(int dir_fd, const std::string& name, unsigned mode,
                                   bool create) {
  if (create && ::mkdirat(dir_fd, name.c_str(), mode) == 0)
    ::fchmodat(dir_fd, name.c_str(), mode, 0);
  UniqueFd fd(::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) return last_errno();
  return fd;
}

Result<void> check_directory_is_safe(int dir_fd) {
  struct stat st {};
  if (::fstat(dir_fd, &st) != 0) return last_errno();
  if (st.st_uid != 0 && st.st_uid != ::geteuid()) return errc::kAccessDenied;
  bool others_may_write = (st.st_mode & (S_IWGRP | S_IWOTH)) != 0;
  if (others_may_write && !(st.st_mode & S_ISVTX)) return errc::kAccessDenied;
  return {};
}

Result<UniqueFd> open_file_at(int dir_fd, const std::string& name, unsigned mode, bool create) {
  // O_NONBLOCK: another user may have put a FIFO under this name in their own entry, and a
  // read-only open of a FIFO waits for a writer: any client who looked would hang for good.
  int flags = O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | (create ? O_CREAT : 0);
  UniqueFd fd(::openat(dir_fd, name.c_str(), flags, mode));
  if (!fd && errno == EACCES && !create)
    fd.reset(::openat(dir_fd, name.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
  if (!fd) return last_errno();
  // Only regular files say anything: a FIFO, socket or directory planted under a name we read
  // is treated as absent.
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return last_errno();
  if (!S_ISREG(st.st_mode)) return make_error_code(errc::kFileNotFound);
  return fd;
}

Result<UniqueFd> create_unnamed_file(int dir_fd, std::size_t size, unsigned mode) {
  UniqueFd fd(::openat(dir_fd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, mode));
  if (!fd) return last_errno();
  ::fchmod(fd.get(), mode);  // umask-free
  if (::ftruncate(fd.get(), static_cast<off_t>(size)) != 0) return last_errno();
  return fd;
}

Result<bool> link_file_at(int fd, int dir_fd, const std::string& name) {
  // linkat(fd, "", AT_EMPTY_PATH) needs CAP_DAC_READ_SEARCH; the /proc link does not.
  char path[64];
  std::snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  if (::linkat(AT_FDCWD, path, dir_fd, name.c_str(), AT_SYMLINK_FOLLOW) == 0) return true;
  if (errno == EEXIST) return false;
  return last_errno();
}

Result<std::uint64_t> link_count(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return last_errno();
  return static_cast<std::uint64_t>(st.st_nlink);
}

Result<std::string> read_small_file(int fd, std::size_t limit) {
  std::string out(limit, '\0');
  ssize_t n = ::pread(fd, out.data(), limit, 0);
  if (n < 0) return last_errno();
  out.resize(static_cast<std::size_t>(n));
  return out;
}

Result<void> rewrite_small_file(int fd, const std::string& contents) {
  if (::ftruncate(fd, 0) != 0) return last_errno();
  ssize_t n = ::pwrite(fd, contents.data(), contents.size(), 0);
  if (n != static_cast<ssize_t>(contents.size())) return last_errno();
  return {};
}

Result<std::vector<std::string>> list_directory(int dir_fd, const std::string& prefix) {
  // getdents64(2) on a descriptor of our own, not fdopendir(3): opening a pipe lists its
  // instance directory, and readdir's stat and two fcntls would add three system calls each
  // time. A copy of the descriptor, so that its read position is ours alone.
  UniqueFd dir(::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir) return last_errno();
  std::vector<std::string> names;
  alignas(8) char buffer[16384];
  for (;;) {
    ssize_t got = ::getdents64(dir.get(), buffer, sizeof buffer);
    if (got < 0) {
      if (errno == EINTR) continue;
      return last_errno();
    }
    if (got == 0) break;
    for (ssize_t at = 0; at < got;) {
      const auto* entry = reinterpret_cast<const dirent64*>(buffer + at);
      at += entry->d_reclen;
      std::string_view name = entry->d_name;
      if (name.compare(0, prefix.size(), prefix) == 0 && name != "." && name != "..")
        names.emplace_back(name);
    }
  }
  return names;
}

void unlink_at(int dir_fd, const std::string& name) noexcept {
  ::unlinkat(dir_fd, name.c_str(), 0);
}

bool remove_directory_at(int dir_fd, const std::string& name) noexcept {
  return ::unlinkat(dir_fd, name.c_str(), AT_REMOVEDIR) == 0;
}

Result<void> replace_file_at(int dir_fd, const std::string& name, const std::string& contents,
                             unsigned mode) {
  // The new contents go to a name of our own first; rename(2) then swaps it in atomically.
  std::string temporary = "." + name + "." + std::to_string(::getpid()) + ".new";
  UniqueFd fd(::openat(dir_fd, temporary.c_str(),
                       O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode));
  if (!fd) return last_errno();
  ::fchmod(fd.get(), mode);  // umask-free
  ssize_t n = ::write(fd.get(), contents.data(), contents.size());
  if (n != static_cast<ssize_t>(contents.size()) ||
      ::renameat(dir_fd, temporary.c_str(), dir_fd, name.c_str()) != 0) {
    // A short write on tmpfs means it is full.
    auto error = n < 0 || n == static_cast<ssize_t>(contents.size())
                     ? last_errno()
                     : make_error_code(errc::kNotEnoughMemory);
    ::unlinkat(dir_fd, temporary.c_str(), 0);
    return error;
  }
  return {};
}

Result<FileOwner> file_owner(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return last_errno();
  return FileOwner{static_cast<std::uint32_t>(st.st_uid), static_cast<std::uint32_t>(st.st_gid)};
}

Result<FileId> file_id(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return last_errno();
  return FileId{static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino)};
}

Result<ChangeTime> change_time(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return last_errno();
  return ChangeTime{static_cast<std::int64_t>(st.st_ctim.tv_sec),
                    static_cast<std::int64_t>(st.st_ctim.tv_nsec)};
}

ChangeTime coarse_time() noexcept {
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME_COARSE, &now);
  return ChangeTime{static_cast<std::int64_t>(now.tv_sec), static_cast<std::int64_t>(now.tv_nsec)};
}

Result<std::string> name_of_open_directory(int fd) {
  char link[64];
  std::snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  char path[PATH_MAX];
  ssize_t n = ::readlink(link, path, sizeof path - 1);
  if (n <= 0) return last_errno();
  std::string text(path, static_cast<std::size_t>(n));
  constexpr std::string_view kDeleted = " (deleted)";
  if (text.size() >= kDeleted.size() &&
      text.compare(text.size() - kDeleted.size(), kDeleted.size(), kDeleted) == 0)
    return errc::kFileNotFound;
  auto slash = text.rfind('/');
  return slash == std::string::npos ? text : text.substr(slash + 1);
}

Result<bool> lock_byte(int fd, std::uint64_t offset, bool exclusive, bool wait) {
  struct flock fl {};
  fl.l_type = static_cast<short>(exclusive ? F_WRLCK : F_RDLCK);
  fl.l_whence = SEEK_SET;
  fl.l_start = static_cast<off_t>(offset);
  fl.l_len = 1;
  for (;;) {
    if (::fcntl(fd, wait ? F_OFD_SETLKW : F_OFD_SETLK, &fl) == 0) return true;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EACCES) return false;
    return last_errno();
  }
}

void unlock_byte(int fd, std::uint64_t offset) noexcept {
  struct flock fl {};
  fl.l_type = F_UNLCK;
  fl.l_whence = SEEK_SET;
  fl.l_start = static_cast<off_t>(offset);
  fl.l_len = 1;
  ::fcntl(fd, F_OFD_SETLK, &fl);
}

bool byte_is_locked(int fd, std::uint64_t offset) {
  struct flock fl {};
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  fl.l_start = static_cast<off_t>(offset);
  fl.l_len = 1;
  if (::fcntl(fd, F_OFD_GETLK, &fl) != 0) return false;
  return fl.l_type != F_UNLCK;
}

bool byte_is_write_locked(int fd, std::uint64_t offset) {
  struct flock fl {};
  fl.l_type = F_RDLCK;  // conflicts with exclusive locks only
  fl.l_whence = SEEK_SET;
  fl.l_start = static_cast<off_t>(offset);
  fl.l_len = 1;
  if (::fcntl(fd, F_OFD_GETLK, &fl) != 0) return false;
  return fl.l_type != F_UNLCK;
}

bool process_exists(std::uint32_t pid) noexcept {
  return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
}

Result<std::uint32_t> process_user_id(std::uint32_t pid) {
  std::string path = "/proc/" + std::to_string(pid) + "/status";
  std::FILE* f = std::fopen(path.c_str(), "re");
  if (!f) return errno == ENOENT ? std::error_code(errc::kFileNotFound) : last_errno();
  char line[256];
  unsigned real = 0, effective = 0;
  bool found = false;
  while (std::fgets(line, sizeof line, f)) {
    if (std::sscanf(line, "Uid: %u %u", &real, &effective) == 2) {
      found = true;
      break;
    }
  }
  std::fclose(f);
  if (!found) return errc::kNotFound;
  return effective;
}

std::uint32_t current_process_id() noexcept { return static_cast<std::uint32_t>(::getpid()); }

Result<std::string> executable_path() {
  char buf[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n < 0) return last_errno();
  return std::string(buf, static_cast<std::size_t>(n));
}

std::uint32_t current_user_id() noexcept { return static_cast<std::uint32_t>(::geteuid()); }
std::uint32_t current_group_id() noexcept { return static_cast<std::uint32_t>(::getegid()); }

namespace {
thread_local std::uint32_t t_thread_id = 0;  // 0: not asked yet, or forgotten by a fork's child
}  // namespace

std::uint32_t current_thread_id() noexcept {
  // gettid(2) is a real system call (glibc caches no thread id for it), and the I/O paths ask
  // per operation (the blocked-threads table, the Win32 layer's issuing thread): ask once per
  // thread. A fork's child runs a copy of the forking thread under a new id, so it forgets.
  if (t_thread_id == 0) {
    static const bool forget_in_child = [] {
      return ::pthread_atfork(nullptr, nullptr, [] { t_thread_id = 0; }) == 0;
    }();
    (void)forget_in_child;
    t_thread_id = static_cast<std::uint32_t>(::gettid());
  }
  return t_thread_id;
}

std::uint32_t session_id_of(std::uint32_t pid) noexcept {
  // Three system calls (stdio's would add a stat and a second read): every connection asks
  // for its peer's session.
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%u/sessionid", pid);
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char text[24] = {};
  ssize_t got = ::read(fd, text, sizeof text - 1);
  ::close(fd);
  if (got <= 0) return 0;
  char* end = nullptr;
  unsigned long long id = std::strtoull(text, &end, 10);
  // 4294967295 is the kernel's "unset" audit session.
  return end != text && id != 0xFFFFFFFFull ? static_cast<std::uint32_t>(id) : 0;
}

std::uint32_t own_session_id() noexcept {
  // The audit session is set once, at login (pam_loginuid writing /proc/self/loginuid), before
  // a service or a user's shell starts programs; fork inherits it. So asking once is enough.
  static const std::uint32_t session = session_id_of(current_process_id());
  return session;
}

}  // namespace sluice::os
