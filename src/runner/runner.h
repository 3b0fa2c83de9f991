#pragma once
// Runs one experiment end to end: recover leftovers, start targets and the fault proxy, check the
// steady state, play the phases on one timeline (faults at their offsets, continuous probes,
// guardrails), revert everything in reverse order, run rollbacks, check the steady state again,
// and give the verdict. Every event goes to the journal and the live view.
#include <iosfwd>
#include <string>
#include <vector>

#include "core/halt_switch.h"
#include "runner/fleet_run.h"
#include "runner/verdict.h"
#include "spec/experiment.h"

namespace chaosplus::runner {

struct RunOptions {
  std::string state_dir;                  // ledger.db lives here
  std::string runs_dir = "runs";          // outputs.journal is a pattern below it
  std::string journal_path;               // overrides outputs.journal when set; may be anywhere
  std::string store;                      // the results store (--store); "" for store::resolve_location's choice
  bool live_status = false;               // a status line redrawn in place (a terminal); plain lines otherwise
  std::vector<std::string> command_line;  // argv, for run.started (secret --var values are redacted there)
  FleetOptions fleet;                     // etcd and the run lease, for targets on agents (docs/agents.md)
};

struct RunResult {
  Verdict verdict = Verdict::error;
  std::vector<std::string> reasons;
  std::string journal_path;
  std::string run_id;
};

// `halt` may be triggered from any thread (signals, guardrails); the run then reverts and ends.
// Progress lines and the final summary go to `out`.
RunResult run_experiment(const spec::Experiment& experiment, const RunOptions& options, HaltSwitch& halt,
                         std::ostream& out);

}  // namespace chaosplus::runner
