#pragma once
// Identity, liveness, signals and stopping of local processes, safe against pid reuse: a process is
// named by its pid plus its start time, and nothing is signalled unless both still match.
#include <chrono>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/units.h"

namespace chaosplus::targets {

// Identity of a process that survives pid reuse: pid plus its start time (field 22 of
// /proc/<pid>/stat, clock ticks since boot).
struct ProcessId {
  int pid = 0;
  unsigned long long start_time = 0;
  friend bool operator==(const ProcessId&, const ProcessId&) = default;
};

// Start time of `pid`; an error if there is no such process.
Result<unsigned long long> process_start_time(int pid);

// Identity of a running pid (its current start time).
Result<ProcessId> identify(int pid);

// 'R', 'S', 'T', 'Z', ... from /proc/<pid>/stat, or 0 if there is no such process.
char process_state(int pid);

// The kernel's name of the process (comm, at most 15 characters), "" if there is no such process.
std::string process_name(int pid);

// "pid 123 (demo-shop-api)", for messages.
std::string describe(const ProcessId& id);

// Exists, has the same start time, and is not a zombie. A zombie that is our own child (one we
// spawned) is reaped here, so a killed child does not linger; other processes' children are not touched.
bool is_alive(const ProcessId& id);

// Pids of the live (non-zombie) members of process group `pgid`, from /proc.
std::vector<int> group_members(int pgid);

enum class SignalScope {
  group,    // its process group if it leads one (every process we spawn does), else just the process
  process,  // just the process
};

// Sends `signal` (0 only checks) if the identity still matches; an error says "gone" or "pid reused".
Status send_signal(const ProcessId& id, int signal, SignalScope scope = SignalScope::group);

// SIGTERM (and SIGCONT, so a stopped process can act on it) to the process group if it leads one,
// waits up to `grace`, then SIGKILL; verifies that the process and the rest of its group are gone.
// Ok if it was already gone; never signals a pid whose start time differs. Works for our children
// (reaps them) and for processes we did not start.
Status stop(const ProcessId& id, Duration grace = std::chrono::seconds(3));

// stop(), and when the process itself is already gone but members of the process group it led are
// left (a shell killed while its children run), SIGKILLs them and waits until they are gone. Their
// group id cannot have been reused while they exist, so they are what the process started. For
// processes chaosplus started through the gate (each leads its own group).
Status stop_group(const ProcessId& leader, Duration grace = std::chrono::seconds(3));

}  // namespace chaosplus::targets
