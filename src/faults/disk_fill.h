#pragma once
// disk_fill: fills the file system holding a folder with fallocate'd files (written with zeros
// where fallocate is not supported) in a folder of its own under it, until a given free space is
// left. The ledger record names the folder, and each file before it is made; revert and undo remove
// exactly those, then check that the free space came back.
#include <cstdint>
#include <memory>
#include <string>

#include "core/result.h"
#include "faults/fault.h"

namespace chaosplus::faults {

// What `df` counts: the space an unprivileged writer can still use (f_bavail), and the size.
struct FsSpace {
  std::uint64_t device = 0;
  std::uint64_t size = 0;
  std::uint64_t free = 0;
  std::uint64_t block = 0;
};
Result<FsSpace> fs_space(const std::string& path);

// Whether `path` is on the file system that holds "/".
bool on_root_fs(const std::string& path);

constexpr std::uint64_t kMiB = 1024 * 1024;
constexpr std::uint64_t kGiB = 1024 * kMiB;
// The root file system is never filled below max(1 GiB, 5 % of it), unless root_floor lowers it,
// and never below 256 MiB.
constexpr std::uint64_t kRootFloor = kGiB;
constexpr double kRootFloorShare = 0.05;
constexpr std::uint64_t kRootAbsoluteFloor = 256 * kMiB;
std::uint64_t root_floor(const FsSpace& fs, std::uint64_t given);  // given 0: the default

// How much free space the fault leaves: exactly one of leave_free, leave_share (of the size) or
// fill (that much less than free now).
struct FillGoal {
  std::uint64_t leave_free = 0;
  double leave_share = -1;  // < 0: not given
  std::uint64_t fill = 0;
  std::uint64_t root_floor = 0;  // 0: the default
  std::uint64_t leave(const FsSpace& fs) const;
};

// The fill's own folder under `folder` ("chaosplus-fill-<pid>-<ns>"), and the fault. The checks
// against the file system (safety floor) are made here too, with the space as it is now.
Result<std::unique_ptr<Fault>> make_disk_fill(const std::string& target, const std::string& folder,
                                              const FillGoal& goal);
Status undo_disk_fill(std::string_view record);

}  // namespace chaosplus::faults
