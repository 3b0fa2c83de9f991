#pragma once
// The durable record of everything a run changed on the system. An entry is written and synced
// *before* the change is made and marked reverted after the undo; whatever is still open after a
// crash is undone by `chaosplus recover` (and at the start of every run) from the entry alone.
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/result.h"

struct sqlite3;

namespace chaosplus::runner {

enum class EntryState { pending, active, reverted, revert_failed };
std::string to_string(EntryState state);

struct LedgerEntry {
  std::int64_t id = 0;
  std::string run_id;
  std::string kind;    // "process.paused", "proxy.toxic", ... (see faults/undo.h)
  std::string record;  // JSON: enough to undo the change from this alone
  EntryState state = EntryState::pending;
  std::string error;   // why the last revert failed
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
  // Opens (creating folders and tables) the ledger at `path`: SQLite, WAL, synchronous=FULL.
  static Result<std::unique_ptr<Ledger>> open(const std::string& path);
  ~Ledger();
  Ledger(const Ledger&) = delete;
  Ledger& operator=(const Ledger&) = delete;

  Status begin_run(const RunRecord& run);
  Status end_run(const std::string& run_id, const std::string& status);
  Result<std::vector<RunRecord>> runs_with_status(const std::string& status);

  // Records the intent to change the system; durable when it returns.
  Result<std::int64_t> record(const std::string& run_id, const std::string& kind, const std::string& record);
  Status update_record(std::int64_t id, const std::string& record);
  Status set_state(std::int64_t id, EntryState state, const std::string& error = {});

  // Entries not yet reverted (pending, active, revert_failed), newest first: the order to undo them.
  Result<std::vector<LedgerEntry>> open_entries(const std::string& run_id = {});
  Result<std::vector<LedgerEntry>> entries(const std::string& run_id);

 private:
  explicit Ledger(sqlite3* db);
  Status exec(const std::string& sql);
  sqlite3* db_;
  std::mutex mutex_;
};

}  // namespace chaosplus::runner
