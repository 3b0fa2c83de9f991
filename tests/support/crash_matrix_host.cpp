#include "support/crash_matrix_host.h"

#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "dns/rules.h"
#include "faults/system_tool.h"
#include "iofs/mounts.h"
#include "iofs/passthrough.h"

namespace chaosplus::testing {

namespace fs = std::filesystem;

namespace {

std::string run_or_throw(const std::vector<std::string>& argv, std::string_view input = {}) {
  auto out = faults::run_tool_checked(argv, input);
  if (!out) throw std::runtime_error(out.error());
  return *out;
}

// The line of `user` in /etc/shadow, without its newline; "" when it has none.
std::string shadow_line(const std::string& user) {
  for (const auto& line : read_lines("/etc/shadow")) {
    if (line.starts_with(user + ":")) return line;
  }
  return "";
}

std::uint64_t free_bytes(const std::string& path) {
  struct statvfs st {};
  if (::statvfs(path.c_str(), &st) != 0) return 0;
  return static_cast<std::uint64_t>(st.f_bavail) * st.f_frsize;
}

faults::FileState snapshot_or_throw(const std::string& path) {
  auto s = faults::snapshot(path);
  if (!s) throw std::runtime_error("cannot snapshot " + path + ": " + s.error());
  return *s;
}

std::string trimmed(std::string s) {
  s.erase(s.find_last_not_of(" \n") + 1);
  return s;
}

// FS_IMMUTABLE_FL and FS_APPEND_FL of <linux/fs.h>, which does not go with <sys/mount.h>.
constexpr std::uint32_t kImmutable = 0x10;
constexpr std::uint32_t kAppend = 0x20;

// The I/O faults' FUSE mounts in our own mount table (the started target's namespace is a slave
// of the host's: a mount left there on a path of ours would not show here, its daemon would, as a
// descendant; one left in ours is what would hide the folder from everyone).
std::vector<std::string> iofs_mounts() {
  std::vector<std::string> out;
  for (const auto& m : iofs::read_mounts(0)) {
    if (m.fstype == iofs::kFsType) out.push_back(m.mount_point);
  }
  return out;
}

}  // namespace

// --- once per matrix -------------------------------------------------------------------------

HostOnce::HostOnce() : user_("cpx-cm-" + std::to_string(::getpid())) { make(); }

HostOnce::~HostOnce() { (void)faults::run_tool({"userdel", "-f", user_}); }

void HostOnce::make() {
  if (!shadow_line(user_).empty()) (void)faults::run_tool({"userdel", "-f", user_});
  run_or_throw({"useradd", "-M", "-s", "/bin/sh", user_});
  run_or_throw({"chpasswd"}, user_ + ":Matrix-" + user_ + "-42\n");
  shadow_ = shadow_line(user_);
  if (shadow_.empty()) throw std::runtime_error("useradd " + user_ + " made no /etc/shadow line");
}

std::string HostOnce::shadow_now() const { return shadow_line(user_); }

void HostOnce::remake() {
  (void)faults::run_tool({"userdel", "-f", user_});
  make();
}

// --- per point -------------------------------------------------------------------------------

HostPoint::HostPoint(const TempDir& dir, HostOnce& once)
    : once_(once),
      mount_(dir.file("fill")),
      revoked_(dir.file("revoked.txt")),
      hidden_dir_(dir.file("credential")),
      hidden_(hidden_dir_ + "/token"),
      hidden_bytes_("matrix-secret-token\n"),
      io_dir_(dir.file("tokens-data")) {
  // Never the root file system: a tmpfs of the point's own, 32 MiB.
  fs::create_directory(mount_);
  if (::mount("tmpfs", mount_.c_str(), "tmpfs", 0, "size=32m,mode=0755") != 0) {
    throw std::runtime_error("cannot mount a tmpfs on " + mount_ + ": " + std::strerror(errno));
  }
  mounted_ = true;
  try {
    make_files();
  } catch (...) {
    ::umount2(mount_.c_str(), MNT_DETACH);  // no destructor runs for a constructor that throws
    throw;
  }
}

void HostPoint::make_files() {
  free_before_ = free_bytes(mount_);

  // The file to revoke: a mode, an ACL entry and an xattr of its own, all of which must come back.
  write_file(revoked_, "matrix revoke\n");
  ::chmod(revoked_.c_str(), 0640);
  run_or_throw({"setfacl", "-m", "u:nobody:r", revoked_});
  run_or_throw({"setfattr", "-n", "user.matrix", "-v", "kept", revoked_});
  revoked_state_ = snapshot_or_throw(revoked_);

  fs::create_directory(hidden_dir_);
  write_file(hidden_, hidden_bytes_);
  ::chmod(hidden_.c_str(), 0600);
  hidden_state_ = snapshot_or_throw(hidden_);

  fs::create_directory(io_dir_);
  write_file(io_dir_ + "/tokens.db", "matrix\n");
}

HostPoint::~HostPoint() {
  // An immutable file left would keep the point's folder from being removed. Only those flags are
  // cleared: ext4 refuses to clear others (its extents flag).
  auto flags = faults::read_flags(revoked_);
  if (flags && flags->has_value() && (**flags & (kImmutable | kAppend)) != 0) {
    (void)faults::write_flags(revoked_, **flags & ~(kImmutable | kAppend));
  }
  if (mounted_) ::umount2(mount_.c_str(), MNT_DETACH);
}

std::string HostPoint::resolve_yaml() const { return std::string("resolve: { ") + kName + ": 127.0.0.1 }"; }

std::string HostPoint::fault_lines(const std::string& host, const std::string& started) const {
  const std::string h = "target: " + host + ", ";
  const std::string s = "target: " + started + ", ";
  // One fault a line, as the phase lists them.
  std::string out;
  out += "      - cpu: { " + h + "cores: 1, load: 20%, for: 400ms }\n";
  out += "      - memory: { " + h + "size: 64MiB, for: 400ms }\n";
  out += "      - disk_fill: { " + h + "path: \"" + mount_ + "\", leave_free: 8MiB }\n";
  out += "      - revoke: { " + h + "path: \"" + revoked_ + "\", access: read, immutable: true }\n";
  out += "      - credential: { " + h + "path: \"" + hidden_ + "\", action: hide }\n";
  out += "      - lock_account: { " + h + "user: " + once_.user() + ", expire: true }\n";
  out += "      - clock: { " + s + "offset: +1h }\n";
  out += "      - dns: { " + s + "names: " + kName + ", answer: nxdomain }\n";
  out += "      - io_error: { " + s + "path: \"" + io_dir_ + "\" }\n";
  return out;
}

void HostPoint::check(const std::string& state_dir, std::vector<std::string>& left) const {
  // disk_fill: its folder gone and the space free again.
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(mount_, ec)) {
    left.push_back("disk_fill: left in the filled tmpfs: " + entry.path().string());
  }
  const std::uint64_t free_after = free_bytes(mount_);
  const std::uint64_t gap = free_after > free_before_ ? free_after - free_before_ : free_before_ - free_after;
  if (gap * 100 > free_before_) {
    left.push_back("disk_fill: " + std::to_string(free_after) + " bytes free on " + mount_ + ", " +
                   std::to_string(free_before_) + " before");
  }
  // revoke: the exact state (mode, owner, ACL, xattrs, inode flags) of the same file.
  if (auto now = faults::snapshot(revoked_); !now) {
    left.push_back("revoke: " + revoked_ + ": " + now.error());
  } else if (!now->same_file(revoked_state_)) {
    left.push_back("revoke: " + revoked_ + " is another file now");
  } else if (const std::string diff = faults::compare(revoked_state_, *now); !diff.empty()) {
    left.push_back("revoke: " + revoked_ + " differs: " + diff);
  }
  // credential hide: the same inode back in its place, its bytes and state, and nothing aside.
  if (auto now = faults::snapshot(hidden_); !now) {
    left.push_back("credential: " + hidden_ + ": " + now.error());
  } else if (!now->same_file(hidden_state_)) {
    left.push_back("credential: " + hidden_ + " is another file now");
  } else if (const std::string diff = faults::compare(hidden_state_, *now); !diff.empty()) {
    left.push_back("credential: " + hidden_ + " differs: " + diff);
  } else if (read_file(hidden_) != hidden_bytes_) {
    left.push_back("credential: " + hidden_ + " does not hold its bytes");
  }
  for (const auto& entry : fs::directory_iterator(hidden_dir_, ec)) {
    if (entry.path() != hidden_) left.push_back("credential: left beside the file: " + entry.path().string());
  }
  // lock_account: the shadow line byte for byte.
  if (const std::string now = once_.shadow_now(); now != once_.shadow_before()) {
    left.push_back("lock_account: /etc/shadow line of " + once_.user() + " is '" + now + "', was '" +
                   once_.shadow_before() + "'");
  }
  // clock: every setting file of the run's reads the real time (or is gone).
  for (const auto& entry : fs::directory_iterator(state_dir + "/clock", ec)) {
    if (const std::string s = trimmed(read_file(entry.path().string())); s != "+0 x1") {
      left.push_back("clock: " + entry.path().string() + " holds '" + s + "'");
    }
  }
  // dns: no fault's rule left in any resolver's rules file.
  for (const auto& entry : fs::directory_iterator(state_dir + "/dns", ec)) {
    const std::string path = entry.path().string() + "/rules.json";
    if (!fs::exists(path)) continue;
    auto rules = dns::read_rules(path);
    if (!rules) {
      left.push_back("dns: cannot read " + path + ": " + rules.error());
      continue;
    }
    for (const auto& rule : rules->rules) left.push_back("dns: rule " + rule.id + " left in " + path);
  }
  // io_error: no FUSE mount of chaosplus's left (its daemon is a descendant: the matrix counts it).
  for (const auto& m : iofs_mounts()) left.push_back("io_error: fuse mount left on " + m);
}

void HostPoint::clean_up(const std::string& state_dir) {
  (void)state_dir;  // the run's state folder is the point's and goes with it
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(mount_, ec)) fs::remove_all(entry.path(), ec);
  if (auto now = faults::snapshot(revoked_);
      now && now->same_file(revoked_state_) && !faults::compare(revoked_state_, *now).empty()) {
    (void)faults::restore(revoked_, revoked_state_);
  }
  if (once_.shadow_now() != once_.shadow_before()) once_.remake();
  for (const auto& m : iofs_mounts()) ::umount2(m.c_str(), MNT_DETACH);
}

}  // namespace chaosplus::testing
