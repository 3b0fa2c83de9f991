#include "fuzz/target_watch.h"

#include <signal.h>

#include <cerrno>
#include <fstream>
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

}  // namespace chaosplus::fuzz
