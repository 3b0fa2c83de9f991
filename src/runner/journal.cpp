#include "runner/journal.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "core/event_json.h"
#include "runner/output_paths.h"

namespace chaosplus::runner {
namespace {

class Folder {
 public:
  explicit Folder(int fd) : fd_(fd) {}
  Folder(Folder&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Folder& operator=(Folder&& other) noexcept {
    std::swap(fd_, other.fd_);
    return *this;
  }
  Folder(const Folder&) = delete;
  ~Folder() {
    if (fd_ >= 0) ::close(fd_);
  }
  int fd() const { return fd_; }

 private:
  int fd_;
};

std::string joined(const std::string& folder, const std::string& name) {
  return folder.empty() || folder == "." ? name : folder + "/" + name;
}

}  // namespace

// The journal file and its logs folder, made in the open folder `folder` (shown as `folder_path`).
Result<Journal> Journal::create_in(int folder, const std::string& folder_path, const std::string& file) {
  const std::string path = joined(folder_path, file);
  // O_EXCL also refuses a symbolic link, dangling or not, in the journal's place.
  int fd = ::openat(folder, file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0 && errno == EEXIST) {
    return Error{"the journal " + path +
                 " already exists, expected a new file (chaosplus never overwrites one): give another --journal, "
                 "or put {run} in outputs.journal"};
  }
  if (fd < 0) return Error{"cannot create the journal " + path + ": " + std::strerror(errno)};
  const std::string stem = std::filesystem::path(file).stem().string();
  const std::string logs = stem + ".logs";
  if (::mkdirat(folder, logs.c_str(), 0700) != 0) {
    const int error = errno;
    ::close(fd);
    ::unlinkat(folder, file.c_str(), 0);  // ours and empty: the run does not start
    if (error == EEXIST) {
      return Error{"the logs folder " + joined(folder_path, logs) +
                   " already exists, expected a new one for the journal " + path};
    }
    return Error{"cannot create the logs folder " + joined(folder_path, logs) + ": " + std::strerror(error)};
  }
  return Journal(fd, path, joined(folder_path, logs));
}

Result<Journal> Journal::create(const std::string& path) {
  const std::filesystem::path p(path);
  const std::string file = p.filename().string();
  if (file.empty() || file == "." || file == "..") return Error{"the journal path " + path + " names no file"};
  const std::string parent = p.parent_path().string();
  if (!parent.empty()) {
    if (auto s = create_private_directories(parent); !s) return Error{"cannot create the journal folder: " + s.error()};
  }
  Folder folder(::open(parent.empty() ? "." : parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (folder.fd() < 0) return Error{"cannot open the journal folder " + parent + ": " + std::strerror(errno)};
  return create_in(folder.fd(), parent, file);
}

Result<Journal> Journal::create_under(const std::string& base, const std::string& relative) {
  std::vector<std::string> parts;
  for (const auto& part : std::filesystem::path(relative)) parts.push_back(part.string());
  const auto refuse = [&](const std::string& why) {
    return Error{"the journal path '" + relative + "' " + why + ", expected a file name below " + base};
  };
  if (relative.empty() || parts.empty()) return refuse("is empty");
  if (std::filesystem::path(relative).is_absolute()) return refuse("is absolute");
  for (const auto& part : parts) {
    if (part == "..") return refuse("leads out of the runs folder with '..'");
  }
  if (parts.back().empty() || parts.back() == ".") return refuse("names a folder");
  if (auto s = create_private_directories(base); !s) return Error{"cannot create the runs folder: " + s.error()};

  Folder folder(::open(base.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (folder.fd() < 0) return Error{"cannot open the runs folder " + base + ": " + std::strerror(errno)};
  std::string shown = base;
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
    const std::string& part = parts[i];
    if (part.empty() || part == ".") continue;
    shown = joined(shown, part);
    if (::mkdirat(folder.fd(), part.c_str(), 0700) != 0 && errno != EEXIST) {
      return Error{"cannot create the folder " + shown + ": " + std::strerror(errno)};
    }
    Folder next(::openat(folder.fd(), part.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (next.fd() < 0) {
      const bool link = errno == ELOOP || errno == ENOTDIR;
      return Error{"cannot open the folder " + shown +
                   (link ? ": it is a symbolic link or not a folder, expected a "
                           "folder inside the runs folder"
                         : std::string(": ") + std::strerror(errno))};
    }
    folder = std::move(next);
  }
  return create_in(folder.fd(), shown, parts.back());
}

Journal::Journal(Journal&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), path_(std::move(other.path_)), logs_dir_(std::move(other.logs_dir_)) {}

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

Result<Event> parse_journal_line(std::string_view line) { return parse_event_json(line); }

Result<std::vector<Event>> read_journal(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{"cannot read the journal " + path + ": " + std::strerror(errno)};
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  std::vector<Event> events;
  std::size_t start = 0;
  for (int number = 1;; ++number) {
    const std::size_t end = text.find('\n', start);
    if (end == std::string::npos) break;  // a last line without its newline may be cut short
    auto event = parse_journal_line(std::string_view(text).substr(start, end - start));
    if (!event) return Error{path + ":" + std::to_string(number) + ": not a journal event: " + event.error()};
    events.push_back(std::move(event).value());
    start = end + 1;
  }
  return events;
}

}  // namespace chaosplus::runner
