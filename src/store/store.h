#pragma once
// The results store: the record of every run (its experiment file, every event in order, its
// status and verdict), written as the run goes, read by history, show, compare, report and the
// server. SQLite in the state folder by default (nothing to set up, works air-gapped), PostgreSQL
// when configured; both have the same schema and migrations. The journal is the export; this is
// the record. Metrics (probe and load series), faults and findings are derived from the events
// as they are written, so they can be queried without reading every event.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/event.h"
#include "core/result.h"

namespace chaosplus::store {

using WallTime = std::chrono::system_clock::time_point;

// running: the runner is (or was last seen) alive; finished: it wrote its verdict; interrupted:
// its runner died before the verdict (kill -9, power loss); recovered: interrupted, then recover
// undid what it had left on the system.
enum class RunStatus { running, finished, interrupted, recovered };
std::string to_string(RunStatus status);
std::optional<RunStatus> parse_run_status(std::string_view text);

struct RunRow {
  std::string run_id;       // the runner's id ("20261206T161700Z-3fa2c1")
  std::string experiment;   // the experiment's name
  std::string file;         // absolute path of the experiment file as run
  std::string file_text;    // its content as run: reports show it, and a rerun can use it
  std::string file_sha256;  // of file_text
  std::string journal;      // the journal's path (the export)
  std::string host;         // where it ran
  RunStatus status = RunStatus::running;
  std::string verdict;  // held, deviated, aborted, error, not_restored, unchecked; "" until known
  int exit_code = -1;   // of `chaosplus run`; -1 until known
  std::string reasons;  // the verdict's reasons, "; "-joined
  WallTime started{};
  WallTime ended{};  // {} while running
  std::int64_t events = 0;
};

// One event as stored: its position in the run (1, 2, ...; the journal's line number) and the event.
struct StoredEvent {
  std::int64_t seq = 0;
  Event event;
  // The event's JSON line exactly as in the journal. When appending, "" stores to_json_line(event);
  // a journal replayed after a crash passes its lines, so the store holds the same bytes.
  std::string line = {};
};

// Derived from the events as they are appended (in the same transaction).
// probe.<name>.success (0/1) and probe.<name>.latency_ms from probe.result; load.<name>.<field> for
// every number of a load.tick (rps, requests, errors, error_rate, p50_ms, p99_ms, ...).
struct MetricPoint {
  std::int64_t seq = 0;
  double elapsed_ms = 0;
  std::string name;
  double value = 0;
};

// One fault.injected, with its fault.reverted once seen.
struct FaultRow {
  std::int64_t seq = 0;  // of fault.injected
  std::string kind;      // the fault type ("latency", "kill", ...)
  std::string target;
  std::string summary;  // with its settings
  std::string phase;
  std::string ledger_id;
  WallTime injected_at{};
  double injected_ms = 0;  // on the run's timeline
  std::optional<WallTime> reverted_at;
  double reverted_ms = -1;        // -1 while not reverted
  std::optional<bool> revert_ok;  // none while not reverted
  std::string revert_error;
};

// One fuzz.finding or security.finding.
struct FindingRow {
  std::int64_t seq = 0;
  double elapsed_ms = 0;
  std::string source;  // "fuzz" or "security"
  std::string id;      // stable across runs ("F" and 10 hex digits)
  std::string severity;
  std::string title;
  std::string json;  // the whole event as its JSON line
};

struct HistoryFilter {
  std::string experiment;           // exact name; "" for all
  std::string verdict;              // exact verdict; "" for all
  std::optional<RunStatus> status;  // none for all
  std::optional<WallTime> since;    // started at or after
  std::optional<WallTime> until;    // started before
  std::size_t limit = 50;           // newest first
};

class Store {
 public:
  // `location`: a PostgreSQL URI (postgresql://... or postgres://..., loopback hosts only), or
  // "sqlite:PATH", or a plain PATH of an SQLite file (made with its folders when missing). Opens
  // and migrates the schema to the current version. Errors name the location (password removed).
  static Result<std::unique_ptr<Store>> open(const std::string& location);
  virtual ~Store() = default;

  // "sqlite /path/results.db" or "postgresql user@127.0.0.1:5432/db" (never the password).
  virtual std::string describe() const = 0;

  virtual Status begin_run(const RunRow& run) = 0;
  // Appends events in seq order; an event whose seq is already stored is skipped (so a journal can
  // be replayed into the store after a crash). Durable when it returns.
  virtual Status append_events(const std::string& run_id, std::span<const StoredEvent> events) = 0;
  // Sets status, verdict, exit code, reasons and end time from `run` (matched by run_id).
  virtual Status finish_run(const RunRow& run) = 0;
  virtual Status set_status(const std::string& run_id, RunStatus status) = 0;

  virtual Result<std::vector<RunRow>> history(const HistoryFilter& filter) = 0;
  // A run by its id, or by a prefix of it that matches exactly one run (ambiguous: an error).
  virtual Result<std::optional<RunRow>> find_run(const std::string& id_or_prefix) = 0;
  // The run of the same experiment that started last before `run` (finished ones only).
  virtual Result<std::optional<RunRow>> previous_run(const RunRow& run) = 0;
  // Events with seq > after_seq, in order; at most `limit` (0: all).
  virtual Result<std::vector<StoredEvent>> events(const std::string& run_id, std::int64_t after_seq = 0,
                                                  std::size_t limit = 0) = 0;
  // The derived rows of a run, in seq order. `name_prefix` ("probe.", "load.checkout.") filters metrics.
  virtual Result<std::vector<MetricPoint>> metrics(const std::string& run_id, const std::string& name_prefix = "") = 0;
  virtual Result<std::vector<FaultRow>> faults(const std::string& run_id) = 0;
  virtual Result<std::vector<FindingRow>> findings(const std::string& run_id) = 0;
};

// The schema version this build writes; a store of a newer version is refused by open().
int schema_version();

// Where the store is when nothing is configured: `<state_dir>/results.db`.
std::string default_location(const std::string& state_dir);

}  // namespace chaosplus::store
