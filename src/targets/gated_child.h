#pragma once
// The one way chaosplus starts a process (targets, the fault proxy, restart commands, system tools,
// command probes, rollbacks): the child is forked and waits at a gate before it execs. The parent
// learns its identity (pid + start time), hands it to `before_exec` (which writes it to the ledger),
// and only then opens the gate. If the parent dies first, the child reads end of file and exits
// without running anything, so nothing unrecorded ever runs.
#include <functional>
#include <string>
#include <vector>

#include "core/result.h"
#include "targets/process.h"

namespace chaosplus::targets {

// A file bound over another in a mount namespace of the child's own (a resolv.conf that names
// chaosplus's resolver): only the child and what it starts see it.
struct BindMount {
  std::string source;  // an existing file or folder
  std::string target;  // an existing file or folder of the same type, covered while the child runs
};

struct ChildPlan {
  std::string path;               // the executable, absolute or relative to the current folder
  std::vector<std::string> argv;  // argv[0] as the program sees it
  std::vector<std::string> env;   // "NAME=value", the whole environment
  std::string cwd;                // "" = ours
  int stdin_fd = -1;              // put on 0, 1, 2; all must be open
  int stdout_fd = -1;
  int stderr_fd = -1;
  // A session of its own (setsid: a Ctrl-C at our terminal does not reach it), else only a
  // process group of its own. Either way it leads its group, so it can be stopped with what it starts.
  bool new_session = false;
  // SIGKILL when the thread that started it ends (PR_SET_PDEATHSIG), for tools and probes that must
  // not outlive the runner; targets do (recover stops them by their recorded identity).
  bool die_with_parent = false;
  // A mount namespace of its own (unshare(CLONE_NEWNS), everything made a slave of the host's: the
  // host's mounts still reach it, its own never reach the host), so a fault can mount over a folder
  // only it sees (the FUSE file system of I/O faults). `binds` are mounted in it before it execs.
  bool private_mounts = false;
  std::vector<BindMount> binds;  // needs private_mounts
};

// Called with the child's identity while it waits at the gate. An error keeps the gate shut: the
// child exits without exec and the error is returned.
using BeforeExec = std::function<Status(const ProcessId&)>;

// Forks, calls `before_exec` (if any), opens the gate and waits until the child has exec'd. Errors
// say which step failed: "setsid: ...", "its own mount namespace: ...", "redirecting its output: ...", "cannot change
// to directory X: ...", "exec X: ...", or the error of `before_exec`.
//
// Test hook (tests only, documented in docs/journal.md): with CHAOSPLUS_TEST_STALL_AFTER set to
// "<program>-spawn", a child whose executable's base name is <program> waits 3 s after the gate
// opens before it execs (a tool that is slow to act), and the parent writes
// "chaosplus test hook: <program> pid <pid> released" to its stderr first.
Result<ProcessId> start_gated(const ChildPlan& plan, const BeforeExec& before_exec);

}  // namespace chaosplus::targets
