#pragma once
// Rollbacks as ledger entries, like faults: each is written when the run starts (after its targets
// are placed, before any fault), a rollback command's identity is added to its record before it runs,
// and `recover` runs what a crashed run did not (stopping a run of it still going first). Rollbacks
// must therefore be idempotent: one may run again after a crash.
#include <string>
#include <string_view>

#include "core/result.h"
#include "spec/experiment.h"
#include "targets/gated_child.h"

namespace chaosplus::faults {

class TargetHandle;

// The ledger record of `rollback`; `target` is the target a restart rollback names (null otherwise).
std::string rollback_record(const spec::Rollback& rollback, const TargetHandle* target);
// The record with the identity of the command's run added ("run_pid", "run_start_time").
std::string rollback_record_running(std::string_view record, const targets::ProcessId& run);

// Runs a rollback command to completion in a process group of its own; success is exit code 0.
// `before_exec` sees it before it runs.
Status run_rollback_command(const spec::CommandProbe& command, const targets::BeforeExec& before_exec);

// Recover's undo of a rollback entry: stops a run of its command still going (with its group),
// then runs the command again; for a restart rollback, makes sure an attached target runs (a target
// the run started is stopped by its own entry, right after).
Status undo_rollback(std::string_view record);

}  // namespace chaosplus::faults
