#pragma once
// The durable record of everything a run changed on the system. An entry is written and synced
// *before* the change is made and marked reverted after the undo; whatever is still open after a
// crash is undone by `chaosplus recover` (and at the start of every run) from the entry alone.
//
// A ledger that lost records would make recover say "nothing to do" while faults are still on, so
// it checks itself at open (SQLite's quick_check, and its witness: runner/ledger_witness.h) and
// refuses, saying what to inspect by hand, when it cannot be trusted.
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/result.h"

struct sqlite3;

namespace chaosplus::runner {

class LedgerWitness;

enum class EntryState { pending, active, reverted, revert_failed };
std::string to_string(EntryState state);

struct LedgerEntry {
  std::int64_t id = 0;
  std::string run_id;
  std::string kind;    // "process.paused", "proxy.toxic", ... (see faults/undo.h)
  std::string record;  // JSON: enough to undo the change from this alone
  EntryState state = EntryState::pending;
  std::string error;  // why the last revert failed
};

struct RunRecord {
  std::string run_id;
  int pid = 0;
  unsigned long long pid_start_time = 0;
  std::string experiment;
  std::string journal;
  std::string status;  // "running", or the final verdict
};

class Ledger {
 public:
  // Opens (creating folders and tables) the ledger at `path`: SQLite, WAL, synchronous=FULL. An
  // error, saying what cannot be trusted and what to check by hand, when SQLite's quick_check finds
  // damage or the ledger holds less than its witness says was written (a write-ahead log deleted,
  // cut or overwritten, a database file truncated). Codes: untrusted (that refusal), io_error (cannot
  // open or create it).
  static Result<std::unique_ptr<Ledger>> open(const std::string& path);
  // Opens an existing ledger without its checks and without changing it: to read what is left of
  // one that open() refuses. Writes fail. not_found when there is no ledger at `path`.
  static Result<std::unique_ptr<Ledger>> open_for_inspection(const std::string& path);
  // The witness beside the ledger at `path`.
  static std::string witness_path(const std::string& path);
  const std::string& path() const { return path_; }
  ~Ledger();
  Ledger(const Ledger&) = delete;
  Ledger& operator=(const Ledger&) = delete;

  Status begin_run(const RunRecord& run);
  Status end_run(const std::string& run_id, const std::string& status);
  Result<std::vector<RunRecord>> runs_with_status(const std::string& status);
  Result<std::vector<RunRecord>> runs();  // all, oldest first

  // Records the intent to change the system; durable (in the ledger and its witness) when it returns.
  Result<std::int64_t> record(const std::string& run_id, const std::string& kind, const std::string& record);
  Status update_record(std::int64_t id, const std::string& record);
  Status set_state(std::int64_t id, EntryState state, const std::string& error = {});

  // Entries not yet reverted (pending, active, revert_failed), newest first: the order to undo them.
  // Reads fail as a whole when the ledger cannot be read to the end: an error is never the end.
  Result<std::vector<LedgerEntry>> open_entries(const std::string& run_id = {});
  Result<std::vector<LedgerEntry>> entries(const std::string& run_id);  // "" for every run

 private:
  Ledger(sqlite3* db, std::string path);
  Status exec(const std::string& sql);
  Status initialise();
  Status quick_check();
  Status check_witness();
  Status adopt(LedgerWitness& witness);
  Error untrusted(const std::string& what) const;
  sqlite3* db_;
  std::string path_;
  std::unique_ptr<LedgerWitness> witness_;  // none when opened for inspection
  std::mutex mutex_;
};

}  // namespace chaosplus::runner
