#pragma once
// What an I/O fault's FUSE file system does to the calls it passes through: fail them with an errno
// and/or hold them for a while, for chosen operations, a share of the calls, optionally only for the
// files whose name matches a glob. The fault writes it to a file (JSON) that `chaosplus iofs` reads.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/result.h"
#include "core/units.h"

namespace chaosplus::iofs {

// The operations a rule can act on; the rest pass through untouched.
enum class Op : std::uint32_t {
  open = 1u << 0,  // open and create
  read = 1u << 1,
  write = 1u << 2,
  fsync = 1u << 3,  // fsync and fdatasync
  flush = 1u << 4,  // close
  truncate = 1u << 5,
  unlink = 1u << 6,  // unlink and rmdir
  rename = 1u << 7,
  mkdir = 1u << 8,
  getattr = 1u << 9,  // stat
  readdir = 1u << 10,
  statfs = 1u << 11,
};

std::span<const std::string_view> op_names();  // "open", "read", ... in the order above
std::optional<Op> op_from_name(std::string_view name);

// The error numbers a rule may return, by name ("EIO" -> 5).
std::span<const std::string_view> errno_names();
std::optional<int> errno_from_name(std::string_view name);

struct Rule {
  int error = 0;          // 0 = no error (latency only)
  Duration delay{0};      // held this long before the call goes on (or fails)
  std::uint32_t ops = 0;  // Op bits
  double share = 1.0;     // of the matching calls, 0..1
  std::string files;      // glob on the base name, or on the path under the folder when it has a '/'; "" = all

  bool acts_on(Op op) const { return (ops & static_cast<std::uint32_t>(op)) != 0; }
  // Whether `relative` (a path under the folder, no leading '/'; "" when unknown) is one of its files.
  bool covers(std::string_view relative) const;
};

// "read, write" -> Op bits; the error names the unknown item.
Result<std::uint32_t> parse_ops(std::string_view list);

std::string to_json(const Rule& rule);
Result<Rule> rule_from_json(std::string_view text);

}  // namespace chaosplus::iofs
