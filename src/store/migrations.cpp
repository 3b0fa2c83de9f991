#include "store/migrations.h"

namespace chaosplus::store {

const std::vector<std::vector<std::string>>& migrations() {
  static const std::vector<std::vector<std::string>> list = {
      // 1: runs, their events, and what is derived from the events.
      {
          "CREATE TABLE IF NOT EXISTS runs ("
          " run_id TEXT PRIMARY KEY, experiment TEXT NOT NULL, file TEXT NOT NULL, file_text TEXT NOT NULL,"
          " file_sha256 TEXT NOT NULL, journal TEXT NOT NULL, host TEXT NOT NULL, status TEXT NOT NULL,"
          " verdict TEXT NOT NULL, exit_code BIGINT NOT NULL, reasons TEXT NOT NULL,"
          " started TEXT NOT NULL, started_ms BIGINT NOT NULL, ended TEXT NOT NULL, ended_ms BIGINT NOT NULL,"
          " events BIGINT NOT NULL)",
          "CREATE INDEX IF NOT EXISTS runs_by_start ON runs (started_ms)",
          "CREATE INDEX IF NOT EXISTS runs_by_experiment ON runs (experiment, started_ms)",
          "CREATE TABLE IF NOT EXISTS events ("
          " run_id TEXT NOT NULL, seq BIGINT NOT NULL, time TEXT NOT NULL, elapsed_ms DOUBLE PRECISION NOT NULL,"
          " type TEXT NOT NULL, line TEXT NOT NULL, PRIMARY KEY (run_id, seq))",
          "CREATE TABLE IF NOT EXISTS metrics ("
          " run_id TEXT NOT NULL, seq BIGINT NOT NULL, elapsed_ms DOUBLE PRECISION NOT NULL, name TEXT NOT NULL,"
          " value DOUBLE PRECISION NOT NULL, PRIMARY KEY (run_id, seq, name))",
          "CREATE INDEX IF NOT EXISTS metrics_by_name ON metrics (run_id, name, seq)",
          "CREATE TABLE IF NOT EXISTS faults ("
          " run_id TEXT NOT NULL, seq BIGINT NOT NULL, kind TEXT NOT NULL, target TEXT NOT NULL,"
          " summary TEXT NOT NULL, phase TEXT NOT NULL, ledger_id TEXT NOT NULL,"
          " injected_at TEXT NOT NULL, injected_ms DOUBLE PRECISION NOT NULL,"
          " reverted_at TEXT NOT NULL, reverted_ms DOUBLE PRECISION NOT NULL,"
          " revert_ok BIGINT NOT NULL, revert_error TEXT NOT NULL, PRIMARY KEY (run_id, seq))",
          "CREATE TABLE IF NOT EXISTS findings ("
          " run_id TEXT NOT NULL, seq BIGINT NOT NULL, elapsed_ms DOUBLE PRECISION NOT NULL, source TEXT NOT NULL,"
          " finding_id TEXT NOT NULL, severity TEXT NOT NULL, title TEXT NOT NULL, finding TEXT NOT NULL,"
          " PRIMARY KEY (run_id, seq))",
      },
  };
  return list;
}

}  // namespace chaosplus::store
