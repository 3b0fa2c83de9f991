#include "core/tell_line.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace chaosplus {

Status tell_line(const std::string& path, const std::string& line, const std::string& what) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return Error{"cannot tell " + what + " on " + path + ": " + std::strerror(errno), ErrorCode::io_error};
  const std::string text = line + "\n";
  const ssize_t n = ::write(fd, text.data(), text.size());
  const int error = errno;
  ::close(fd);
  if (n != static_cast<ssize_t>(text.size())) {
    return Error{"cannot tell " + what + " on " + path + ": " + (n < 0 ? std::strerror(error) : "short write"),
                 ErrorCode::io_error};
  }
  return ok_status();
}

}  // namespace chaosplus
