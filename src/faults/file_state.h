#pragma once
// The exact access state of one file or folder: mode, owner and group, every extended attribute as
// raw bytes (the POSIX ACLs are system.posix_acl_access and system.posix_acl_default, so they come
// back byte for byte too) and the inode flags (FS_IOC_GETFLAGS: immutable, append-only, ...). The
// revoke and credential faults take one before anything changes, keep it in their ledger record and
// put it back from there; compare() says what differs, for the revert's check and for tests.
#include <sys/types.h>

#include <cstdint>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>

#include "core/result.h"

namespace chaosplus::faults {

struct FileState {
  std::uint64_t device = 0;
  std::uint64_t inode = 0;
  // statx's birth time (0: the file system does not keep one): an inode number is reused at once
  // after a file is removed, the birth time of the new file differs.
  std::int64_t birth_ns = 0;
  std::uint32_t mode = 0;  // st_mode: type and permission bits
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
  std::map<std::string, std::string> xattrs;  // name -> raw value
  std::optional<std::uint32_t> flags;         // nullopt: the file system has no inode flags

  bool is_directory() const;
  bool same_file(const FileState& other) const;  // device, inode and birth time
  nlohmann::json to_json() const;                // xattr values in hex
  static Result<FileState> from_json(const nlohmann::json& j);
};

// The state of `path` itself (a symbolic link is not followed: it has no mode of its own to take).
Result<FileState> snapshot(const std::string& path);

// Puts `state` back on `path`: flags cleared first (an immutable file refuses every other change),
// owner, mode, every xattr (removing those added since, rewriting the ACLs after chmod, which
// changed their mask), then the flags. `path` must still be the same inode; the caller checks.
Status restore(const std::string& path, const FileState& state);

// "" when equal; else one line per difference, e.g. "mode 0600 -> 0000; xattr user.tag removed".
std::string compare(const FileState& before, const FileState& after);

// FS_IOC_GETFLAGS / FS_IOC_SETFLAGS on `path` (opened without following a link).
Result<std::optional<std::uint32_t>> read_flags(const std::string& path);
Status write_flags(const std::string& path, std::uint32_t flags);

}  // namespace chaosplus::faults
