#include "faults/access_faults.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>
#include <vector>

#include "faults/file_pages.h"
#include "faults/file_state.h"

namespace chaosplus::faults {
namespace {

namespace fs = std::filesystem;

std::string unique_suffix() {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  return std::to_string(::getpid()) + "-" +
         std::to_string(std::chrono::duration_cast<std::chrono::nanoseconds>(now).count());
}

unsigned revoked_bits(const RevokeGoal& goal) {
  unsigned bits = 0;
  if (goal.who == "user" || goal.who == "all") bits |= goal.access << 6;
  if (goal.who == "group" || goal.who == "all") bits |= goal.access << 3;
  if (goal.who == "other" || goal.who == "all") bits |= goal.access;
  return bits;
}

std::string access_text(unsigned access) {
  std::string out;
  out += (access & 4) ? 'r' : '-';
  out += (access & 2) ? 'w' : '-';
  out += (access & 1) ? 'x' : '-';
  return out;
}

struct Entry {
  std::string path;
  FileState state;
};

// Puts each entry back and compares it with its record; a file that is gone or another inode now
// was replaced by its owner and is left alone (counted in `replaced`).
Status restore_entries(const std::vector<Entry>& entries, int& replaced) {
  std::string problems;
  replaced = 0;
  for (const Entry& e : entries) {
    auto now = snapshot(e.path);
    if (!now || !now->same_file(e.state)) {
      ++replaced;
      continue;
    }
    if (auto s = restore(e.path, e.state); !s) {
      problems += (problems.empty() ? "" : "; ") + s.error();
      continue;
    }
    auto after = snapshot(e.path);
    if (!after) {
      problems += (problems.empty() ? "" : "; ") + after.error();
    } else if (auto diff = compare(e.state, *after); !diff.empty()) {
      problems += (problems.empty() ? "" : "; ") + e.path + " differs after the restore: " + diff;
    }
  }
  if (!problems.empty()) return Error{problems};
  return ok_status();
}

class Revoke final : public Fault {
 public:
  Revoke(std::string target, std::string path, RevokeGoal goal, std::vector<Entry> entries)
      : target_(std::move(target)), path_(std::move(path)), goal_(std::move(goal)), entries_(std::move(entries)) {}

  std::string kind() const override { return "file.revoke"; }
  std::string summary() const override {
    return "revoke " + access_text(goal_.access) + " from " + goal_.who + " on " + path_ +
           (entries_.size() > 1 ? " and " + std::to_string(entries_.size() - 1) + " entries under it" : "") +
           (goal_.immutable ? ", immutable" : "") + (goal_.owner ? ", owner uid " + std::to_string(*goal_.owner) : "") +
           " for " + target_;
  }
  std::string record() const override {
    nlohmann::json list = nlohmann::json::array();
    for (const Entry& e : entries_) list.push_back({{"path", e.path}, {"state", e.state.to_json()}});
    return nlohmann::json{{"target", target_}, {"path", path_}, {"entries", list}}.dump();
  }
  std::map<std::string, std::int64_t> reach() const override {
    return {{"entries", static_cast<std::int64_t>(entries_.size())}, {"entries_replaced", replaced_}};
  }

  Status inject(HaltSwitch&) override {
    const unsigned clear = revoked_bits(goal_);
    for (const Entry& e : entries_) {
      const std::uint32_t locked = FS_IMMUTABLE_FL | FS_APPEND_FL;
      const std::uint32_t flags = e.state.flags.value_or(0);
      if (flags & locked) {  // an immutable file refuses chmod: unlock it while changing it
        if (auto s = write_flags(e.path, flags & ~locked); !s) return s;
      }
      if (goal_.owner && ::lchown(e.path.c_str(), *goal_.owner, static_cast<gid_t>(-1)) != 0) {
        return Error{"cannot chown " + e.path + ": " + std::strerror(errno)};
      }
      // The mode is the recorded one less the revoked bits; a new owner gets no set-id bits (chown
      // drops them, and giving them back would make the file run as that owner).
      const unsigned setid = goal_.owner ? 06000u : 0u;
      if (::chmod(e.path.c_str(), (e.state.mode & 07777) & ~clear & ~setid) != 0) {
        return Error{"cannot chmod " + e.path + ": " + std::strerror(errno)};
      }
      const std::uint32_t wanted = goal_.immutable ? (flags | FS_IMMUTABLE_FL) : flags;
      if (wanted != (flags & ~locked)) {
        if (auto s = write_flags(e.path, wanted); !s) return s;
      }
    }
    return ok_status();
  }

  Status revert(HaltSwitch&) override { return restore_entries(entries_, replaced_); }

 private:
  std::string target_;
  std::string path_;
  RevokeGoal goal_;
  std::vector<Entry> entries_;
  int replaced_ = 0;
};

// --- credential ---------------------------------------------------------------------------------

struct CredentialRecord {
  std::string target;
  std::string path;
  std::string action;
  std::string folder;  // <dir>/.chaosplus-aside-<pid>-<ns>: original and replacement wait there
  FileState original;
  std::int64_t mtime_ns = 0;
  std::string sha256;
  std::string replacement_sha256;  // set before the replacement is put in place

  std::string aside() const { return folder + "/original"; }
  std::string replacement() const { return folder + "/replacement"; }
  std::string to_json() const {
    return nlohmann::json{{"target", target},
                          {"path", path},
                          {"action", action},
                          {"folder", folder},
                          {"original", original.to_json()},
                          {"mtime_ns", mtime_ns},
                          {"sha256", sha256},
                          {"replacement_sha256", replacement_sha256}}
        .dump();
  }
  static Result<CredentialRecord> from_json(std::string_view text) {
    const auto r = nlohmann::json::parse(text, nullptr, false);
    if (r.is_discarded() || !r.is_object() || !r.contains("original")) {
      return Error{"unreadable ledger record: " + std::string(text)};
    }
    CredentialRecord c;
    c.target = r.value("target", std::string());
    c.path = r.value("path", std::string());
    c.action = r.value("action", std::string());
    c.folder = r.value("folder", std::string());
    c.mtime_ns = r.value("mtime_ns", std::int64_t{0});
    c.sha256 = r.value("sha256", std::string());
    c.replacement_sha256 = r.value("replacement_sha256", std::string());
    auto state = FileState::from_json(r.at("original"));
    if (!state) return Error{state.error()};
    c.original = std::move(state).value();
    if (c.path.empty() || c.folder.find("/.chaosplus-aside-") == std::string::npos) {
      return Error{"the record names no aside folder of chaosplus: " + c.folder};
    }
    return c;
  }
};

std::int64_t mtime_ns(const struct stat& st) {
  return static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
}

// Puts the original back from the record alone: the aside inode returns to its path, our
// replacement goes. A file the owner wrote at the path meanwhile is kept, and so is the original.
Status put_back(const CredentialRecord& c) {
  struct stat st {};
  if (::lstat(c.aside().c_str(), &st) != 0) {
    if (errno != ENOENT) return Error{"cannot stat " + c.aside() + ": " + std::strerror(errno)};
    // Never moved aside (or already back): only our folder may be left.
    ::unlink(c.replacement().c_str());
    ::rmdir(c.folder.c_str());
    if (::lstat(c.path.c_str(), &st) != 0 && errno == ENOENT) {
      std::error_code ec;
      if (fs::exists(c.folder, ec)) return Error{c.path + " is missing and " + c.folder + " is not empty: look there"};
    }
    return ok_status();
  }
  if (st.st_ino != c.original.inode || st.st_dev != c.original.device) {
    return Error{c.aside() + " is not the recorded inode " + std::to_string(c.original.inode) + ": not touched"};
  }
  struct stat at {};
  if (::lstat(c.path.c_str(), &at) == 0) {
    auto hash = S_ISREG(at.st_mode) ? file_sha256(c.path) : Result<std::string>(Error{"not a file"});
    const bool ours = c.action == "replace" && !c.replacement_sha256.empty() && hash && *hash == c.replacement_sha256;
    if (!ours) {
      return Error{c.path + " holds a file written since the fault hid the original: both are kept, the original is " +
                   c.aside() + " (move it back by hand once you know which to keep)"};
    }
    if (::unlink(c.path.c_str()) != 0)
      return Error{"cannot remove the replacement " + c.path + ": " + std::strerror(errno)};
  }
  if (::renameat2(AT_FDCWD, c.aside().c_str(), AT_FDCWD, c.path.c_str(), RENAME_NOREPLACE) != 0) {
    return Error{"cannot move " + c.aside() + " back to " + c.path + ": " + std::strerror(errno)};
  }
  ::unlink(c.replacement().c_str());
  if (::rmdir(c.folder.c_str()) != 0 && errno != ENOENT) {
    return Error{"cannot remove " + c.folder + ": " + std::strerror(errno)};
  }
  auto now = snapshot(c.path);
  if (!now) return Error{now.error()};
  if (auto diff = compare(c.original, *now); !diff.empty()) return Error{c.path + " differs after the revert: " + diff};
  if (::lstat(c.path.c_str(), &st) == 0 && mtime_ns(st) != c.mtime_ns) {
    return Error{c.path + ": modification time differs after the revert"};
  }
  if (auto hash = file_sha256(c.path); !hash || *hash != c.sha256) {
    return Error{c.path + ": content differs after the revert (SHA-256)"};
  }
  return ok_status();
}

// Writes `content` as a new file with the original's mode and owner; returns its SHA-256.
Result<std::string> write_replacement(const std::string& path, const std::string& content, const FileState& like) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return Error{"cannot create " + path + ": " + std::strerror(errno)};
  std::size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      return Error{"cannot write " + path + ": " + std::strerror(errno)};
    }
    done += static_cast<std::size_t>(n);
  }
  const bool ok = ::fchown(fd, like.uid, like.gid) == 0 && ::fchmod(fd, like.mode & 07777) == 0 && ::fsync(fd) == 0;
  const int error = errno;
  ::close(fd);
  if (!ok) return Error{"cannot prepare " + path + ": " + std::strerror(error)};
  return file_sha256(path);
}

class Credential final : public Fault {
 public:
  Credential(CredentialRecord record, std::optional<std::string> content, std::uint64_t size)
      : r_(std::move(record)), content_(std::move(content)), size_(size) {}

  std::string kind() const override { return "file.credential"; }
  std::string summary() const override {
    return (r_.action == "hide" ? "hide " : "replace the content of ") + r_.path + " for " + r_.target +
           " (the original waits in " + r_.folder + ")";
  }
  std::string record() const override { return r_.to_json(); }

  Status inject(HaltSwitch&) override {
    if (::mkdir(r_.folder.c_str(), 0700) != 0) return Error{"cannot make " + r_.folder + ": " + std::strerror(errno)};
    if (r_.action == "replace") {
      std::string bytes;
      if (content_) {
        bytes = *content_;
      } else {
        bytes.resize(size_);
        std::mt19937_64 random{std::random_device{}()};
        for (char& b : bytes) b = static_cast<char>(random() & 0xff);
      }
      auto hash = write_replacement(r_.replacement(), bytes, r_.original);
      if (!hash) return Error{hash.error()};
      r_.replacement_sha256 = *hash;
      if (*hash == r_.sha256) return Error{"the replacement of " + r_.path + " has the same content as the original"};
      if (auto s = record_changed(); !s) return Error{"cannot update the ledger, nothing moved: " + s.error()};
    }
    // The same folder, so the same file system: rename keeps the inode, its content and metadata.
    if (::renameat2(AT_FDCWD, r_.path.c_str(), AT_FDCWD, r_.aside().c_str(), RENAME_NOREPLACE) != 0) {
      return Error{"cannot move " + r_.path + " aside: " + std::strerror(errno)};
    }
    if (r_.action == "replace" &&
        ::renameat2(AT_FDCWD, r_.replacement().c_str(), AT_FDCWD, r_.path.c_str(), RENAME_NOREPLACE) != 0) {
      return Error{"cannot put the replacement at " + r_.path + ": " + std::strerror(errno)};
    }
    return ok_status();
  }

  Status revert(HaltSwitch&) override { return put_back(r_); }

 private:
  CredentialRecord r_;
  std::optional<std::string> content_;
  std::uint64_t size_;
};

}  // namespace

Result<unsigned> parse_access(const std::string& text) {
  if (text == "all") return 07u;
  unsigned bits = 0;
  std::size_t at = 0;
  while (at <= text.size()) {
    const auto comma = text.find(',', at);
    std::string item = text.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
    while (!item.empty() && item.front() == ' ') item.erase(0, 1);
    while (!item.empty() && item.back() == ' ') item.pop_back();
    if (item == "read") bits |= 4;
    else if (item == "write") bits |= 2;
    else if (item == "execute") bits |= 1;
    else if (item == "all") bits |= 7;
    else {
      if (item.empty()) return Error{"found an empty item in '" + text + "', expected read, write, execute or all"};
      for (char c : item) {
        if (c == 'r') bits |= 4;
        else if (c == 'w') bits |= 2;
        else if (c == 'x') bits |= 1;
        else
          return Error{"found '" + std::string(1, c) + "' in '" + text +
                       "', expected read, write, execute, all, or the letters r, w, x"};
      }
    }
    if (comma == std::string::npos) break;
    at = comma + 1;
  }
  return bits;
}

Result<std::unique_ptr<Fault>> make_revoke(const std::string& target, const std::string& path, const RevokeGoal& goal) {
  std::error_code ec;
  const auto real = fs::canonical(path, ec);
  if (ec) return Error{"revoke: " + path + ": " + ec.message()};
  std::vector<Entry> entries;
  auto add = [&](const std::string& p) -> Status {
    if (entries.size() >= goal.max_entries) {
      return Error{"revoke: " + path + " holds more than max_entries (" + std::to_string(goal.max_entries) +
                   ") entries"};
    }
    auto state = snapshot(p);
    if (!state) return Error{state.error()};
    if (goal.immutable && !state->flags)
      return Error{"revoke: " + p + " has no inode flags (file system), so no immutable"};
    entries.push_back({p, std::move(state).value()});
    return ok_status();
  };
  if (auto s = add(real.string()); !s) return Error{s.error()};
  if (goal.recursive && fs::is_directory(real, ec)) {
    for (auto it = fs::recursive_directory_iterator(real, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
      if (it->is_symlink(ec)) continue;  // a link has no mode of its own; its target may be elsewhere
      if (auto s = add(it->path().string()); !s) return Error{s.error()};
    }
    if (ec) return Error{"revoke: cannot walk " + real.string() + ": " + ec.message()};
  }
  return std::unique_ptr<Fault>(std::make_unique<Revoke>(target, real.string(), goal, std::move(entries)));
}

Status undo_revoke(std::string_view record) {
  const auto r = nlohmann::json::parse(record, nullptr, false);
  if (r.is_discarded() || !r.is_object() || !r.contains("entries") || !r["entries"].is_array()) {
    return Error{"unreadable ledger record: " + std::string(record)};
  }
  std::vector<Entry> entries;
  for (const auto& e : r["entries"]) {
    if (!e.is_object() || !e.contains("state")) return Error{"unreadable entry in the record: " + e.dump()};
    auto state = FileState::from_json(e.at("state"));
    if (!state) return Error{state.error()};
    entries.push_back({e.value("path", std::string()), std::move(state).value()});
  }
  int replaced = 0;
  return restore_entries(entries, replaced);
}

Result<std::unique_ptr<Fault>> make_credential(const std::string& target, const std::string& path,
                                               const std::string& action, std::optional<std::string> content) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return Error{"credential: " + path + ": " + std::strerror(errno)};
  if (!S_ISREG(st.st_mode)) return Error{"credential: " + path + " is not a regular file"};
  if (action == "replace" && !content && static_cast<std::size_t>(st.st_size) > kMaxRandomReplacement) {
    return Error{"credential: " + path + " is bigger than 64 MiB: give content to replace it with"};
  }
  CredentialRecord r;
  r.target = target;
  r.path = fs::absolute(path).lexically_normal().string();
  r.action = action;
  r.folder = fs::path(r.path).parent_path().string() + "/.chaosplus-aside-" + unique_suffix();
  auto state = snapshot(r.path);
  if (!state) return Error{state.error()};
  r.original = std::move(state).value();
  r.mtime_ns = mtime_ns(st);
  auto hash = file_sha256(r.path);
  if (!hash) return Error{hash.error()};
  r.sha256 = *hash;
  return std::unique_ptr<Fault>(
      std::make_unique<Credential>(std::move(r), std::move(content), static_cast<std::uint64_t>(st.st_size)));
}

Status undo_credential(std::string_view record) {
  auto r = CredentialRecord::from_json(record);
  if (!r) return Error{r.error()};
  return put_back(*r);
}

}  // namespace chaosplus::faults
