#include "runner/ledger.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <set>
#include <thread>

#include "runner/ledger_witness.h"
#include "runner/output_paths.h"

namespace chaosplus::runner {
namespace {

class Statement {
 public:
  Statement(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK) stmt_ = nullptr;
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  bool valid() const { return stmt_ != nullptr; }
  void bind(int index, const std::string& value) {
    if (stmt_ == nullptr) return;
    sqlite3_bind_text(stmt_, index, value.c_str(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
  }
  void bind(int index, std::int64_t value) {
    if (stmt_ != nullptr) sqlite3_bind_int64(stmt_, index, value);
  }
  int step() { return sqlite3_step(stmt_); }
  std::string text(int column) const {
    const unsigned char* t = sqlite3_column_text(stmt_, column);
    return t == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(t));
  }
  std::int64_t integer(int column) const { return sqlite3_column_int64(stmt_, column); }
  std::string error() const { return sqlite3_errmsg(db_); }

  // Calls on_row for every row. Stepping ends with SQLITE_DONE; anything else (a corrupt page, an
  // I/O error) is an error, never the end of the rows.
  template <typename OnRow>
  Status each_row(OnRow&& on_row) {
    if (!valid()) return Error{"ledger: " + error()};
    int rc = SQLITE_ROW;
    while ((rc = step()) == SQLITE_ROW) on_row();
    if (rc != SQLITE_DONE) return Error{"ledger: cannot read it to the end: " + error()};
    return ok_status();
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

EntryState state_from(const std::string& s) {
  if (s == "active") return EntryState::active;
  if (s == "reverted") return EntryState::reverted;
  if (s == "revert_failed") return EntryState::revert_failed;
  return EntryState::pending;
}

Status done(Statement& st) {
  if (!st.valid()) return Error{"ledger: " + st.error()};
  int rc = st.step();
  if (rc != SQLITE_DONE && rc != SQLITE_ROW) return Error{"ledger: " + st.error()};
  return ok_status();
}

std::string folder_of(const std::string& path) {
  auto parent = std::filesystem::path(path).parent_path();
  return parent.empty() ? std::string(".") : parent.string();
}

RunRecord run_from(const Statement& st) {
  return RunRecord{st.text(0),
                   static_cast<int>(st.integer(1)),
                   static_cast<unsigned long long>(st.integer(2)),
                   st.text(3),
                   st.text(4),
                   st.text(5)};
}

constexpr const char* kRunColumns = "SELECT run_id, pid, pid_start_time, experiment, journal, status FROM runs";

}  // namespace

std::string to_string(EntryState state) {
  switch (state) {
    case EntryState::pending: return "pending";
    case EntryState::active: return "active";
    case EntryState::reverted: return "reverted";
    case EntryState::revert_failed: return "revert_failed";
  }
  return "pending";
}

Ledger::Ledger(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}

Ledger::~Ledger() { sqlite3_close(db_); }

std::string Ledger::witness_path(const std::string& path) { return path + ".witness"; }

Error Ledger::untrusted(const std::string& what) const {
  return {"the ledger " + path_ + " cannot be trusted: " + what + (what.ends_with('\n') ? "" : ".\n") +
              "Faults and processes it recorded may still be on this system, and nothing is undone from "
              "records that cannot be read. Check by hand: `chaosplus leftovers --state-dir " +
              folder_of(path_) +
              "` lists the nft tables, qdiscs, network namespaces and processes chaosplus may have left; remove "
              "what is still there, then move " +
              path_ + " (with its -wal and -shm files) and " + witness_path(path_) +
              " out of the way to start a new ledger",
          ErrorCode::untrusted};
}

Result<std::unique_ptr<Ledger>> Ledger::open(const std::string& path) {
  auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) {
    if (auto s = create_private_directories(parent.string()); !s) return Error{"the ledger folder: " + s.error()};
  }
  // Owner-only: records hold what it takes to undo a fault, the proxy API's token included. SQLite
  // gives its -wal and -shm files the database file's mode.
  if (int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600); fd >= 0) {
    ::fchmod(fd, 0600);
    ::close(fd);
  }
  sqlite3* db = nullptr;
  int rc =
      sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db != nullptr ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return Error{"cannot open the ledger " + path + ": " + message, ErrorCode::io_error};
  }
  sqlite3_busy_timeout(db, 5000);
  std::unique_ptr<Ledger> ledger(new Ledger(db, path));  // private constructor
  if (auto s = ledger->initialise(); !s) {
    // Refused: what is left of its write-ahead log stays as found, for inspection.
    sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
    return s.failure();
  }
  return ledger;
}

Result<std::unique_ptr<Ledger>> Ledger::open_for_inspection(const std::string& path) {
  if (!std::filesystem::exists(path)) return Error{"there is no ledger at " + path, ErrorCode::not_found};
  sqlite3* db = nullptr;
  // Read-write (a WAL database needs its -shm), but nothing is written, and no checkpoint on close:
  // what is left of a damaged write-ahead log stays as it was found.
  int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db != nullptr ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return Error{"cannot open the ledger " + path + ": " + message, ErrorCode::io_error};
  }
  sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
  sqlite3_busy_timeout(db, 5000);
  return std::unique_ptr<Ledger>(new Ledger(db, path));
}

Status Ledger::initialise() {
  // Two runs opening a new ledger at once: one finds it locked while the other switches it to WAL,
  // and SQLite does not wait there (no busy handler). Busy is not damage: try again, bounded.
  Status wal = exec("PRAGMA journal_mode=WAL");
  for (auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
       !wal && (sqlite3_errcode(db_) & 0xff) == SQLITE_BUSY && std::chrono::steady_clock::now() < deadline;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    wal = exec("PRAGMA journal_mode=WAL");
  }
  if (!wal) return untrusted("SQLite cannot read it: " + wal.error());
  if (auto s = quick_check(); !s) return s;
  for (const char* sql : {
           "PRAGMA synchronous=FULL",
           "CREATE TABLE IF NOT EXISTS runs (run_id TEXT PRIMARY KEY, pid INTEGER, pid_start_time INTEGER,"
           " experiment TEXT, journal TEXT, status TEXT, started TEXT DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),"
           " ended TEXT)",
           "CREATE TABLE IF NOT EXISTS entries (id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT, kind TEXT,"
           " record TEXT, state TEXT, error TEXT,"
           " created TEXT DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')), updated TEXT,"
           " revision INTEGER NOT NULL DEFAULT 0)",
           "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)",
       }) {
    if (auto st = exec(sql); !st) return Error{"cannot initialise the ledger " + path_ + ": " + st.error()};
  }
  // Ledgers from before the witness count the revisions of their records from here.
  bool has_revision = false;
  Statement columns(db_, "PRAGMA table_info(entries)");
  if (auto s = columns.each_row([&] { has_revision = has_revision || columns.text(1) == "revision"; }); !s) {
    return Error{"cannot initialise the ledger " + path_ + ": " + s.error()};
  }
  if (!has_revision) {
    if (auto st = exec("ALTER TABLE entries ADD COLUMN revision INTEGER NOT NULL DEFAULT 0"); !st) {
      return Error{"cannot initialise the ledger " + path_ + ": " + st.error()};
    }
  }
  return check_witness();
}

Status Ledger::quick_check() {
  Statement st(db_, "PRAGMA quick_check");
  std::string problems;
  int count = 0;
  auto s = st.each_row([&] {
    const std::string line = st.text(0);
    if (line == "ok") return;
    if (++count <= 3) problems += (problems.empty() ? "" : "; ") + line;
  });
  if (!s) return untrusted("SQLite's quick_check cannot read it through (" + s.error() + ")");
  if (count > 0) {
    return untrusted("SQLite's quick_check finds it damaged (" + problems +
                     (count > 3 ? "; and " + std::to_string(count - 3) + " more" : "") + ")");
  }
  return ok_status();
}

Status Ledger::check_witness() {
  const std::string wpath = witness_path(path_);
  std::error_code ec;
  const bool witnessed = std::filesystem::exists(std::filesystem::symlink_status(wpath, ec));
  // The witness is read before the rows: its lines are written after their rows are committed, so
  // a line another run adds meanwhile names a row that the later reads below do see.
  WitnessContents expected;
  if (witnessed) {
    auto contents = LedgerWitness::read(wpath);
    if (!contents) return untrusted(contents.error());
    expected = std::move(contents).value();
  }

  std::set<std::string> runs;
  Statement run_rows(db_, "SELECT run_id FROM runs");
  if (auto s = run_rows.each_row([&] { runs.insert(run_rows.text(0)); }); !s) return untrusted(s.error());
  struct Row {
    std::string run_id;
    std::int64_t revision;
  };
  std::map<std::int64_t, Row> entries;
  Statement entry_rows(db_, "SELECT id, run_id, revision FROM entries");
  if (auto s = entry_rows.each_row([&] {
        entries[entry_rows.integer(0)] = Row{entry_rows.text(1), entry_rows.integer(2)};
      });
      !s) {
    return untrusted(s.error());
  }
  bool started_witness = false;
  Statement meta(db_, "SELECT value FROM meta WHERE key='witness'");
  if (auto s = meta.each_row([&] { started_witness = true; }); !s) return untrusted(s.error());

  if (!witnessed && started_witness && (!runs.empty() || !entries.empty())) {
    // Another process may have created the ledger, its witness and a first run since we looked.
    if (std::filesystem::exists(std::filesystem::symlink_status(wpath, ec))) return check_witness();
    return untrusted("its witness " + wpath + " is gone, so whether it lost records cannot be told");
  }

  std::vector<std::string> lost;
  for (const WitnessedRun& run : expected.runs) {
    if (!runs.contains(run.run_id)) {
      lost.push_back("run " + run.run_id + " (runner pid " + std::to_string(run.pid) + ", experiment " +
                     run.experiment + ")");
    }
  }
  for (const WitnessedEntry& e : expected.entries) {
    auto it = entries.find(e.id);
    std::string what;
    if (it == entries.end() || it->second.run_id != e.run_id) what = "entry";
    else if (it->second.revision < e.revision) what = "the latest update of entry";
    if (what.empty()) continue;
    lost.push_back(what + " " + std::to_string(e.id) + " of run " + e.run_id + ": " + e.kind + " " + e.record);
  }
  if (!lost.empty()) {
    std::string list;
    for (std::size_t i = 0; i < lost.size() && i < 10; ++i) list += "\n  - " + lost[i];
    if (lost.size() > 10) list += "\n  - and " + std::to_string(lost.size() - 10) + " more";
    return untrusted("it lacks " + std::to_string(lost.size()) + " record(s) that its witness " + wpath +
                     " says were written (its write-ahead log " + path_ +
                     "-wal was lost, cut or overwritten, or the file was truncated):" + list + "\n");
  }

  auto witness = LedgerWitness::open(wpath);
  if (!witness) return Error{witness.error()};
  witness_ = std::move(witness).value();
  if (!witnessed && (!runs.empty() || !entries.empty())) {
    if (auto s = adopt(*witness_); !s) return s;
  }
  if (!started_witness) {
    if (auto s = exec("INSERT OR IGNORE INTO meta (key, value) VALUES ('witness', '1')"); !s) {
      return Error{"cannot initialise the ledger " + path_ + ": " + s.error()};
    }
  }
  return ok_status();
}

// A ledger written before it had a witness: the witness starts with what the ledger holds now.
Status Ledger::adopt(LedgerWitness& witness) {
  auto all_runs = runs();
  if (!all_runs) return Error{all_runs.error()};
  for (const RunRecord& r : *all_runs) {
    if (auto s = witness.run(WitnessedRun{r.run_id, r.pid, r.pid_start_time, r.experiment}); !s) return s;
  }
  Statement st(db_, "SELECT id, run_id, kind, record, revision FROM entries ORDER BY id");
  Status written = ok_status();
  auto s = st.each_row([&] {
    if (written) written = witness.entry({st.integer(0), st.text(1), st.text(2), st.integer(4), st.text(3)});
  });
  if (!s) return s;
  return written;
}

Status Ledger::exec(const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string message = err != nullptr ? err : "unknown error";
    sqlite3_free(err);
    return Error{message};
  }
  return ok_status();
}

Status Ledger::begin_run(const RunRecord& run) {
  std::lock_guard lock(mutex_);
  Statement st(
      db_, "INSERT INTO runs (run_id, pid, pid_start_time, experiment, journal, status) VALUES (?,?,?,?,?,'running')");
  if (!st.valid()) return Error{"ledger: " + st.error()};
  st.bind(1, run.run_id);
  st.bind(2, std::int64_t{run.pid});
  st.bind(3, static_cast<std::int64_t>(run.pid_start_time));
  st.bind(4, run.experiment);
  st.bind(5, run.journal);
  if (auto s = done(st); !s) return s;
  if (!witness_) return Error{"ledger: opened for inspection only"};
  return witness_->run(WitnessedRun{run.run_id, run.pid, run.pid_start_time, run.experiment});
}

Status Ledger::end_run(const std::string& run_id, const std::string& status) {
  std::lock_guard lock(mutex_);
  Statement st(db_, "UPDATE runs SET status=?, ended=strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE run_id=?");
  if (!st.valid()) return Error{"ledger: " + st.error()};
  st.bind(1, status);
  st.bind(2, run_id);
  return done(st);
}

Result<std::vector<RunRecord>> Ledger::runs_with_status(const std::string& status) {
  std::lock_guard lock(mutex_);
  Statement st(db_, (std::string(kRunColumns) + " WHERE status=? ORDER BY started").c_str());
  st.bind(1, status);
  std::vector<RunRecord> runs;
  if (auto s = st.each_row([&] { runs.push_back(run_from(st)); }); !s) return Error{s.error()};
  return runs;
}

Result<std::vector<RunRecord>> Ledger::runs() {
  std::lock_guard lock(mutex_);
  Statement st(db_, (std::string(kRunColumns) + " ORDER BY started").c_str());
  std::vector<RunRecord> runs;
  if (auto s = st.each_row([&] { runs.push_back(run_from(st)); }); !s) return Error{s.error()};
  return runs;
}

Result<std::int64_t> Ledger::record(const std::string& run_id, const std::string& kind, const std::string& record) {
  std::lock_guard lock(mutex_);
  Statement st(db_, "INSERT INTO entries (run_id, kind, record, state) VALUES (?,?,?,'pending')");
  if (!st.valid()) return Error{"ledger: " + st.error()};
  st.bind(1, run_id);
  st.bind(2, kind);
  st.bind(3, record);
  if (auto s = done(st); !s) return Error{s.error()};
  const auto id = static_cast<std::int64_t>(sqlite3_last_insert_rowid(db_));
  if (!witness_) return Error{"ledger: opened for inspection only"};
  if (auto s = witness_->entry({id, run_id, kind, 0, record}); !s) return Error{s.error()};
  return id;
}

Status Ledger::update_record(std::int64_t id, const std::string& record) {
  std::lock_guard lock(mutex_);
  Statement st(db_,
               "UPDATE entries SET record=?, revision=revision+1, updated=strftime('%Y-%m-%dT%H:%M:%fZ','now') "
               "WHERE id=? RETURNING run_id, kind, revision");
  st.bind(1, record);
  st.bind(2, id);
  std::vector<WitnessedEntry> updated;
  if (auto s = st.each_row([&] { updated.push_back({id, st.text(0), st.text(1), st.integer(2), record}); }); !s) {
    return s;
  }
  if (!witness_) return Error{"ledger: opened for inspection only"};
  for (const WitnessedEntry& e : updated) {
    if (auto s = witness_->entry(e); !s) return s;
  }
  return ok_status();
}

Status Ledger::set_state(std::int64_t id, EntryState state, const std::string& error) {
  std::lock_guard lock(mutex_);
  Statement st(db_, "UPDATE entries SET state=?, error=?, updated=strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE id=?");
  if (!st.valid()) return Error{"ledger: " + st.error()};
  st.bind(1, to_string(state));
  st.bind(2, error);
  st.bind(3, id);
  return done(st);
}

namespace {
Result<std::vector<LedgerEntry>> query_entries(sqlite3* db, const std::string& run_id, bool only_open) {
  std::string sql = "SELECT id, run_id, kind, record, state, error FROM entries WHERE 1=1";
  if (!run_id.empty()) sql += " AND run_id=?1";
  if (only_open) sql += " AND state IN ('pending','active','revert_failed') ORDER BY id DESC";
  else sql += " ORDER BY id";
  Statement st(db, sql.c_str());
  if (!run_id.empty()) st.bind(1, run_id);
  std::vector<LedgerEntry> out;
  if (auto s = st.each_row([&] {
        out.push_back(
            LedgerEntry{st.integer(0), st.text(1), st.text(2), st.text(3), state_from(st.text(4)), st.text(5)});
      });
      !s) {
    return Error{s.error()};
  }
  return out;
}
}  // namespace

Result<std::vector<LedgerEntry>> Ledger::open_entries(const std::string& run_id) {
  std::lock_guard lock(mutex_);
  return query_entries(db_, run_id, true);
}

Result<std::vector<LedgerEntry>> Ledger::entries(const std::string& run_id) {
  std::lock_guard lock(mutex_);
  return query_entries(db_, run_id, false);
}

}  // namespace chaosplus::runner
