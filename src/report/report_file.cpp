#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "fuzz/finding_output.h"
#include "report/writers.h"

namespace chaosplus::report {

Status write_report_file(const std::string& path, const std::string& content) {
  if (path.empty()) return Error{"a report file needs a path", ErrorCode::invalid_argument};
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    // The rename would replace the link, not write through it; either way a report path aimed at a
    // link is a mistake (or a trap) worth stopping at.
    if (S_ISLNK(st.st_mode))
      return Error{path + ": is a symbolic link; refusing to overwrite it (remove it or choose another path)",
                   ErrorCode::invalid_argument};
    if (!S_ISREG(st.st_mode)) return Error{path + ": exists and is not a regular file", ErrorCode::invalid_argument};
  } else if (errno != ENOENT) {
    return Error{path + ": cannot write (" + std::strerror(errno) + ")", ErrorCode::io_error};
  }
  return fuzz::write_file_atomically(path, content);
}

}  // namespace chaosplus::report
