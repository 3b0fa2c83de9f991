#pragma once
// Finding a process that already runs, as an experiment names it.
#include "core/result.h"
#include "spec/experiment.h"
#include "targets/process.h"

namespace chaosplus::targets {

// By pid; by pidfile (a decimal pid on its first line, surrounding whitespace allowed; later lines
// are ignored, as in PostgreSQL's postmaster.pid); by exact process name (comm; names longer than the
// kernel's 15 characters also match on the executable's base name); by pid_command (a program run
// without a shell, within 5 s, that must exit 0 having printed one pid); or by pid_url (a loopback
// http URL answering 2xx within 5 s with a bare pid, or a JSON object whose pid_field holds it;
// "a.b" names a nested field); or by listen (the process listening on a TCP address, targets/sockets.h). A name must
// match exactly one live process other than ourselves; otherwise the error lists the matches or says there is none.
// Exactly one way must be set.
Result<ProcessId> resolve(const spec::ProcessAttach& attach);

}  // namespace chaosplus::targets
