#pragma once
// Reading a process's mount table and taking an I/O fault's FUSE mount off in another process's
// mount namespace, which the runner does at revert and `chaosplus recover` does from a ledger
// record alone.
#include <string>
#include <vector>

#include "core/result.h"

namespace chaosplus::iofs {

struct MountEntry {
  std::string mount_point;  // unescaped (\040 -> ' ')
  std::string fstype;       // "fuse.chaosplus-iofs", "ext4", ...
};

// The mounts of /proc/PID/mountinfo (pid 0: our own), in the file's order: of several mounts on
// one point, the last is the one on top. Empty when it cannot be read (the process is gone).
std::vector<MountEntry> read_mounts(int pid);

// The raw text of /proc/PID/mountinfo, for exact comparisons; "" when unreadable.
std::string mountinfo_text(int pid);

// Whether the mount on top of `mount_point` in the mount table of `pid` is an I/O fault's.
bool iofs_on_top(int pid, const std::string& mount_point);

// The inode of /proc/PID/ns/mnt (which mount namespace it is in); 0 when unreadable.
unsigned long long mount_namespace(int pid);

// Detaches (umount2 MNT_DETACH) the I/O fault's mount on top of `mount_point` in the mount
// namespace `pid` is in, through a child that joins it (a process with threads cannot). Does
// nothing when the mount on top there is not an I/O fault's.
Status unmount_iofs(int pid, const std::string& mount_point);

}  // namespace chaosplus::iofs
