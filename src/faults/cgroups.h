#pragma once
// Finding and changing the control groups a process is in, for cgroup v1 (one hierarchy per
// controller, /sys/fs/cgroup/memory, ...) and v2 (one unified hierarchy, /sys/fs/cgroup on most
// hosts). Which one holds a controller is read from the mount table and the process's
// /proc/PID/cgroup, never assumed: a host may mount both (v1 hierarchies with an empty v2 beside
// them), and a controller lives in v2 only when it is bound there (listed in its cgroup.controllers).
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace chaosplus::faults::cgroups {

enum class Version { v1, v2 };

struct Place {
  Version version = Version::v2;
  std::string mount;  // where the hierarchy is mounted: "/sys/fs/cgroup/memory", "/sys/fs/cgroup"
  std::string path;   // the group inside it, as /proc/PID/cgroup says: "/", "/system.slice/x.service"
  std::string dir() const { return path == "/" ? mount : mount + path; }
  bool root() const { return path == "/"; }
  friend bool operator==(const Place&, const Place&) = default;
};

std::string_view version_name(Version v);  // "v1", "v2"

// Where `controller` ("memory", "cpu", "cpuset") of a process is, from the texts of its
// /proc/PID/cgroup and of /proc/self/mountinfo; `v2_controllers` reads the cgroup.controllers file
// at the root of a v2 mount. A v1 hierarchy that has the controller wins (the kernel binds a
// controller to one hierarchy at a time). An error says what was missing.
Result<Place> locate(std::string_view controller, std::string_view proc_cgroup, std::string_view mountinfo,
                     const std::function<std::string(const std::string& v2_mount)>& v2_controllers);

// locate() on this host for a live process.
Result<Place> of_process(int pid, std::string_view controller);

// A control file's value without its trailing newline; an error names the file.
Result<std::string> read_value(const std::string& dir, const std::string& file);
// Writes a control file (one write(2), as the kernel wants); an error names the file and value.
Status write_value(const std::string& dir, const std::string& file, const std::string& value);
bool has_file(const std::string& dir, const std::string& file);

// Moves a process (all its threads) into the group at `dir` (its cgroup.procs).
Status add_process(const std::string& dir, int pid);
// The pids in the group at `dir` (its cgroup.procs); empty when it cannot be read.
std::vector<int> processes(const std::string& dir);

}  // namespace chaosplus::faults::cgroups
