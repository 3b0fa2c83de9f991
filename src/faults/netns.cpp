#include "faults/netns.h"

#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>

#include "faults/system_tool.h"

namespace chaosplus::faults {
namespace {

constexpr const char* kNetnsDir = "/run/netns";

bool name_chars(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
           c == '-';
  });
}

}  // namespace

bool namespace_exists(std::string_view name) {
  if (name.empty() || !name_chars(name) || name == "." || name == "..") return false;
  return ::access((std::string(kNetnsDir) + "/" + std::string(name)).c_str(), F_OK) == 0;
}

std::vector<std::string> list_namespaces() {
  std::vector<std::string> names;
  DIR* dir = ::opendir(kNetnsDir);
  if (dir == nullptr) return names;
  while (const dirent* e = ::readdir(dir)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(std::move(name));
  }
  ::closedir(dir);
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<std::string> in_namespace(const std::string& netns, std::vector<std::string> argv) {
  if (netns.empty()) return argv;
  // `ip netns exec` looks the command up in PATH, which may lack sbin where nft and tc live.
  if (!argv.empty()) {
    if (std::string path = find_tool(argv.front()); !path.empty()) argv.front() = std::move(path);
  }
  std::vector<std::string> wrapped{"ip", "netns", "exec", netns};
  wrapped.insert(wrapped.end(), std::make_move_iterator(argv.begin()), std::make_move_iterator(argv.end()));
  return wrapped;
}

Result<int> socket_in_namespace(const std::string& netns, int domain, int type) {
  if (netns.empty()) {
    const int fd = ::socket(domain, type | SOCK_CLOEXEC, 0);
    if (fd < 0) return Error{std::string("socket: ") + std::strerror(errno)};
    return fd;
  }
  if (!namespace_exists(netns)) return Error{"network namespace '" + netns + "' does not exist"};
  // setns moves only the calling thread, so a short-lived thread enters the namespace and makes the socket.
  Result<int> result = Error{"not run"};
  std::thread worker([&] {
    const int ns_fd = ::open((std::string(kNetnsDir) + "/" + netns).c_str(), O_RDONLY | O_CLOEXEC);
    if (ns_fd < 0) {
      result = Error{"open network namespace '" + netns + "': " + std::strerror(errno)};
      return;
    }
    const int rc = ::setns(ns_fd, CLONE_NEWNET);
    const int setns_errno = errno;
    ::close(ns_fd);
    if (rc != 0) {
      result = Error{"enter network namespace '" + netns + "': " + std::strerror(setns_errno)};
      return;
    }
    const int fd = ::socket(domain, type | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      result = Error{std::string("socket in '" + netns + "': ") + std::strerror(errno)};
      return;
    }
    result = fd;
  });
  worker.join();
  return result;
}

}  // namespace chaosplus::faults
