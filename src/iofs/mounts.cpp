#include "iofs/mounts.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "iofs/passthrough.h"

namespace chaosplus::iofs {
namespace {

std::string proc(int pid, const char* leaf) {
  return "/proc/" + (pid == 0 ? std::string("self") : std::to_string(pid)) + "/" + leaf;
}

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      const std::string oct = s.substr(i + 1, 3);
      if (oct.size() == 3 && oct.find_first_not_of("01234567") == std::string::npos) {
        out += static_cast<char>(std::stoi(oct, nullptr, 8));
        i += 3;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

}  // namespace

std::vector<MountEntry> read_mounts(int pid) {
  std::vector<MountEntry> out;
  std::ifstream in(proc(pid, "mountinfo"));
  std::string line;
  while (std::getline(in, line)) {
    // id parent major:minor root mount-point options [optional fields...] - fstype source super-options
    std::istringstream fields(line);
    std::string id, parent, dev, root, point, word;
    fields >> id >> parent >> dev >> root >> point;
    while (fields >> word && word != "-") {
    }
    std::string fstype;
    fields >> fstype;
    out.push_back({unescape(point), fstype});
  }
  return out;
}

std::string mountinfo_text(int pid) {
  std::ifstream in(proc(pid, "mountinfo"));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

bool iofs_on_top(int pid, const std::string& mount_point) {
  const MountEntry* top = nullptr;
  const auto mounts = read_mounts(pid);
  for (const auto& m : mounts) {
    if (m.mount_point == mount_point) top = &m;
  }
  return top != nullptr && top->fstype == kFsType;
}

unsigned long long mount_namespace(int pid) {
  struct stat st {};
  if (::stat(proc(pid, "ns/mnt").c_str(), &st) != 0) return 0;
  return st.st_ino;
}

Status unmount_iofs(int pid, const std::string& mount_point) {
  if (!iofs_on_top(pid, mount_point)) return ok_status();
  const int ns = ::open(proc(pid, "ns/mnt").c_str(), O_RDONLY | O_CLOEXEC);
  if (ns < 0) {
    if (errno == ENOENT || errno == ESRCH) return ok_status();  // gone, and its namespace with it
    return Error{"the mount namespace of pid " + std::to_string(pid) + ": " + std::strerror(errno)};
  }
  const pid_t child = ::fork();
  if (child < 0) {
    const int e = errno;
    ::close(ns);
    return Error{std::string("fork: ") + std::strerror(e)};
  }
  if (child == 0) {
    // Only system calls here: the parent has threads.
    // Exit code: 0, the errno of umount2, or 128 + the errno of setns.
    if (::setns(ns, CLONE_NEWNS) != 0) ::_exit(128 + (errno < 127 ? errno : 126));
    if (::umount2(mount_point.c_str(), MNT_DETACH) != 0) ::_exit(errno < 127 ? errno : 126);
    ::_exit(0);
  }
  ::close(ns);
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status)) return Error{"the unmounting child of pid " + std::to_string(pid) + " was killed"};
  const int code = WEXITSTATUS(status);
  if (code == 0) return ok_status();
  if (code < 128) {
    return Error{"umount " + mount_point + " in the mount namespace of pid " + std::to_string(pid) + ": " +
                 std::strerror(code)};
  }
  return Error{"joining the mount namespace of pid " + std::to_string(pid) + ": " + std::strerror(code - 128)};
}

}  // namespace chaosplus::iofs
