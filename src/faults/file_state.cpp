#include "faults/file_state.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <vector>

#include "faults/file_pages.h"

namespace chaosplus::faults {
namespace {

std::string why(const std::string& what, const std::string& path) {
  return what + " " + path + ": " + std::strerror(errno);
}

std::string octal(std::uint32_t mode) {
  char text[16];
  std::snprintf(text, sizeof text, "%04o", mode & 07777);
  return text;
}

// A descriptor for the inode flags ioctls, or -1 (errno set). Only files and folders have them.
int open_for_flags(const std::string& path) {
  return ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
}

Result<std::map<std::string, std::string>> read_xattrs(const std::string& path) {
  std::map<std::string, std::string> out;
  std::vector<char> names;
  for (;;) {
    const ssize_t size = ::llistxattr(path.c_str(), nullptr, 0);
    if (size < 0) {
      if (errno == ENOTSUP) return out;
      return Error{why("cannot list the extended attributes of", path)};
    }
    names.resize(static_cast<std::size_t>(size));
    const ssize_t got = ::llistxattr(path.c_str(), names.data(), names.size());
    if (got >= 0) {
      names.resize(static_cast<std::size_t>(got));
      break;
    }
    if (errno != ERANGE) return Error{why("cannot list the extended attributes of", path)};  // ERANGE: grew meanwhile
  }
  for (std::size_t at = 0; at < names.size();) {
    const std::string name(names.data() + at);
    at += name.size() + 1;
    for (;;) {
      const ssize_t size = ::lgetxattr(path.c_str(), name.c_str(), nullptr, 0);
      if (size < 0) {
        if (errno == ENODATA) break;  // removed meanwhile
        return Error{why("cannot read extended attribute " + name + " of", path)};
      }
      std::string value(static_cast<std::size_t>(size), '\0');
      const ssize_t got = ::lgetxattr(path.c_str(), name.c_str(), value.data(), value.size());
      if (got >= 0) {
        value.resize(static_cast<std::size_t>(got));
        out[name] = std::move(value);
        break;
      }
      if (errno != ERANGE) return Error{why("cannot read extended attribute " + name + " of", path)};
    }
  }
  return out;
}

}  // namespace

bool FileState::is_directory() const { return S_ISDIR(mode); }

bool FileState::same_file(const FileState& other) const {
  return device == other.device && inode == other.inode && birth_ns == other.birth_ns;
}

nlohmann::json FileState::to_json() const {
  nlohmann::json x = nlohmann::json::object();
  for (const auto& [name, value] : xattrs) {
    x[name] = to_hex({reinterpret_cast<const unsigned char*>(value.data()), value.size()});
  }
  nlohmann::json j{{"device", device}, {"inode", inode}, {"birth_ns", birth_ns}, {"mode", mode},
                   {"uid", uid},       {"gid", gid},     {"xattrs", x}};
  j["flags"] = flags ? nlohmann::json(*flags) : nlohmann::json();
  return j;
}

Result<FileState> FileState::from_json(const nlohmann::json& j) {
  try {
    FileState s;
    s.device = j.at("device").get<std::uint64_t>();
    s.inode = j.at("inode").get<std::uint64_t>();
    s.birth_ns = j.value("birth_ns", std::int64_t{0});
    s.mode = j.at("mode").get<std::uint32_t>();
    s.uid = j.at("uid").get<std::uint32_t>();
    s.gid = j.at("gid").get<std::uint32_t>();
    for (const auto& [name, hex] : j.at("xattrs").items()) {
      auto bytes = from_hex(hex.get<std::string>());
      if (!bytes) return Error{"xattr " + name + ": " + bytes.error()};
      s.xattrs[name] = std::string(bytes->begin(), bytes->end());
    }
    if (j.contains("flags") && !j.at("flags").is_null()) s.flags = j.at("flags").get<std::uint32_t>();
    return s;
  } catch (const nlohmann::json::exception& e) {
    return Error{std::string("a file state in the record does not read: ") + e.what()};
  }
}

Result<std::optional<std::uint32_t>> read_flags(const std::string& path) {
  const int fd = open_for_flags(path);
  if (fd < 0) {
    if (errno == ELOOP || errno == ENXIO || errno == ENODEV) return std::optional<std::uint32_t>();  // no flags
    return Error{why("cannot open", path)};
  }
  int flags = 0;
  const int rc = ::ioctl(fd, FS_IOC_GETFLAGS, &flags);
  const int error = errno;
  ::close(fd);
  if (rc != 0) {
    if (error == ENOTTY || error == ENOTSUP || error == EINVAL) return std::optional<std::uint32_t>();
    errno = error;
    return Error{why("cannot read the inode flags of", path)};
  }
  return std::optional<std::uint32_t>(static_cast<std::uint32_t>(flags));
}

Status write_flags(const std::string& path, std::uint32_t flags) {
  const int fd = open_for_flags(path);
  if (fd < 0) return Error{why("cannot open", path)};
  int value = static_cast<int>(flags);
  const int rc = ::ioctl(fd, FS_IOC_SETFLAGS, &value);
  const int error = errno;
  ::close(fd);
  if (rc != 0) {
    errno = error;
    return Error{why("cannot set the inode flags of", path)};
  }
  return ok_status();
}

Result<FileState> snapshot(const std::string& path) {
  struct statx st {};
  if (::statx(AT_FDCWD, path.c_str(), AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS | STATX_BTIME, &st) != 0) {
    return Error{why("cannot stat", path)};
  }
  FileState s;
  s.device = makedev(st.stx_dev_major, st.stx_dev_minor);
  s.inode = st.stx_ino;
  if (st.stx_mask & STATX_BTIME) s.birth_ns = st.stx_btime.tv_sec * 1'000'000'000LL + st.stx_btime.tv_nsec;
  s.mode = st.stx_mode;
  s.uid = st.stx_uid;
  s.gid = st.stx_gid;
  auto xattrs = read_xattrs(path);
  if (!xattrs) return Error{xattrs.error()};
  s.xattrs = std::move(xattrs).value();
  if (S_ISREG(s.mode) || S_ISDIR(s.mode)) {
    auto flags = read_flags(path);
    if (!flags) return Error{flags.error()};
    s.flags = *flags;
  }
  return s;
}

Status restore(const std::string& path, const FileState& state) {
  auto now = snapshot(path);
  if (!now) return Error{now.error()};
  if (!now->same_file(state)) {
    return Error{path + " is another file now (inode " + std::to_string(now->inode) + ", was " +
                 std::to_string(state.inode) + "): not touched"};
  }
  const bool is_link = S_ISLNK(state.mode);
  // Immutable or append-only refuse chown, chmod and xattr changes (even when the record has them
  // too): lifted first, set again last.
  constexpr std::uint32_t kLocked = FS_IMMUTABLE_FL | FS_APPEND_FL;
  if (now->flags && (*now->flags & kLocked) != 0) {
    if (auto s = write_flags(path, *now->flags & ~kLocked); !s) return s;
  }
  // chown clears set-id bits and security.capability: it goes before chmod and the xattrs.
  if (now->uid != state.uid || now->gid != state.gid) {
    if (::lchown(path.c_str(), state.uid, state.gid) != 0) return Error{why("cannot chown", path)};
  }
  if (!is_link && ::chmod(path.c_str(), state.mode & 07777) != 0) return Error{why("cannot chmod", path)};
  auto xattrs = read_xattrs(path);
  if (!xattrs) return Error{xattrs.error()};
  for (const auto& [name, value] : *xattrs) {
    if (state.xattrs.contains(name)) continue;
    if (::lremovexattr(path.c_str(), name.c_str()) != 0 && errno != ENODATA) {
      return Error{why("cannot remove extended attribute " + name + " of", path)};
    }
  }
  // Written even when they read equal: chmod above rewrote the ACL's mask from the mode bits, and
  // the recorded bytes are the exact way back.
  for (const auto& [name, value] : state.xattrs) {
    if (::lsetxattr(path.c_str(), name.c_str(), value.data(), value.size(), 0) != 0) {
      const auto it = xattrs->find(name);
      if (it != xattrs->end() && it->second == value) continue;  // e.g. a label it may not rewrite
      return Error{why("cannot set extended attribute " + name + " of", path)};
    }
  }
  if (state.flags) {
    auto flags = read_flags(path);
    if (!flags) return Error{flags.error()};
    if (*flags != state.flags) {
      if (auto s = write_flags(path, *state.flags); !s) return s;
    }
  }
  return ok_status();
}

std::string compare(const FileState& before, const FileState& after) {
  std::string out;
  auto add = [&](const std::string& line) { out += (out.empty() ? "" : "; ") + line; };
  if (!before.same_file(after)) {
    add("inode " + std::to_string(before.device) + ":" + std::to_string(before.inode) + " -> " +
        std::to_string(after.device) + ":" + std::to_string(after.inode));
  }
  if (before.mode != after.mode) add("mode " + octal(before.mode) + " -> " + octal(after.mode));
  if (before.uid != after.uid) add("owner " + std::to_string(before.uid) + " -> " + std::to_string(after.uid));
  if (before.gid != after.gid) add("group " + std::to_string(before.gid) + " -> " + std::to_string(after.gid));
  for (const auto& [name, value] : before.xattrs) {
    const auto it = after.xattrs.find(name);
    if (it == after.xattrs.end()) add("xattr " + name + " removed");
    else if (it->second != value)
      add("xattr " + name + " changed (" + std::to_string(value.size()) + " -> " + std::to_string(it->second.size()) +
          " bytes)");
  }
  for (const auto& [name, value] : after.xattrs) {
    if (!before.xattrs.contains(name)) add("xattr " + name + " added");
  }
  if (before.flags != after.flags) {
    auto text = [](const std::optional<std::uint32_t>& f) { return f ? std::to_string(*f) : std::string("none"); };
    add("inode flags " + text(before.flags) + " -> " + text(after.flags));
  }
  return out;
}

}  // namespace chaosplus::faults
