#include "faults/shadow_entry.h"

#include <fcntl.h>
#include <shadow.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace chaosplus::faults {
namespace {

std::string system_error(const std::string& what) { return what + ": " + std::strerror(errno); }

Result<std::string> read_whole(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return Error{system_error("cannot read " + file), ErrorCode::io_error};
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return Error{"cannot read " + file, ErrorCode::io_error};
  return text.str();
}

// [begin, end) of the line of `user` in `text`, end before its newline; npos when there is none.
std::pair<std::size_t, std::size_t> find_line(const std::string& text, const std::string& user) {
  const std::string prefix = user + ":";
  std::size_t begin = 0;
  while (begin < text.size()) {
    std::size_t end = text.find('\n', begin);
    if (end == std::string::npos) end = text.size();
    if (text.compare(begin, prefix.size(), prefix) == 0) return {begin, end};
    begin = end + 1;
  }
  return {std::string::npos, std::string::npos};
}

// Writes `text` to "<file>+" with the owner and mode of `file`, syncs it and renames it over `file`,
// then syncs the folder: the file is the old one or the new one, never half of each.
Status replace_file(const std::string& file, const std::string& text) {
  struct stat original {};
  if (::stat(file.c_str(), &original) != 0) return Error{system_error("cannot stat " + file), ErrorCode::io_error};
  const std::string temporary = file + "+";
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return Error{system_error("cannot create " + temporary), ErrorCode::io_error};
  auto fail = [&](const std::string& what) {
    Error error{system_error(what), ErrorCode::io_error};
    ::close(fd);
    ::unlink(temporary.c_str());
    return error;
  };
  std::size_t written = 0;
  while (written < text.size()) {
    const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return fail("cannot write " + temporary);
    written += static_cast<std::size_t>(n);
  }
  if (::fchown(fd, original.st_uid, original.st_gid) != 0) return fail("cannot chown " + temporary);
  if (::fchmod(fd, original.st_mode & 07777) != 0) return fail("cannot chmod " + temporary);
  if (::fsync(fd) != 0) return fail("cannot sync " + temporary);
  if (::close(fd) != 0) {
    ::unlink(temporary.c_str());
    return Error{system_error("cannot close " + temporary), ErrorCode::io_error};
  }
  if (::rename(temporary.c_str(), file.c_str()) != 0) {
    Error error{system_error("cannot rename " + temporary + " to " + file), ErrorCode::io_error};
    ::unlink(temporary.c_str());
    return error;
  }
  const std::string folder = std::filesystem::path(file).parent_path().string();
  if (const int dir = ::open(folder.empty() ? "." : folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
  return ok_status();
}

// lckpwdf() for as long as it lives: the lock every shadow-utils tool takes before it writes.
class ShadowLock {
 public:
  ShadowLock() : held_(::lckpwdf() == 0) {}
  ~ShadowLock() {
    if (held_) ::ulckpwdf();
  }
  ShadowLock(const ShadowLock&) = delete;
  ShadowLock& operator=(const ShadowLock&) = delete;
  bool held() const { return held_; }

 private:
  bool held_;
};

}  // namespace

Result<std::string> account_line(const std::string& file, const std::string& user) {
  auto text = read_whole(file);
  if (!text) return text.failure();
  const auto [begin, end] = find_line(*text, user);
  if (begin == std::string::npos) return Error{file + " has no entry for '" + user + "'", ErrorCode::not_found};
  return text->substr(begin, end - begin);
}

std::vector<std::string> split_fields(const std::string& line) {
  std::vector<std::string> fields;
  std::size_t begin = 0;
  for (;;) {
    const std::size_t colon = line.find(':', begin);
    fields.push_back(line.substr(begin, colon == std::string::npos ? std::string::npos : colon - begin));
    if (colon == std::string::npos) return fields;
    begin = colon + 1;
  }
}

std::string join_fields(const std::vector<std::string>& fields) {
  std::string line;
  for (std::size_t i = 0; i < fields.size(); ++i) line += (i == 0 ? "" : ":") + fields[i];
  return line;
}

Result<std::string> edit_shadow_entry(const std::string& file, const std::string& user,
                                      const std::function<void(std::vector<std::string>&)>& edit) {
  ShadowLock lock;
  if (!lock.held()) return Error{system_error("cannot take the shadow lock (lckpwdf)"), ErrorCode::io_error};
  auto text = read_whole(file);
  if (!text) return text.failure();
  const auto [begin, end] = find_line(*text, user);
  if (begin == std::string::npos) return Error{file + " has no entry for '" + user + "'", ErrorCode::not_found};
  const std::string line = text->substr(begin, end - begin);
  std::vector<std::string> fields = split_fields(line);
  edit(fields);
  const std::string changed = join_fields(fields);
  if (changed == line) return line;
  if (auto s = replace_file(file, text->substr(0, begin) + changed + text->substr(end)); !s) return s.failure();
  return changed;
}

}  // namespace chaosplus::faults
