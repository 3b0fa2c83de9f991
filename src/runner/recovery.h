#pragma once
// Cleaning up after runs that did not: undoes every open ledger entry of runs whose runner is no
// longer alive (kill -9, power loss), newest first, and retries reverts that failed before.
#include <iosfwd>
#include <string>

#include "core/result.h"
#include "runner/ledger.h"
#include "runner/redaction.h"

namespace chaosplus::store {
class Store;
}

namespace chaosplus::runner {

struct RecoveryReport {
  int runs_recovered = 0;
  int entries_reverted = 0;
  int entries_failed = 0;
  int runs_still_active = 0;  // runs whose runner is alive: left alone (use halt)
};

// Writes a line per entry to `out`, records shown with their secrets redacted (runner/redaction.h):
// the text goes to the terminal and into the journal's recovery.done event.
RecoveryReport recover(Ledger& ledger, std::ostream& out);
// The same, and the results store follows (runner/store_recovery.h): each dead run is marked
// interrupted with its journal replayed into `store`, then recovered once its leftovers are undone;
// runs the store still shows running whose ledger run has ended are brought up to date.
RecoveryReport recover(Ledger& ledger, store::Store* store, std::ostream& out);

// Whether the process that wrote `run` is still running (pid and start time match).
bool runner_alive(const RunRecord& run);

// Default folder of the ledger: $CHAOSPLUS_STATE_DIR, else $XDG_STATE_HOME/chaosplus, else
// ~/.local/state/chaosplus.
std::string default_state_dir();
std::string ledger_path(const std::string& state_dir);

}  // namespace chaosplus::runner
