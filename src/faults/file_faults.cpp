// The file fault family: `disk_fill` fills the file system holding a folder until a given free
// space is left (faults/disk_fill.h); `revoke` takes read, write or execute away from a file or
// folder; `credential` hides a file or replaces its content (faults/access_faults.h). Each reads
// the state it changes before the runner writes its record (the space before, the exact mode,
// owner, ACLs, xattrs and inode flags: faults/file_state.h), so revert and `recover` put it back
// from the record alone. The checks here run at load time too: a path that does not exist, a fill
// bigger than the file system, an unknown access letter are `validate` errors with their line.
#include <pwd.h>
#include <sys/stat.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>

#include "faults/access_faults.h"
#include "faults/disk_fill.h"
#include "faults/registry.h"
#include "faults/target_handle.h"

namespace chaosplus::faults {
namespace {

constexpr std::string_view kFillKind = "file.disk_fill";
constexpr std::string_view kRevokeKind = "file.revoke";
constexpr std::string_view kCredentialKind = "file.credential";

constexpr std::array<std::string_view, 4> kWho{"user", "group", "other", "all"};
constexpr std::array<std::string_view, 2> kActions{"hide", "replace"};

// clang-format off
constexpr std::array<spec::FaultParam, 5> kFillParams{{
    {"path", spec::ParamKind::text, "", true, {},
     "an existing folder: its file system is filled, by files in a folder the fault makes under it"},
    {"leave_free", spec::ParamKind::byte_size, "", false, {},
     "fill until this much is free (as df shows it: what a user may still write)"},
    {"leave_share", spec::ParamKind::share, "", false, {},
     "fill until this share of the file system's size is free, instead"},
    {"fill", spec::ParamKind::byte_size, "", false, {},
     "fill this much of the free space, instead"},
    {"root_floor", spec::ParamKind::byte_size, "", false, {},
     "the free space never gone below on the root file system; default max(1GiB, 5%), at least 256MiB"},
}};
constexpr std::array<spec::FaultParam, 7> kRevokeParams{{
    {"path", spec::ParamKind::text, "", true, {}, "an existing file or folder (absolute path)"},
    {"access", spec::ParamKind::text, "all", false, {},
     "what is taken away: read, write, execute, all, or a list (read,write) or letters (rw)"},
    {"who", spec::ParamKind::choice, "all", false, kWho,
     "from whom: the owner (user), the group (and the ACL mask), others, or all"},
    {"immutable", spec::ParamKind::text, "false", false, {},
     "also set the immutable flag (chattr +i): not even root may write, rename or remove it"},
    {"owner", spec::ParamKind::text, "", false, {}, "also give the file to this user, such as nobody"},
    {"recursive", spec::ParamKind::text, "false", false, {},
     "on a folder: every entry under it as well (symbolic links are skipped)"},
    {"max_entries", spec::ParamKind::text, "", false, {},
     "with recursive: refuse a folder with more entries than this (each is recorded); default 1000"},
}};
constexpr std::array<spec::FaultParam, 3> kCredentialParams{{
    {"path", spec::ParamKind::text, "", true, {}, "an existing regular file (absolute path): a token, a key"},
    {"action", spec::ParamKind::choice, "hide", false, kActions,
     "hide: the path is missing; replace: other content at the path, same mode and owner"},
    {"content", spec::ParamKind::text, "", false, {},
     "with replace: the content put there; default random bytes of the file's size"},
}};
// clang-format on

const spec::FaultType& fill_type();
const spec::FaultType& revoke_type();
const spec::FaultType& credential_type();

std::string mib(std::uint64_t bytes) { return std::to_string((bytes + kMiB / 2) / kMiB) + "MiB"; }

// The path must exist (and be absolute); the problem names the parameter.
bool existing(const std::string& path, std::vector<spec::ParamProblem>& problems, struct stat& st) {
  if (path.empty() || path.front() != '/') {
    problems.push_back({"path", "found '" + path + "', expected an absolute path (starting with /)"});
    return false;
  }
  if (::lstat(path.c_str(), &st) != 0) {
    problems.push_back({"path", "found '" + path + "', which does not exist here: " + std::strerror(errno)});
    return false;
  }
  return true;
}

Result<FillGoal> read_fill(const spec::Fault& fault, std::vector<spec::ParamProblem>& problems) {
  auto p = spec::FaultParams::read(fill_type(), fault);
  if (!p) return Error{p.error()};
  FillGoal goal;
  int given = 0;
  for (const char* name : {"leave_free", "leave_share", "fill"}) given += p->given(name) ? 1 : 0;
  if (given != 1) {
    problems.push_back({given == 0 ? "path" : (p->given("fill") ? "fill" : "leave_share"),
                        given == 0 ? "expected how much to leave: leave_free, leave_share or fill"
                                   : "give one of leave_free, leave_share and fill, not several"});
  }
  if (p->given("leave_free")) goal.leave_free = p->bytes("leave_free");
  if (p->given("leave_share")) {
    goal.leave_share = p->share("leave_share");
    if (goal.leave_share >= 1) problems.push_back({"leave_share", "expected less than 100%: 100% free is no fill"});
  }
  if (p->given("fill")) {
    goal.fill = p->bytes("fill");
    if (goal.fill == 0) problems.push_back({"fill", "found 0, expected a size to fill"});
  }
  if (p->given("root_floor")) {
    goal.root_floor = p->bytes("root_floor");
    if (goal.root_floor < kRootAbsoluteFloor) {
      problems.push_back({"root_floor", "found " + mib(goal.root_floor) + ", expected at least " +
                                            mib(kRootAbsoluteFloor) + " (the absolute floor of the root file system)"});
    }
  }
  struct stat st {};
  const std::string& path = p->text("path");
  if (!existing(path, problems, st)) return goal;
  if (!S_ISDIR(st.st_mode)) {
    problems.push_back({"path", "found '" + path + "', a file: expected a folder, where the fill's folder is made"});
    return goal;
  }
  auto fs = fs_space(path);
  if (!fs) {
    problems.push_back({"path", fs.error()});
    return goal;
  }
  if (p->given("leave_free") && goal.leave_free >= fs->size) {
    problems.push_back({"leave_free", "found " + mib(goal.leave_free) + ", more than the whole file system of " + path +
                                          " (" + mib(fs->size) + ")"});
  } else if (p->given("fill") && goal.fill > fs->free) {
    problems.push_back({"fill", "found " + mib(goal.fill) + ", more than the " + mib(fs->free) + " free on " + path});
  } else if (given == 1 && on_root_fs(path)) {
    const std::uint64_t floor = root_floor(*fs, goal.root_floor);
    if (goal.leave(*fs) < floor) {
      problems.push_back({p->given("leave_free") ? "leave_free" : (p->given("fill") ? "fill" : "leave_share"),
                          "would leave " + mib(goal.leave(*fs)) + " free on the root file system (" + path +
                              "), below its safety floor of " + mib(floor)});
    }
  }
  return goal;
}

std::optional<std::size_t> count(const std::string& text) {
  std::size_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || n == 0) return std::nullopt;
  return n;
}

Result<RevokeGoal> read_revoke(const spec::Fault& fault, std::vector<spec::ParamProblem>& problems) {
  auto p = spec::FaultParams::read(revoke_type(), fault);
  if (!p) return Error{p.error()};
  RevokeGoal goal;
  if (auto bits = parse_access(p->text("access")); !bits) problems.push_back({"access", bits.error()});
  else goal.access = *bits;
  if (goal.access == 0) problems.push_back({"access", "expected at least one of read, write, execute"});
  goal.who = p->text("who");
  for (const char* flag : {"immutable", "recursive"}) {
    const std::string& v = p->text(flag);
    if (v != "true" && v != "false") problems.push_back({flag, "found '" + v + "', expected true or false"});
  }
  goal.immutable = p->text("immutable") == "true";
  goal.recursive = p->text("recursive") == "true";
  if (p->given("max_entries")) {
    if (auto n = count(p->text("max_entries"))) goal.max_entries = *n;
    else problems.push_back({"max_entries", "found '" + p->text("max_entries") + "', expected a number from 1"});
    if (!goal.recursive) problems.push_back({"max_entries", "only with recursive: true"});
  }
  if (p->given("owner")) {
    const std::string& name = p->text("owner");
    if (const passwd* pw = ::getpwnam(name.c_str())) goal.owner = pw->pw_uid;
    else problems.push_back({"owner", "found '" + name + "', which is no user here"});
  }
  struct stat st {};
  if (existing(p->text("path"), problems, st) && goal.recursive && !S_ISDIR(st.st_mode)) {
    problems.push_back({"recursive", "'" + p->text("path") + "' is a file: recursive is for a folder"});
  }
  return goal;
}

struct CredentialGoal {
  std::string path;
  std::string action;
  std::optional<std::string> content;
};

Result<CredentialGoal> read_credential(const spec::Fault& fault, std::vector<spec::ParamProblem>& problems) {
  auto p = spec::FaultParams::read(credential_type(), fault);
  if (!p) return Error{p.error()};
  CredentialGoal goal{p->text("path"), p->text("action"), std::nullopt};
  if (p->given("content")) {
    goal.content = p->text("content");
    if (goal.action != "replace") problems.push_back({"content", "only with action: replace"});
  }
  struct stat st {};
  if (existing(goal.path, problems, st) && !S_ISREG(st.st_mode)) {
    problems.push_back({"path", "found '" + goal.path + "', which is not a regular file"});
  }
  return goal;
}

template <typename Goal>
std::vector<spec::ParamProblem> check_with(Result<Goal> (*read)(const spec::Fault&, std::vector<spec::ParamProblem>&),
                                           const spec::Fault& fault) {
  std::vector<spec::ParamProblem> problems;
  if (auto g = read(fault, problems); !g) problems.push_back({"", g.error()});
  return problems;
}

std::vector<spec::ParamProblem> check_fill(const spec::Fault& f) { return check_with(read_fill, f); }
std::vector<spec::ParamProblem> check_revoke(const spec::Fault& f) { return check_with(read_revoke, f); }
std::vector<spec::ParamProblem> check_credential(const spec::Fault& f) { return check_with(read_credential, f); }

const spec::FaultType& fill_type() {
  static const spec::FaultType kType{"disk_fill",
                                     spec::Capability::any,
                                     kFillParams,
                                     "fill the file system holding a folder until a given free space is left; "
                                     "the files it made are removed",
                                     false,
                                     check_fill};
  return kType;
}
const spec::FaultType& revoke_type() {
  static const spec::FaultType kType{"revoke",
                                     spec::Capability::any,
                                     kRevokeParams,
                                     "take read, write or execute away from a file or folder; mode, owner, ACLs, "
                                     "xattrs and inode flags are put back byte for byte",
                                     false,
                                     check_revoke};
  return kType;
}
const spec::FaultType& credential_type() {
  static const spec::FaultType kType{"credential",
                                     spec::Capability::any,
                                     kCredentialParams,
                                     "hide a file (a token, a key) or replace its content; the original inode "
                                     "waits aside and comes back",
                                     false,
                                     check_credential};
  return kType;
}

const std::array<spec::FaultType, 3>& types() {
  static const std::array<spec::FaultType, 3> kTypes{{fill_type(), revoke_type(), credential_type()}};
  return kTypes;
}

constexpr std::array<std::string_view, 3> kKinds{kFillKind, kRevokeKind, kCredentialKind};

template <typename Goal>
Result<Goal> read_checked(Result<Goal> (*read)(const spec::Fault&, std::vector<spec::ParamProblem>&),
                          const spec::Fault& fault) {
  std::vector<spec::ParamProblem> problems;
  auto goal = read(fault, problems);
  if (!goal) return Error{goal.error()};
  if (!problems.empty()) {
    return Error{"fault '" + fault.type + "': " + problems.front().param + ": " + problems.front().message};
  }
  return goal;
}

Result<std::unique_ptr<Fault>> make(const spec::Fault& fault, TargetHandle& target) {
  const std::string& path = fault.params.at("path");
  if (fault.type == "disk_fill") {
    auto goal = read_checked(read_fill, fault);
    if (!goal) return Error{goal.error()};
    return make_disk_fill(target.name(), path, *goal);
  }
  if (fault.type == "revoke") {
    auto goal = read_checked(read_revoke, fault);
    if (!goal) return Error{goal.error()};
    return make_revoke(target.name(), path, *goal);
  }
  auto goal = read_checked(read_credential, fault);
  if (!goal) return Error{goal.error()};
  return make_credential(target.name(), goal->path, goal->action, goal->content);
}

Status undo(std::string_view kind, std::string_view record) {
  if (kind == kFillKind) return undo_disk_fill(record);
  if (kind == kRevokeKind) return undo_revoke(record);
  return undo_credential(record);
}

}  // namespace

FaultFamily file_fault_family() { return {"file", types(), kKinds, make, undo}; }

}  // namespace chaosplus::faults
