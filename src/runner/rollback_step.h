#pragma once
// Running one rollback of a run, with its ledger entry (faults/rollback.h): a command's identity is
// written to the entry before it runs, and the entry is marked done (reverted) or failed after.
#include <cstdint>

#include "core/result.h"
#include "faults/target_handle.h"
#include "runner/ledger.h"
#include "spec/experiment.h"

namespace chaosplus::runner {

// `target` is the target a restart rollback names (null if unknown: nothing is restarted);
// `entry` is 0 when the rollback could not be recorded.
Status run_rollback(const spec::Rollback& rollback, faults::TargetHandle* target, Ledger& ledger, std::int64_t entry);

}  // namespace chaosplus::runner
