#pragma once
// Faults that act on a target's process: kill (a signal), pause (SIGSTOP until reverted) and
// restart (stop, then start again and wait until ready).
#include <memory>
#include <optional>

#include "faults/fault.h"
#include "spec/experiment.h"
#include "targets/process.h"

namespace chaosplus::faults {

// Brings a target back: starts its process again (a runner-started target, or an attached one
// with a restart command) and waits until it is ready. Used by kill/restart reverts and rollbacks.
Status start_again(TargetHandle& target, HaltSwitch& halt);

// The process an attached target's rule finds again after `victim` was killed: one a supervisor
// (systemd, Patroni) started. A pid rule can only find the victim's pid reused by another process,
// and a pidfile still naming the victim's pid is stale, so neither counts.
std::optional<targets::ProcessId> back_by_itself(const spec::ProcessAttach& attach,
                                                 const std::optional<targets::ProcessId>& victim);

}  // namespace chaosplus::faults
