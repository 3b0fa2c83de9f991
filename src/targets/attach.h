#pragma once
// Finding a process that already runs, as an experiment names it.
#include "core/result.h"
#include "spec/experiment.h"
#include "targets/process.h"

namespace chaosplus::targets {

// By pid, by pidfile (a decimal pid, surrounding whitespace allowed), or by exact process name
// (comm; names longer than the kernel's 15 characters also match on the executable's base name).
// A name must match exactly one live process other than ourselves; otherwise the error lists the
// matches or says there is none. Exactly one of pid, pidfile, name must be set.
Result<ProcessId> resolve(const spec::ProcessAttach& attach);

}  // namespace chaosplus::targets
