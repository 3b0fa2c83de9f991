#pragma once
// Starting the processes an experiment owns, and waiting until they are ready.
#include <map>
#include <string>
#include <vector>

#include "core/halt_switch.h"
#include "core/result.h"
#include "spec/experiment.h"
#include "targets/gated_child.h"
#include "targets/process.h"

namespace chaosplus::targets {

// Where bare command names are looked up before PATH: $CHAOSPLUS_BIN_DIR if set and not empty
// (tests and packaging use it), else the directory of the running executable (/proc/self/exe).
std::string default_search_dir();

// Absolute path of `command`: a name containing '/' is used as is (relative to `cwd` if relative
// and cwd is set); a bare name is looked up in `search_dir`, then in each PATH entry.
// Error: "cannot start 'x': not found in <search_dir> or PATH".
Result<std::string> find_executable(const std::string& command, const std::string& search_dir,
                                    const std::string& cwd = {});

// Starts launch.command in its own session (setsid: a Ctrl-C at the runner's terminal does not
// reach it), launch.env added to our environment, in launch.cwd, stdin from /dev/null, stdout and
// stderr appended to `log_path` (its folder is created), signal mask and dispositions reset, no
// other descriptors inherited. It is started through the gate (targets/gated_child.h): `before_exec`
// gets its identity before it runs (the runner records it there). Exec failures (and chdir
// failures) come back as errors.
Result<ProcessId> spawn(const spec::ProcessLaunch& launch, const std::string& log_path,
                        const BeforeExec& before_exec = {});
Result<ProcessId> spawn(const spec::ProcessLaunch& launch, const std::string& log_path, const std::string& search_dir,
                        const BeforeExec& before_exec = {});

// How a started target is set apart so a fault can change what only it sees: its own mount
// namespace (I/O faults mount over its folders there), files bound over the host's in it (a
// resolv.conf naming chaosplus's resolver), variables added to its environment (libfaketime's).
// The fault families say what each target needs (faults/launch_prep.h); empty = started as is.
struct Sandbox {
  bool private_mounts = false;
  std::vector<BindMount> binds;            // need private_mounts
  std::map<std::string, std::string> env;  // over launch.env; LD_PRELOAD entries are joined with ':'
  bool empty() const { return !private_mounts && binds.empty() && env.empty(); }
};
Result<ProcessId> spawn(const spec::ProcessLaunch& launch, const std::string& log_path, const Sandbox& sandbox,
                        const BeforeExec& before_exec);

// Waits until `check` passes (HTTP GET answers 2xx / TCP connect succeeds), polling about every
// 50ms. Errors: the process died (with the tail of its log), check.timeout passed (with the last
// attempt's error and the log tail), or `halt` was triggered.
Status wait_ready(const spec::ReadyCheck& check, const ProcessId& id, const std::string& log_path, HaltSwitch& halt);

// Fails when `check`'s HTTP or TCP check already passes before `who` is started: another process
// answers at its address (a demo left running, a port two targets share), so the check would call `who`
// ready without it and the probes would talk to that other process. Command checks are not tried.
Status check_not_answered_before_start(const spec::ReadyCheck& check, const std::string& who);

// The last `max_lines` lines (at most `max_bytes`) of a log file, for error messages; "" if unreadable.
std::string log_tail(const std::string& log_path, int max_lines = 20, std::size_t max_bytes = 4096);

}  // namespace chaosplus::targets
