#include "targets/sockets.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>

namespace chaosplus::targets {
namespace {

std::string read_all(const std::string& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// "0B00007F:1538" -> 127.0.0.11, 5432. The kernel prints each 32-bit word of the address in host
// byte order, so the bytes are copied back as they were.
bool parse_address(const std::string& text, bool ipv6, std::string& ip, int& port) {
  const auto colon = text.find(':');
  if (colon == std::string::npos) return false;
  const std::string hex = text.substr(0, colon);
  if (hex.size() != (ipv6 ? 32U : 8U)) return false;
  std::array<unsigned char, 16> bytes{};
  for (std::size_t word = 0; word < hex.size() / 8; ++word) {
    const auto value = static_cast<std::uint32_t>(std::strtoul(hex.substr(word * 8, 8).c_str(), nullptr, 16));
    std::memcpy(bytes.data() + word * 4, &value, 4);
  }
  std::array<char, INET6_ADDRSTRLEN> out{};
  if (::inet_ntop(ipv6 ? AF_INET6 : AF_INET, bytes.data(), out.data(), out.size()) == nullptr) return false;
  ip = out.data();
  port = static_cast<int>(std::strtol(text.substr(colon + 1).c_str(), nullptr, 16));
  return true;
}

int parent_pid(int pid) {
  const std::string stat = read_all("/proc/" + std::to_string(pid) + "/stat");
  const auto close = stat.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream rest(stat.substr(close + 1));
  char state = 0;
  int ppid = 0;
  rest >> state >> ppid;
  return ppid;
}

std::vector<int> all_pids() {
  std::vector<int> pids;
  DIR* dir = ::opendir("/proc");
  if (dir == nullptr) return pids;
  while (const dirent* entry = ::readdir(dir)) {
    char* end = nullptr;
    const long pid = std::strtol(entry->d_name, &end, 10);
    if (pid > 0 && *end == '\0') pids.push_back(static_cast<int>(pid));
  }
  ::closedir(dir);
  return pids;
}

}  // namespace

std::vector<TcpSocket> parse_proc_net_tcp(const std::string& text, bool ipv6) {
  std::vector<TcpSocket> out;
  std::istringstream lines(text);
  std::string line;
  std::getline(lines, line);  // the header
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    std::string slot, local, remote, state, queues, timer, retransmits, uid, timeout;
    unsigned long long inode = 0;
    if (!(fields >> slot >> local >> remote >> state >> queues >> timer >> retransmits >> uid >> timeout >> inode)) {
      continue;
    }
    TcpSocket s;
    if (!parse_address(local, ipv6, s.local_ip, s.local_port)) continue;
    if (!parse_address(remote, ipv6, s.remote_ip, s.remote_port)) continue;
    s.listening = state == "0A";
    s.inode = inode;
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<TcpSocket> tcp_sockets() {
  auto out = parse_proc_net_tcp(read_all("/proc/net/tcp"), false);
  auto v6 = parse_proc_net_tcp(read_all("/proc/net/tcp6"), true);
  out.insert(out.end(), std::make_move_iterator(v6.begin()), std::make_move_iterator(v6.end()));
  return out;
}

std::vector<unsigned long long> socket_inodes(int pid) {
  std::vector<unsigned long long> out;
  const std::string fd_dir = "/proc/" + std::to_string(pid) + "/fd";
  DIR* dir = ::opendir(fd_dir.c_str());
  if (dir == nullptr) return out;
  std::array<char, 64> target{};
  while (const dirent* entry = ::readdir(dir)) {
    if (entry->d_name[0] == '.') continue;
    const std::string link = fd_dir + "/" + entry->d_name;
    const ssize_t n = ::readlink(link.c_str(), target.data(), target.size() - 1);
    if (n <= 0) continue;
    const std::string_view text(target.data(), static_cast<std::size_t>(n));
    if (!text.starts_with("socket:[")) continue;
    out.push_back(std::strtoull(std::string(text.substr(8)).c_str(), nullptr, 10));
  }
  ::closedir(dir);
  return out;
}

Result<ProcessId> listening_process(const std::string& ip, int port) {
  std::vector<unsigned long long> inodes;
  for (const auto& s : tcp_sockets()) {
    if (s.listening && s.local_port == port && s.local_ip == ip) inodes.push_back(s.inode);
  }
  const std::string where = ip + ":" + std::to_string(port);
  if (inodes.empty()) return Error{"no process listens on " + where};
  std::vector<int> holders;
  for (int pid : all_pids()) {
    for (auto inode : socket_inodes(pid)) {
      if (std::find(inodes.begin(), inodes.end(), inode) != inodes.end()) {
        holders.push_back(pid);
        break;
      }
    }
  }
  std::vector<int> roots;
  for (int pid : holders) {
    if (std::find(holders.begin(), holders.end(), parent_pid(pid)) == holders.end()) roots.push_back(pid);
  }
  if (roots.empty()) return Error{"no live process holds the socket listening on " + where};
  if (roots.size() > 1) {
    std::string pids;
    for (int p : roots) pids += (pids.empty() ? "" : ", ") + std::to_string(p);
    return Error{"several processes listen on " + where + " (pids " + pids + ")"};
  }
  auto id = identify(roots.front());
  if (!id) return Error{"the process listening on " + where + " is gone"};
  return *id;
}

std::vector<ProcessId> process_tree(int pid) {
  std::multimap<int, int> children;
  for (int p : all_pids()) children.emplace(parent_pid(p), p);
  std::vector<ProcessId> out;
  std::vector<int> todo{pid};
  while (!todo.empty() && out.size() < 4096) {
    const int p = todo.back();
    todo.pop_back();
    if (auto id = identify(p)) out.push_back(*id);
    for (auto [it, end] = children.equal_range(p); it != end; ++it) todo.push_back(it->second);
  }
  return out;
}

}  // namespace chaosplus::targets
