#pragma once
// The one switch that stops running experiments from outside their process: `chaosplus halt` and
// the server's HALT (POST /api/halt, POST /api/runs/{id}/halt) both call halt_runs(). It queues a
// SIGTERM carrying kHaltSignalValue to each run's runner (which trips that run's HaltSwitch, so it
// reverts its faults in reverse order), then watches the ledger until each run's faults are
// reverted and the run has ended. Runs whose runner died are recovered from the ledger instead.
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/units.h"
#include "runner/ledger.h"
#include "runner/recovery.h"

namespace chaosplus::runner {

// The value queued with the SIGTERM (sigqueue), so the run reports a halt by `chaosplus halt` or
// the server rather than a plain SIGTERM (cli/signal_watcher.cpp reads it).
inline constexpr int kHaltSignalValue = 0x43484c54;  // "CHLT"

struct HaltedRun {
  std::string run_id;
  int pid = 0;
  std::string error;                     // why it could not be signalled; "" when it was
  std::optional<double> faults_cleared;  // seconds from the halt until no fault of it was open
  std::optional<double> ended;           // seconds until the ledger no longer listed it as running
};

struct HaltReport {
  std::vector<HaltedRun> runs;     // the live runs that were signalled (or could not be)
  bool recovered_crashed = false;  // some runs' runners were dead: recover() ran
  RecoveryReport recovery;         // what it did
  // Every signalled run's faults cleared in time and nothing failed to revert.
  bool ok() const;
};

// Halts the running runs in the ledger (only `run_id` when it is not empty), all signalled at once,
// then waits up to `wait` for each one's faults to be reverted and for it to end. Crashed runs
// (runner dead) are recovered, their recovery lines written to `recovery_log`, and the results
// store follows when one is given (as `recover --store`). not_found when `run_id` names no running run.
Result<HaltReport> halt_runs(Ledger& ledger, const std::string& run_id, Duration wait, std::ostream& recovery_log,
                             store::Store* store = nullptr);

// The entries of a run that are faults still on the system (not rollbacks nor processes it
// started); -1 when the ledger cannot be read.
int open_faults(Ledger& ledger, const std::string& run_id);

}  // namespace chaosplus::runner
