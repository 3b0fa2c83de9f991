#include "runner/recovery.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <ostream>

#include "faults/undo.h"
#include "runner/store_recovery.h"
#include "targets/process.h"

namespace chaosplus::runner {

bool runner_alive(const RunRecord& run) {
  return run.pid > 0 && targets::is_alive(targets::ProcessId{run.pid, run.pid_start_time});
}

std::string default_state_dir() {
  if (const char* dir = std::getenv("CHAOSPLUS_STATE_DIR"); dir != nullptr && *dir != '\0') return dir;
  if (const char* xdg = std::getenv("XDG_STATE_HOME"); xdg != nullptr && *xdg != '\0') {
    return std::string(xdg) + "/chaosplus";
  }
  const char* home = std::getenv("HOME");
  return std::string(home != nullptr && *home != '\0' ? home : "/tmp") + "/.local/state/chaosplus";
}

std::string ledger_path(const std::string& state_dir) { return state_dir + "/ledger.db"; }

namespace {

// Undoes one open entry and records the outcome in the ledger; true if it is reverted.
bool undo_entry(Ledger& ledger, const LedgerEntry& e, std::ostream& out) {
  Status s = faults::undo(e.kind, e.record);
  (void)ledger.set_state(e.id, s ? EntryState::reverted : EntryState::revert_failed, s ? "" : s.error());
  if (s) {
    out << "recover: reverted " << e.kind << " " << redact_record(e.record) << " (run " << e.run_id << ")\n";
  } else {
    out << "recover: FAILED to revert " << e.kind << " " << redact_record(e.record) << ": "
        << redact_secrets(s.error(), e.record) << "\n";
  }
  return s.ok();
}

// The order a normal run undoes things in: faults newest first, then rollbacks in the order written
// (the experiment's), then the processes the run started, newest first. `entries` come newest first.
std::vector<LedgerEntry> in_undo_order(std::vector<LedgerEntry> entries) {
  std::stable_sort(entries.begin(), entries.end(), [](const LedgerEntry& a, const LedgerEntry& b) {
    const auto sa = faults::undo_stage(a.kind);
    const auto sb = faults::undo_stage(b.kind);
    if (sa != sb) return sa < sb;
    if (sa == faults::UndoStage::rollback) return a.id < b.id;
    return a.id > b.id;
  });
  return entries;
}

}  // namespace

RecoveryReport recover(Ledger& ledger, std::ostream& out) { return recover(ledger, nullptr, out); }

RecoveryReport recover(Ledger& ledger, store::Store* store, std::ostream& out) {
  RecoveryReport report;
  auto running = ledger.runs_with_status("running");
  if (!running) {
    out << "recover: " << running.error() << "\n";
    ++report.entries_failed;
    return report;
  }
  for (const RunRecord& run : *running) {
    if (runner_alive(run)) {
      ++report.runs_still_active;
      continue;
    }
    if (store != nullptr) mark_interrupted(*store, run, out);
    int failed = 0;
    auto entries = ledger.open_entries(run.run_id);
    if (!entries) {
      out << "recover: " << entries.error() << "\n";
      ++failed;
    } else {
      for (const LedgerEntry& e : in_undo_order(std::move(*entries))) {
        (undo_entry(ledger, e, out) ? report.entries_reverted : failed)++;
      }
    }
    report.entries_failed += failed;
    ++report.runs_recovered;
    (void)ledger.end_run(run.run_id, failed == 0 ? "crashed, recovered" : "crashed, revert failed");
    // Files of the run's a kill left half-written, which no ledger entry names.
    faults::sweep_run(std::filesystem::path(ledger.path()).parent_path().string(), run.run_id);
    if (store != nullptr && failed == 0) mark_recovered(*store, run, out);
  }
  if (store != nullptr) (void)reconcile_store(*store, ledger, out);
  // Reverts that failed in finished runs are tried again.
  auto leftovers = ledger.open_entries();
  if (leftovers) {
    for (const LedgerEntry& e : in_undo_order(std::move(*leftovers))) {
      bool owned_by_live_run = false;
      for (const RunRecord& run : *running) {
        if (run.run_id == e.run_id && runner_alive(run)) owned_by_live_run = true;
      }
      if (owned_by_live_run) continue;
      (undo_entry(ledger, e, out) ? report.entries_reverted : report.entries_failed)++;
    }
  }
  return report;
}

}  // namespace chaosplus::runner
