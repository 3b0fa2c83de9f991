#include "fuzz/target_watch.h"

#include <signal.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

namespace chaosplus::fuzz {

bool process_alive(std::int64_t pid) {
  if (pid <= 0) return false;
  if (::kill(static_cast<pid_t>(pid), 0) == 0) return true;
  if (errno == EPERM) return true;  // it exists, it is just not ours
  return false;
}

std::optional<std::uint64_t> resident_bytes(std::int64_t pid) {
  if (pid <= 0) return std::nullopt;
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (!line.starts_with("VmRSS:")) continue;
    try {
      return static_cast<std::uint64_t>(std::stoull(line.substr(6))) * 1024;  // "VmRSS:   12345 kB"
    } catch (const std::exception&) {
      return std::nullopt;
    }
  }
  return std::nullopt;
}

std::optional<std::string> executable(std::int64_t pid) {
  std::error_code ec;
  auto path = std::filesystem::read_symlink("/proc/" + std::to_string(pid) + "/exe", ec);
  if (ec) return std::nullopt;
  return path.string();
}

namespace {

// Inodes of the sockets listening on `port` ("sl local rem st ... inode" lines; st 0A is LISTEN).
std::set<std::string> listening_inodes(int port) {
  std::set<std::string> out;
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in(table);
    std::string line;
    std::getline(in, line);  // the header
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      std::string sl, local, remote, state, queues, timer, retransmits, uid, timeout, inode;
      fields >> sl >> local >> remote >> state >> queues >> timer >> retransmits >> uid >> timeout >> inode;
      const auto colon = local.rfind(':');
      if (state != "0A" || colon == std::string::npos) continue;
      if (std::stoi(local.substr(colon + 1), nullptr, 16) == port) out.insert("socket:[" + inode + "]");
    }
  }
  return out;
}

}  // namespace

std::optional<std::int64_t> listener_running(int port, const std::string& program) {
  const auto inodes = listening_inodes(port);
  if (inodes.empty()) return std::nullopt;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    const std::int64_t pid = std::stoll(name);
    if (executable(pid) != program) continue;
    std::error_code fd_ec;
    for (const auto& fd : std::filesystem::directory_iterator(entry.path() / "fd", fd_ec)) {
      std::error_code link_ec;
      if (inodes.contains(std::filesystem::read_symlink(fd.path(), link_ec).string())) return pid;
    }
  }
  return std::nullopt;
}

}  // namespace chaosplus::fuzz
