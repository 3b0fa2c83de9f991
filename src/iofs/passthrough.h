#pragma once
// The FUSE pass-through file system of the I/O faults: mounted over a folder, it serves the files
// that were there before (through a descriptor of the folder opened before the mount, with the
// *at() calls), and fails or holds the calls its rule picks (iofs/rules.h).
//
// Page cache: attributes and names are never cached, and writes are not held back (no writeback
// cache), so every write, fsync and open of the target reaches this file system as a call it can
// fail. Reads served from the page cache would not: when the rule acts on reads, files are opened
// direct_io (no page cache), which the kernel pays for by refusing shared mmap of them (ENODEV);
// otherwise a file's cache is dropped at each open. docs/faults.md says what this means for targets.
#include <functional>
#include <string>

#include "iofs/rules.h"

namespace chaosplus::iofs {

struct ServeOptions {
  int root_fd = -1;        // the folder underneath, opened (O_PATH | O_DIRECTORY) before the mount
  std::string mountpoint;  // the same folder's path, mounted over
  Rule rule;
  // Asked about every 200 ms while serving: false unmounts the file system and ends serving (the
  // runner or the target is gone).
  std::function<bool()> keep_going;
  // Where to write, when serving ends, how many calls the rule picked by operation and file
  // ("calls") and how many of those it failed or held ("faulted"), as JSON; "" = nowhere.
  std::string stats_path;
};

// The file system type as /proc/PID/mountinfo shows it ("fuse." + subtype).
inline constexpr const char* kFsType = "fuse.chaosplus-iofs";

// Mounts over options.mountpoint and serves (several threads) until unmounted (umount, the watch
// above) or SIGTERM/SIGINT/SIGHUP. Returns 0 after a clean end; errors are printed on stderr.
int serve(const ServeOptions& options);

}  // namespace chaosplus::iofs
