#include "faults/cgroups.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace chaosplus::faults::cgroups {
namespace {

std::vector<std::string> split(std::string_view text, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    const auto end = text.find(sep, start);
    out.emplace_back(text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return out;
}

bool contains(const std::vector<std::string>& items, std::string_view item) {
  for (const auto& i : items) {
    if (i == item) return true;
  }
  return false;
}

// A group's path as /proc/PID/cgroup gives it, seen through a mount of the hierarchy whose root is
// `mount_root` (a container's mount shows only a subtree): "/a/b" under root "/a" is "/b".
std::string below_root(const std::string& path, const std::string& mount_root) {
  if (mount_root == "/" || mount_root.empty()) return path;
  if (path == mount_root) return "/";
  if (path.starts_with(mount_root + "/")) return path.substr(mount_root.size());
  return path;
}

std::string read_all(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

std::string_view version_name(Version v) { return v == Version::v1 ? "v1" : "v2"; }

Result<Place> locate(std::string_view controller, std::string_view proc_cgroup, std::string_view mountinfo,
                     const std::function<std::string(const std::string& v2_mount)>& v2_controllers) {
  // /proc/PID/cgroup: "4:memory:/a/b" (v1), "0::/a/b" (v2).
  std::string v1_path, v2_path;
  bool in_v2 = false;
  for (const auto& line : split(proc_cgroup, '\n')) {
    const auto first = line.find(':');
    const auto second = first == std::string::npos ? std::string::npos : line.find(':', first + 1);
    if (second == std::string::npos) continue;
    const std::string controllers = line.substr(first + 1, second - first - 1);
    const std::string path = line.substr(second + 1);
    if (line.substr(0, first) == "0" && controllers.empty()) {
      v2_path = path;
      in_v2 = true;
    } else if (contains(split(controllers, ','), controller)) {
      v1_path = path;
    }
  }
  // mountinfo: "36 25 0:31 / /sys/fs/cgroup/memory rw,relatime shared:15 - cgroup cgroup rw,memory"
  std::string v2_mount, v2_root;
  for (const auto& line : split(mountinfo, '\n')) {
    const auto dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    const auto before = split(line.substr(0, dash), ' ');
    const auto after = split(line.substr(dash + 3), ' ');
    if (before.size() < 5 || after.size() < 3) continue;
    const std::string& root = before[3];
    const std::string& mount = before[4];
    if (after[0] == "cgroup" && !v1_path.empty() && contains(split(after[2], ','), controller)) {
      return Place{Version::v1, mount, below_root(v1_path, root)};
    }
    if (after[0] == "cgroup2" && v2_mount.empty()) {
      v2_mount = mount;
      v2_root = root;
    }
  }
  if (in_v2 && !v2_mount.empty()) {
    std::string listed = v2_controllers(v2_mount);
    while (!listed.empty() && (listed.back() == '\n' || listed.back() == ' ')) listed.pop_back();
    if (!contains(split(listed, ' '), controller)) {
      return Error{"the " + std::string(controller) +
                   " controller is neither in a cgroup v1 hierarchy nor enabled in the cgroup v2 mount " + v2_mount +
                   " (its cgroup.controllers lists '" + listed + "')"};
    }
    return Place{Version::v2, v2_mount, below_root(v2_path, v2_root)};
  }
  return Error{"no cgroup hierarchy has the " + std::string(controller) +
               " controller (neither a v1 mount nor a v2 one)"};
}

Result<Place> of_process(int pid, std::string_view controller) {
  const std::string own = read_all("/proc/" + std::to_string(pid) + "/cgroup");
  if (own.empty())
    return Error{"pid " + std::to_string(pid) + " has no /proc/" + std::to_string(pid) + "/cgroup (gone?)"};
  auto place = locate(controller, own, read_all("/proc/self/mountinfo"),
                      [](const std::string& mount) { return read_all(mount + "/cgroup.controllers"); });
  if (!place) return Error{"pid " + std::to_string(pid) + ": " + place.error()};
  return place;
}

Result<std::string> read_value(const std::string& dir, const std::string& file) {
  const std::string path = dir + "/" + file;
  std::ifstream in(path);
  if (!in) return Error{"cannot read " + path + ": " + std::strerror(errno)};
  std::stringstream s;
  s << in.rdbuf();
  std::string value = s.str();
  while (!value.empty() && value.back() == '\n') value.pop_back();
  return value;
}

Status write_value(const std::string& dir, const std::string& file, const std::string& value) {
  const std::string path = dir + "/" + file;
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return Error{"cannot open " + path + ": " + std::strerror(errno)};
  const ssize_t written = ::write(fd, value.data(), value.size());
  const int error = errno;
  ::close(fd);
  if (written != static_cast<ssize_t>(value.size())) {
    return Error{"writing '" + value + "' to " + path + ": " + std::strerror(error)};
  }
  return ok_status();
}

bool has_file(const std::string& dir, const std::string& file) {
  return ::access((dir + "/" + file).c_str(), F_OK) == 0;
}

Status add_process(const std::string& dir, int pid) { return write_value(dir, "cgroup.procs", std::to_string(pid)); }

std::vector<int> processes(const std::string& dir) {
  std::vector<int> out;
  std::ifstream in(dir + "/cgroup.procs");
  int pid = 0;
  while (in >> pid) out.push_back(pid);
  return out;
}

}  // namespace chaosplus::faults::cgroups
