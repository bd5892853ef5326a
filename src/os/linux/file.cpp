#include "os/linux/file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>

#include "os/linux/errno_map.hpp"

namespace sluice::os {

Result<UniqueFd> open_file(const std::string& path, const FileOpen& how) {
  int flags = how.read && how.write ? O_RDWR : how.write ? O_WRONLY : O_RDONLY;
  flags |= O_CLOEXEC | O_NOCTTY;
  if (how.append) flags |= O_APPEND;
  if (how.create) flags |= O_CREAT;
  if (how.create && how.exclusive) flags |= O_EXCL;
  if (how.truncate) flags |= O_TRUNC;
  UniqueFd fd(::open(path.c_str(), flags, static_cast<mode_t>(how.mode)));
  if (!fd) return errno == EISDIR ? make_error_code(errc::kAccessDenied) : last_errno();
  return fd;
}

bool is_directory(int fd) noexcept {
  struct stat st {};
  return ::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode);
}

bool directory_exists(const std::string& path) noexcept {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool is_executable_file(const std::string& path) noexcept {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

bool is_stream(int fd) noexcept {
  struct stat st {};
  return ::fstat(fd, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode));
}

Result<FileType> file_type(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return last_errno();
  if (S_ISREG(st.st_mode)) return FileType::kRegular;
  if (S_ISDIR(st.st_mode)) return FileType::kDirectory;
  if (S_ISCHR(st.st_mode)) return FileType::kCharacterDevice;
  if (S_ISBLK(st.st_mode)) return FileType::kBlockDevice;
  if (S_ISFIFO(st.st_mode)) return FileType::kFifo;
  if (S_ISSOCK(st.st_mode)) return FileType::kSocket;
  return FileType::kOther;
}

Result<AccessMode> access_mode(int fd) {
  int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0) return last_errno();
  int mode = flags & O_ACCMODE;
  return AccessMode{mode == O_RDONLY || mode == O_RDWR, mode == O_WRONLY || mode == O_RDWR};
}

Result<std::size_t> read_file(int fd, std::span<std::byte> buffer,
                              std::optional<std::uint64_t> offset) {
  ssize_t n;
  do {
    n = offset ? ::pread(fd, buffer.data(), buffer.size(), static_cast<off_t>(*offset))
               : ::read(fd, buffer.data(), buffer.size());
  } while (n < 0 && errno == EINTR);
  if (n < 0) return last_errno();
  return static_cast<std::size_t>(n);
}

Result<std::size_t> write_file_all(int fd, std::span<const std::byte> data,
                                   std::optional<std::uint64_t> offset) {
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = offset ? ::pwrite(fd, data.data() + done, data.size() - done,
                                  static_cast<off_t>(*offset + done))
                       : ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return last_errno();
    done += static_cast<std::size_t>(n);
  }
  return done;
}

Result<void> sync_file(int fd) {
  // Pipes and terminals have nothing to sync (EINVAL), nor has a read-only file system (EROFS).
  if (::fsync(fd) != 0 && errno != EINVAL && errno != EROFS) return last_errno();
  return {};
}

Result<void> remove_file(const std::string& path) {
  if (::unlink(path.c_str()) != 0)
    return errno == EISDIR ? make_error_code(errc::kAccessDenied) : last_errno();
  return {};
}

std::optional<unsigned char> read_key(int fd) noexcept {
  unsigned char c = 0;
  ssize_t n;
  if (::isatty(fd)) {
    struct termios old {};
    ::tcgetattr(fd, &old);
    struct termios raw = old;
    raw.c_lflag &= static_cast<tcflag_t>(~(ICANON | ECHO));
    raw.c_cc[VMIN] = 1;
    raw.c_cc[VTIME] = 0;
    ::tcsetattr(fd, TCSANOW, &raw);
    n = ::read(fd, &c, 1);
    ::tcsetattr(fd, TCSANOW, &old);
  } else {
    do {
      n = ::read(fd, &c, 1);
    } while (n < 0 && errno == EINTR);
  }
  if (n != 1) return std::nullopt;
  return c;
}

}  // namespace sluice::os
