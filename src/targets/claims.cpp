#include "targets/claims.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

namespace chaosplus::targets {
namespace {

// "run-id\nexperiment\npid\n", read back for the message of a refused run.
std::string holder_text(const ClaimHolder& h) {
  return h.run_id + "\n" + h.experiment + "\n" + std::to_string(h.pid) + "\n";
}

std::string read_all(int fd) {
  std::string text;
  char buf[512];
  off_t offset = 0;
  while (text.size() < 4096) {
    const ssize_t n = ::pread(fd, buf, sizeof buf, offset);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buf, static_cast<std::size_t>(n));
    offset += n;
  }
  return text;
}

std::string describe_holder(const std::string& text) {
  std::string lines[3];
  std::size_t at = 0;
  for (auto& line : lines) {
    const auto nl = text.find('\n', at);
    if (nl == std::string::npos) break;
    line = text.substr(at, nl - at);
    at = nl + 1;
  }
  if (lines[0].empty()) return "another run (it is writing its claim)";
  return "run " + lines[0] + " (experiment " + lines[1] + ", runner pid " + lines[2] + ")";
}

// Keys are made by the functions below; anything else is refused rather than used as a path.
bool is_safe_key(std::string_view key) {
  if (key.empty() || key.size() > 200) return false;
  for (char c : key) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
    if (!ok) return false;
  }
  return key.front() != '.';
}

}  // namespace

// The file goes while the lock is still held, so the folder does not fill up with one file per pid
// ever claimed; claim() checks that the file it locked is still the one at its path.
Claim::~Claim() {
  if (fd_ < 0) return;
  ::unlink(path_.c_str());
  ::close(fd_);
}

std::string claims_dir() {
  if (const char* dir = std::getenv("CHAOSPLUS_CLAIMS_DIR"); dir != nullptr && *dir != '\0') return dir;
  if (::geteuid() == 0) return "/run/chaosplus/claims";
  // Another user cannot write /run; their runs can only act on their own processes anyway.
  if (const char* runtime = std::getenv("XDG_RUNTIME_DIR"); runtime != nullptr && *runtime != '\0') {
    return std::string(runtime) + "/chaosplus/claims";
  }
  return "/tmp/chaosplus-claims-" + std::to_string(::geteuid());
}

std::string process_claim_key(const ProcessId& id) {
  return "process-" + std::to_string(id.pid) + "-" + std::to_string(id.start_time);
}

std::string address_claim_key(std::string_view host, int port) {
  std::string safe;
  for (char c : host) safe += (c == ':' || c == '[' || c == ']' || c == '%') ? '_' : c;
  return "listen-" + safe + "-" + std::to_string(port);
}

Result<std::unique_ptr<Claim>> claim(std::string_view key, std::string_view what, const ClaimHolder& me) {
  if (!is_safe_key(key))
    return Error{"cannot claim " + std::string(what) + ": bad claim name '" + std::string(key) + "'"};
  const std::string dir = claims_dir();
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  const std::string path = dir + "/" + std::string(key);
  int fd = -1;
  for (int attempt = 0; fd < 0; ++attempt) {
    fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) {
      return Error{"cannot claim " + std::string(what) + " for this run: " + path + ": " + std::strerror(errno) +
                   " (set CHAOSPLUS_CLAIMS_DIR to a folder every run on this machine can write)"};
    }
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      const int error = errno;
      const std::string holder = read_all(fd);
      ::close(fd);
      if (error == EWOULDBLOCK) {
        return Error{std::string(what) + " is in use by " + describe_holder(holder) +
                     "; two runs on one target would undo each other's faults, so this run changes nothing (claim " +
                     path + ")"};
      }
      return Error{"cannot claim " + std::string(what) + ": flock " + path + ": " + std::strerror(error)};
    }
    // Locked a file its holder removed on release (between our open and our flock): try the new one.
    struct stat locked {};
    struct stat named {};
    if (::fstat(fd, &locked) != 0 || ::stat(path.c_str(), &named) != 0 || locked.st_ino != named.st_ino ||
        locked.st_dev != named.st_dev) {
      ::close(fd);
      fd = -1;
      if (attempt >= 10) return Error{"cannot claim " + std::string(what) + ": " + path + " keeps changing"};
    }
  }
  const std::string text = holder_text(me);
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size())) {
    const int error = errno;
    ::close(fd);
    return Error{"cannot claim " + std::string(what) + ": writing " + path + ": " + std::strerror(error)};
  }
  return std::make_unique<Claim>(fd, path);
}

}  // namespace chaosplus::targets
