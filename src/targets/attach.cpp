#include "targets/attach.h"

#include <dirent.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

namespace chaosplus::targets {
namespace {

// The kernel keeps 15 characters of a process name (TASK_COMM_LEN - 1).
constexpr std::size_t kCommLength = 15;

std::string trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

// Base name of argv[0], for names the kernel truncated in comm.
std::string argv0_base_name(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary);
  std::string argv0;
  std::getline(in, argv0, '\0');
  return std::filesystem::path(argv0).filename().string();
}

bool name_matches(int pid, const std::string& name) {
  const std::string comm = process_name(pid);
  if (comm.empty()) return false;
  if (name.size() <= kCommLength) return comm == name;
  return comm == name.substr(0, kCommLength) && argv0_base_name(pid) == name;
}

Result<ProcessId> by_pid(int pid, const std::string& origin) {
  auto id = identify(pid);
  if (!id) return Error{"no running process with pid " + std::to_string(pid) + origin};
  return id;
}

Result<ProcessId> by_pidfile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Error{"cannot read pidfile " + path};
  std::stringstream content;
  content << in.rdbuf();
  const std::string text = trim(content.str());
  int pid = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), pid);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || pid <= 0) {
    return Error{"pidfile " + path + " does not hold a pid (found '" + text.substr(0, 40) + "')"};
  }
  return by_pid(pid, " (from pidfile " + path + ")");
}

Result<ProcessId> by_name(const std::string& name) {
  std::vector<ProcessId> matches;
  DIR* dir = ::opendir("/proc");
  if (dir == nullptr) return Error{"cannot list /proc to find a process named '" + name + "'"};
  const int self = static_cast<int>(::getpid());
  while (const dirent* entry = ::readdir(dir)) {
    char* end = nullptr;
    const long pid = std::strtol(entry->d_name, &end, 10);
    if (pid <= 0 || *end != '\0' || pid == self) continue;
    if (!name_matches(static_cast<int>(pid), name)) continue;
    if (auto id = identify(static_cast<int>(pid))) matches.push_back(*id);  // skips zombies
  }
  ::closedir(dir);
  if (matches.empty()) return Error{"no running process named '" + name + "'"};
  if (matches.size() > 1) {
    std::string pids;
    for (const auto& m : matches) pids += (pids.empty() ? "" : ", ") + std::to_string(m.pid);
    return Error{std::to_string(matches.size()) + " processes are named '" + name + "' (pids " + pids +
                 "); name one by pid or pidfile"};
  }
  return matches.front();
}

}  // namespace

Result<ProcessId> resolve(const spec::ProcessAttach& attach) {
  const int given = (attach.pid ? 1 : 0) + (attach.pidfile.empty() ? 0 : 1) + (attach.name.empty() ? 0 : 1);
  if (given != 1) return Error{"attach needs exactly one of pid, pidfile, name (" + std::to_string(given) + " given)"};
  if (attach.pid) return by_pid(*attach.pid, "");
  if (!attach.pidfile.empty()) return by_pidfile(attach.pidfile);
  return by_name(attach.name);
}

}  // namespace chaosplus::targets
