#include "runner/journal.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>

namespace chaosplus::runner {

Result<Journal> Journal::create(const std::string& path) {
  std::error_code ec;
  auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  if (ec) return Error{"cannot create the journal folder " + parent.string() + ": " + ec.message()};
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_APPEND, 0644);
  if (fd < 0) return Error{"cannot write the journal " + path + ": " + std::strerror(errno)};
  return Journal(fd, path);
}

Journal::Journal(Journal&& other) noexcept : fd_(other.fd_), path_(std::move(other.path_)) { other.fd_ = -1; }

Journal::~Journal() {
  if (fd_ >= 0) {
    ::fsync(fd_);
    ::close(fd_);
  }
}

void Journal::write(const Event& event) {
  std::string line = to_json_line(event);
  line += '\n';
  // One write per line with O_APPEND: a line is never interleaved or half-written by us.
  std::size_t done = 0;
  while (done < line.size()) {
    ssize_t n = ::write(fd_, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    done += static_cast<std::size_t>(n);
  }
}

void Journal::sync() {
  if (fd_ >= 0) ::fsync(fd_);
}

std::string expand_output_path(const std::string& pattern, const std::string& name,
                               std::chrono::system_clock::time_point time) {
  std::time_t t = std::chrono::system_clock::to_time_t(time);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
  std::string out = pattern;
  for (auto [key, value] : {std::pair<std::string, std::string>{"{name}", name}, {"{time}", stamp}}) {
    for (auto pos = out.find(key); pos != std::string::npos; pos = out.find(key, pos + value.size())) {
      out.replace(pos, key.size(), value);
    }
  }
  return out;
}

}  // namespace chaosplus::runner
