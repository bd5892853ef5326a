#include "os/linux/errno_map.hpp"

#include <cerrno>

#include "sluice/error.hpp"

namespace sluice::os {

std::error_code from_errno(int errno_value) noexcept {
  switch (errno_value) {
    case 0:
      return {};
    case ENOENT:
      return errc::kFileNotFound;
    case ENOTDIR:
      return errc::kPathNotFound;
    case EACCES:
    case EPERM:
      return errc::kAccessDenied;
    case EBADF:
      return errc::kInvalidHandle;
    case ENOMEM:
    case ENOBUFS:
      return errc::kNotEnoughMemory;
    case EMFILE:
    case ENFILE:
      return errc::kTooManyOpenFiles;
    case EINVAL:
      return errc::kInvalidParameter;
    case EPIPE:
      return errc::kNoData;
    case ECONNRESET:
      return errc::kBrokenPipe;
    case EAGAIN:
      return errc::kNoData;
    case ETIMEDOUT:
      return errc::kSemTimeout;
    case ENAMETOOLONG:
      return errc::kFilenameExcedRange;
    case EEXIST:
      return errc::kAlreadyExists;
    case ECANCELED:
    case EINTR:
      return errc::kOperationAborted;
    case EOPNOTSUPP:
      return errc::kNotSupported;
    case ECONNREFUSED:
      return errc::kPipeBusy;
    case ENOTCONN:
      return errc::kPipeNotConnected;
    case EDQUOT:
    case ENOSPC:
      return errc::kNotEnoughQuota;
    default:
      return errc::kInvalidFunction;
  }
}

std::error_code last_errno() noexcept { return from_errno(errno); }

}  // namespace sluice::os
