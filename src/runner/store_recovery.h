#pragma once
// What recovery does to the results store: a run whose runner died is marked interrupted, its
// journal replayed into the store (the store may miss the last events, never the journal), and
// marked recovered once its leftovers are undone. The journal is the source: its line N is the
// store's event N.
#include <iosfwd>
#include <string>

#include "core/result.h"
#include "runner/ledger.h"
#include "store/store.h"

namespace chaosplus::runner {

struct Replay {
  std::int64_t events = 0;  // complete lines in the journal, all in the store now
  bool finished = false;    // the journal holds run.verdict: the run's row is finished from it
};

// Appends every complete line of the journal at `journal_path` to the store as run `run_id`
// (seqs already there are skipped). The run's row is made from the journal's run.started when the
// store has none (the experiment file's text only when the file still has the sha256 it ran with).
Result<Replay> replay_journal(store::Store& store, const std::string& run_id, const std::string& journal_path);

// Before recover undoes the leftovers of the dead run `run`: replays its journal and marks it
// interrupted (or finished, when its journal holds the verdict). Problems go to `out`, once each.
void mark_interrupted(store::Store& store, const RunRecord& run, std::ostream& out);
// After: recovered when nothing failed to revert (interrupted stays otherwise).
void mark_recovered(store::Store& store, const RunRecord& run, std::ostream& out);

// Runs "running" in the store, recorded on this host, whose ledger run has ended (recovered by a
// process that used another store, or whose store failed mid-run): their journal is replayed, and
// their status follows the ledger's (a verdict: finished; "crashed, recovered": recovered; other
// crashes: interrupted). Runs the ledger does not know are left alone: they may belong to another
// state folder. Returns how many were brought up to date.
int reconcile_store(store::Store& store, Ledger& ledger, std::ostream& out);

}  // namespace chaosplus::runner
