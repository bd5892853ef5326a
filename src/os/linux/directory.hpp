// Directories and small files of the pipe namespace, and the open-file-description locks that
// count instances (they vanish with the last descriptor, SIGKILL included).
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <vector>

#include "os/linux/unique_fd.hpp"
#include "sluice/result.hpp"

namespace sluice::os {

/// Opens (creating with `mode` when missing) the directory `path` without following a final
/// symbolic link.
Result<UniqueFd> open_directory(const std::string& path, unsigned mode, bool create);

/// Opens (creating when missing) the subdirectory `name` of `dir_fd`.
Result<UniqueFd> open_subdirectory(int dir_fd, const std::string& name, unsigned mode, bool create);

/// Checks that a namespace directory is safe to share: owned by root or by us, and sticky when
/// others may write it. Errors: kAccessDenied.
Result<void> check_directory_is_safe(int dir_fd);

/// Opens the file `name` in `dir_fd` read-write (read-only when only that is allowed), creating
/// it with `mode` when missing. Never waits, never follows a final symbolic link; anything but a
/// regular file is kFileNotFound.
Result<UniqueFd> open_file_at(int dir_fd, const std::string& name, unsigned mode, bool create);

/// Creates a file without a name in `dir_fd` (O_TMPFILE), `size` zero bytes, mode `mode`; give it
/// a name with link_file_at once its contents are ready, so nobody sees it half-written.
Result<UniqueFd> create_unnamed_file(int dir_fd, std::size_t size, unsigned mode);
/// Names the unnamed file `fd` `name` in `dir_fd`; false when the name exists already (the
/// check and the link are one atomic step).
Result<bool> link_file_at(int fd, int dir_fd, const std::string& name);
/// How many names the file `fd` has (0 once it was removed).
Result<std::uint64_t> link_count(int fd);

/// Reads a whole small file (at most `limit` bytes).
Result<std::string> read_small_file(int fd, std::size_t limit);
/// Replaces the contents of a small file.
Result<void> rewrite_small_file(int fd, const std::string& contents);

/// Names of the entries of `dir_fd` that start with `prefix`.
Result<std::vector<std::string>> list_directory(int dir_fd, const std::string& prefix);

/// Removes the file `name` in `dir_fd`; missing files are fine.
void unlink_at(int dir_fd, const std::string& name) noexcept;
/// Removes the empty directory `name` in `dir_fd`; false when it is not there or not empty.
bool remove_directory_at(int dir_fd, const std::string& name) noexcept;
/// Replaces the file `name` in `dir_fd` with one holding `contents` (mode `mode`) in one step:
/// a reader opens either the old file or the new one, never a half-written one.
Result<void> replace_file_at(int dir_fd, const std::string& name, const std::string& contents,
                             unsigned mode);

/// Who owns the file or directory `fd`: its uid and its group.
struct FileOwner {
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
};
Result<FileOwner> file_owner(int fd);
/// What tells one file from another: its device and inode numbers.
struct FileId {
  std::uint64_t device = 0;
  std::uint64_t inode = 0;
  friend bool operator==(const FileId&, const FileId&) = default;
};
Result<FileId> file_id(int fd);
/// When the file's inode last changed (st_ctim). Nobody can set it, and it follows the
/// kernel's coarse clock (a tick of a few milliseconds).
struct ChangeTime {
  std::int64_t seconds = 0;
  std::int64_t nanoseconds = 0;
  friend auto operator<=>(const ChangeTime&, const ChangeTime&) = default;
};
Result<ChangeTime> change_time(int fd);
/// The coarse clock the kernel stamps change times with, now (CLOCK_REALTIME_COARSE).
ChangeTime coarse_time() noexcept;
/// The last component of the path `fd` was opened at, as the kernel knows it now
/// (kFileNotFound once it was removed).
Result<std::string> name_of_open_directory(int fd);

/// Takes an open-file-description lock on byte `offset` of `fd`: shared or exclusive, waiting
/// or not. Returns false when another description holds a conflicting lock (no-wait).
Result<bool> lock_byte(int fd, std::uint64_t offset, bool exclusive, bool wait);
/// Releases this description's lock on byte `offset`.
void unlock_byte(int fd, std::uint64_t offset) noexcept;
/// Whether another open file description holds any lock on byte `offset` (fd's own locks are
/// not seen).
bool byte_is_locked(int fd, std::uint64_t offset);
/// Whether another open file description holds an exclusive lock on byte `offset`. Shared
/// locks are not seen: anyone who may read a file may take one, so they prove nothing.
bool byte_is_write_locked(int fd, std::uint64_t offset);

/// Whether a process with this id exists.
bool process_exists(std::uint32_t pid) noexcept;

/// The effective uid process `pid` runs as now (the "Uid:" line of /proc/PID/status).
/// Errors: kFileNotFound (no such process), kNotFound (no Uid: line).
Result<std::uint32_t> process_user_id(std::uint32_t pid);

/// This process's id.
std::uint32_t current_process_id() noexcept;

/// The path of this process's executable (/proc/self/exe; kFileNotFound without /proc).
Result<std::string> executable_path();

/// This process's effective user and group ids.
std::uint32_t current_user_id() noexcept;
std::uint32_t current_group_id() noexcept;

/// The calling thread's kernel id (gettid, asked once per thread; right in a fork's child too).
std::uint32_t current_thread_id() noexcept;

/// The audit session id of process `pid` (from /proc), 0 when the kernel has none.
std::uint32_t session_id_of(std::uint32_t pid) noexcept;
/// This process's audit session id, asked once.
std::uint32_t own_session_id() noexcept;

}  // namespace sluice::os
