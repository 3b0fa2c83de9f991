#pragma once
// Faults that act on a target's process: kill (a signal), pause (SIGSTOP until reverted) and
// restart (stop, then start again and wait until ready).
#include <memory>

#include "faults/fault.h"

namespace chaosplus::faults {

std::unique_ptr<Fault> make_kill(const spec::Fault& fault, TargetHandle& target);
std::unique_ptr<Fault> make_pause(const spec::Fault& fault, TargetHandle& target);
std::unique_ptr<Fault> make_restart(const spec::Fault& fault, TargetHandle& target);

// Brings a target back: starts its process again (a runner-started target, or an attached one
// with a restart command) and waits until it is ready. Used by kill/restart reverts and rollbacks.
Status start_again(TargetHandle& target, HaltSwitch& halt);

}  // namespace chaosplus::faults
