#pragma once
// What a killed run may have left on the system, read from /proc and the kernel: the processes
// below this one (orphans come here when this process is their subreaper), listening TCP ports,
// and chaosplus's nft tables. For the crash matrix (crash_matrix.h).
#include <sys/types.h>

#include <optional>
#include <set>
#include <string>
#include <vector>

namespace chaosplus::testing {

struct ProcInfo {
  pid_t pid = 0;
  pid_t ppid = 0;
  char state = 0;    // as in /proc/<pid>/stat: 'R', 'S', 'T', 'Z', ...
  std::string comm;  // the kernel's name of the process
};

std::optional<ProcInfo> read_proc(pid_t pid);
// Its arguments joined by spaces (cut at 160 characters), "" if it is gone.
std::string command_line(pid_t pid);

// Every live process below this one, except the subtrees of `keep`; zombies among our own
// children are reaped on the way.
std::vector<ProcInfo> descendants(const std::set<pid_t>& keep);
// SIGKILLs every descendant but `keep`'s and reaps them (within 10 s).
void kill_descendants(const std::set<pid_t>& keep);

// Ports with a listening TCP socket (IPv4 and IPv6) in this network namespace.
std::set<int> listening_ports();
// The inet tables of this namespace whose name starts with "chaosplus".
std::set<std::string> chaosplus_tables();

}  // namespace chaosplus::testing
