// Ordinary files and the terminal, for the Win32 layer's CreateFile, ReadFile, WriteFile,
// FlushFileBuffers, DeleteFile and _getch: the system calls, with errno mapped once (errno_map).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "os/linux/unique_fd.hpp"
#include "sluice/result.hpp"

namespace sluice::os {

/// How open_file opens a path. The descriptor is always close-on-exec and never becomes a
/// controlling terminal.
struct FileOpen {
  bool read = false;
  bool write = false;
  bool append = false;     ///< every write goes to the end
  bool create = false;     ///< create when missing (with `mode`, less the umask)
  bool exclusive = false;  ///< with create: fail with kAlreadyExists when it exists
  bool truncate = false;   ///< empty an existing file
  unsigned mode = 0666;
};

/// Opens `path`. Errors: kFileNotFound (missing), kPathNotFound (a parent is not a directory),
/// kAlreadyExists (exclusive), kAccessDenied, ... (errno_map); EISDIR is kAccessDenied.
Result<UniqueFd> open_file(const std::string& path, const FileOpen& how);

/// Whether `fd` is a directory; whether `path` names one (following links).
bool is_directory(int fd) noexcept;
bool directory_exists(const std::string& path) noexcept;
/// Whether `path` names a regular file (following links) that the caller may execute.
bool is_executable_file(const std::string& path) noexcept;
/// Whether `fd` is a pipe (FIFO) or a socket: a byte stream, not a file with positions.
bool is_stream(int fd) noexcept;

/// What kind of file `fd` is open on (the type bits of fstat's st_mode).
enum class FileType : std::uint8_t {
  kRegular,
  kDirectory,
  kCharacterDevice,
  kBlockDevice,
  kFifo,
  kSocket,
  kOther,  ///< a symbolic link opened with O_PATH, or a type Linux may add
};
/// Errors: kInvalidHandle (EBADF: `fd` is not open), ... (errno_map).
Result<FileType> file_type(int fd);

/// What `fd`'s open file description was opened for (its O_ACCMODE, from F_GETFL).
struct AccessMode {
  bool read = false;
  bool write = false;
};
/// Errors: kInvalidHandle (EBADF: `fd` is not open).
Result<AccessMode> access_mode(int fd);

/// Reads up to buffer.size() bytes at the file position, or at `offset` (which leaves the file
/// position alone); 0 at end of file. EINTR is retried.
Result<std::size_t> read_file(int fd, std::span<std::byte> buffer,
                              std::optional<std::uint64_t> offset);
/// Writes all of `data` at the file position, or from `offset`. EINTR is retried.
Result<std::size_t> write_file_all(int fd, std::span<const std::byte> data,
                                   std::optional<std::uint64_t> offset);
/// Flushes the file to its device; descriptors with nothing to flush (pipes, terminals,
/// read-only file systems) succeed.
Result<void> sync_file(int fd);
/// Removes the file `path`.
Result<void> remove_file(const std::string& path);

/// Reads one byte from `fd`, as a key press when it is a terminal (no line editing, no echo, for
/// this one read); nullopt at end of input or on error.
std::optional<unsigned char> read_key(int fd) noexcept;

}  // namespace sluice::os
