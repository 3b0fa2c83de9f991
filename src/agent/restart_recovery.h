#pragma once
// What a restarted agent does first (docs/agents.md): the runs its previous process left open in
// its ledger (killed -9, power loss) are reverted as `chaosplus recover` does (runner/recovery.h),
// before it talks to etcd at all; then each fault reverted so is reported in its run's status keys,
// when the run still has them (a controller's recover has not read and erased them yet).
#include <iosfwd>
#include <string>
#include <vector>

#include "etcd/client.h"
#include "runner/ledger.h"

namespace chaosplus::agent {

struct RecoveredFault {
  std::string run;
  std::string fault_id;
  std::string summary;
  bool ok = false;
  std::string error;
};

// Reverts what the ledger holds open of runs whose process is gone; the faults it reverted (or
// failed to), by their ids in their runs (from runs/<run>/faults.jsonl below `state_dir`).
std::vector<RecoveredFault> recover_previous(runner::Ledger& ledger, const std::string& state_dir, std::ostream& log);

// Writes the status ("reverted" or "revert_failed", why "recovered") of each fault whose run's
// status prefix still exists. False when etcd could not be asked: try again later.
bool report_recovered(etcd::Client& client, const std::string& agent, const std::vector<RecoveredFault>& faults);

}  // namespace chaosplus::agent
