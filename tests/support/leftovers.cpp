#include "support/leftovers.h"

#include <dirent.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <map>
#include <sstream>

#include "faults/nft_faults.h"
#include "support/support.h"

namespace chaosplus::testing {

using namespace std::chrono_literals;

std::optional<ProcInfo> read_proc(pid_t pid) {
  const std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  const auto open = stat.find('(');
  const auto close = stat.rfind(')');
  if (open == std::string::npos || close == std::string::npos || close + 2 >= stat.size()) return std::nullopt;
  ProcInfo p;
  p.pid = pid;
  p.comm = stat.substr(open + 1, close - open - 1);
  std::istringstream rest(stat.substr(close + 2));
  rest >> p.state >> p.ppid;
  return p;
}

namespace {

std::vector<ProcInfo> all_processes() {
  std::vector<ProcInfo> out;
  DIR* dir = ::opendir("/proc");
  if (dir == nullptr) return out;
  while (const dirent* entry = ::readdir(dir)) {
    char* end = nullptr;
    const long pid = std::strtol(entry->d_name, &end, 10);
    if (pid <= 0 || *end != '\0') continue;
    if (auto p = read_proc(static_cast<pid_t>(pid))) out.push_back(*p);
  }
  ::closedir(dir);
  return out;
}

}  // namespace

std::string command_line(pid_t pid) {
  std::string text = read_file("/proc/" + std::to_string(pid) + "/cmdline");
  std::replace(text.begin(), text.end(), '\0', ' ');
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text.size() > 160 ? text.substr(0, 160) + "..." : text;
}

std::vector<ProcInfo> descendants(const std::set<pid_t>& keep) {
  const auto procs = all_processes();
  std::multimap<pid_t, const ProcInfo*> children;
  for (const auto& p : procs) children.emplace(p.ppid, &p);
  std::vector<ProcInfo> out;
  std::vector<pid_t> todo{::getpid()};
  while (!todo.empty()) {
    const pid_t parent = todo.back();
    todo.pop_back();
    auto [from, to] = children.equal_range(parent);
    for (auto it = from; it != to; ++it) {
      const ProcInfo& p = *it->second;
      if (keep.contains(p.pid)) continue;
      if (p.state == 'Z' || p.state == 'X') {
        if (parent == ::getpid()) ::waitpid(p.pid, nullptr, WNOHANG);
        continue;
      }
      out.push_back(p);
      todo.push_back(p.pid);
    }
  }
  return out;
}

void kill_descendants(const std::set<pid_t>& keep) {
  wait_until(
      [&] {
        auto left = descendants(keep);
        for (const auto& p : left) ::kill(p.pid, SIGKILL);
        return left.empty();
      },
      10s);
}

std::set<int> listening_ports() {
  std::set<int> ports;
  for (const char* file : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::istringstream in(read_file(file));
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      std::string slot, local, remote, state;
      fields >> slot >> local >> remote >> state;
      const auto colon = local.rfind(':');
      if (state != "0A" || colon == std::string::npos) continue;
      ports.insert(static_cast<int>(std::stoul(local.substr(colon + 1), nullptr, 16)));
    }
  }
  return ports;
}

std::set<std::string> chaosplus_tables() {
  std::set<std::string> out;
  auto tables = faults::list_inet_tables("");
  if (!tables) return {"<nft list tables failed: " + tables.error() + ">"};
  for (const auto& t : *tables) {
    if (t.starts_with("chaosplus")) out.insert(t);
  }
  return out;
}

}  // namespace chaosplus::testing
