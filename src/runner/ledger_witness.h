#pragma once
// An independent, append-only account of what the ledger must hold, kept beside it
// (<ledger>.witness). SQLite keeps recent commits only in its write-ahead log: a log deleted, cut or
// overwritten, or a database file truncated, loses them without any error, and with them the records
// of faults still on the system. The witness is a plain file, fsynced after each line, that names
// every run and every entry (and the revision of each record) *after* the ledger committed it: so
// the ledger must hold at least what the witness names, and a ledger that holds less lost something.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/result.h"

namespace chaosplus::runner {

struct WitnessedRun {
  std::string run_id;
  int pid = 0;
  unsigned long long pid_start_time = 0;
  std::string experiment;
};

struct WitnessedEntry {
  std::int64_t id = 0;
  std::string run_id;
  std::string kind;
  std::int64_t revision = 0;  // 0 when recorded, +1 for each update of the record
  std::string record;         // as last witnessed, secrets redacted (runner/redaction.h)
};

struct WitnessContents {
  std::vector<WitnessedRun> runs;
  std::vector<WitnessedEntry> entries;  // one per id: the latest revision
};

class LedgerWitness {
 public:
  // Opens (creating, owner-only) the witness at `path` for appending.
  static Result<std::unique_ptr<LedgerWitness>> open(const std::string& path);
  ~LedgerWitness();
  LedgerWitness(const LedgerWitness&) = delete;
  LedgerWitness& operator=(const LedgerWitness&) = delete;

  // Each appends one line and syncs it before returning.
  Status run(const WitnessedRun& run);
  Status entry(const WitnessedEntry& entry);  // a new entry, or a new revision of its record

  // Reads the witness at `path`. A last line cut short (a crash in the middle of a write) is
  // dropped from the file; any other line that does not read is an error: the witness is damaged.
  static Result<WitnessContents> read(const std::string& path);

 private:
  explicit LedgerWitness(int fd) : fd_(fd) {}
  Status append(const std::string& line);
  int fd_;
};

}  // namespace chaosplus::runner
