#pragma once
// revoke: takes read, write or execute away from a file or folder (its mode bits, optionally its
// owner and the immutable flag); credential: hides a file (a token, a key) or replaces its content,
// keeping the original inode aside on the same file system. Both record the exact state of what
// they touch (faults/file_state.h) before anything changes, and put it back from the record alone.
#include <cstddef>
#include <memory>
#include <optional>
#include <string>

#include "core/result.h"
#include "faults/fault.h"

namespace chaosplus::faults {

struct RevokeGoal {
  unsigned access = 07;     // r=4, w=2, x=1
  std::string who = "all";  // user, group, other, all
  bool immutable = false;
  std::optional<unsigned> owner;  // uid to give the file
  bool recursive = false;
  std::size_t max_entries = 1000;
};

// "all", "read,write", "rw", "x" -> bits (r=4, w=2, x=1); an error names what it did not know.
Result<unsigned> parse_access(const std::string& text);

Result<std::unique_ptr<Fault>> make_revoke(const std::string& target, const std::string& path, const RevokeGoal& goal);
Status undo_revoke(std::string_view record);

// action "hide" or "replace"; content nullopt: random bytes of the file's size.
Result<std::unique_ptr<Fault>> make_credential(const std::string& target, const std::string& path,
                                               const std::string& action, std::optional<std::string> content);
Status undo_credential(std::string_view record);

// The biggest file `replace` fills with random bytes.
constexpr std::size_t kMaxRandomReplacement = 64 * 1024 * 1024;

}  // namespace chaosplus::faults
