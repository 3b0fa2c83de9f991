#include "runner/ledger.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

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
    sqlite3_bind_text(stmt_, index, value.c_str(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
  }
  void bind(int index, std::int64_t value) { sqlite3_bind_int64(stmt_, index, value); }
  int step() { return sqlite3_step(stmt_); }
  std::string text(int column) const {
    const unsigned char* t = sqlite3_column_text(stmt_, column);
    return t == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(t));
  }
  std::int64_t integer(int column) const { return sqlite3_column_int64(stmt_, column); }
  std::string error() const { return sqlite3_errmsg(db_); }

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

Ledger::Ledger(sqlite3* db) : db_(db) {}

Ledger::~Ledger() { sqlite3_close(db_); }

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
  int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                           nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db != nullptr ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return Error{"cannot open the ledger " + path + ": " + message};
  }
  sqlite3_busy_timeout(db, 5000);
  std::unique_ptr<Ledger> ledger(new Ledger(db));  // private constructor
  for (const char* sql : {
           "PRAGMA journal_mode=WAL",
           "PRAGMA synchronous=FULL",
           "CREATE TABLE IF NOT EXISTS runs (run_id TEXT PRIMARY KEY, pid INTEGER, pid_start_time INTEGER,"
           " experiment TEXT, journal TEXT, status TEXT, started TEXT DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),"
           " ended TEXT)",
           "CREATE TABLE IF NOT EXISTS entries (id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT, kind TEXT,"
           " record TEXT, state TEXT, error TEXT,"
           " created TEXT DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')), updated TEXT)",
       }) {
    if (auto st = ledger->exec(sql); !st) return Error{"cannot initialise the ledger " + path + ": " + st.error()};
  }
  return ledger;
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
  Statement st(db_,
               "INSERT INTO runs (run_id, pid, pid_start_time, experiment, journal, status) VALUES (?,?,?,?,?,'running')");
  if (!st.valid()) return Error{"ledger: " + st.error()};
  st.bind(1, run.run_id);
  st.bind(2, std::int64_t{run.pid});
  st.bind(3, static_cast<std::int64_t>(run.pid_start_time));
  st.bind(4, run.experiment);
  st.bind(5, run.journal);
  return done(st);
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
  Statement st(db_, "SELECT run_id, pid, pid_start_time, experiment, journal, status FROM runs WHERE status=? ORDER BY started");
  if (!st.valid()) return Error{"ledger: " + st.error()};
  st.bind(1, status);
  std::vector<RunRecord> runs;
  while (st.step() == SQLITE_ROW) {
    runs.push_back(RunRecord{st.text(0), static_cast<int>(st.integer(1)),
                             static_cast<unsigned long long>(st.integer(2)), st.text(3), st.text(4), st.text(5)});
  }
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
  return static_cast<std::int64_t>(sqlite3_last_insert_rowid(db_));
}

Status Ledger::update_record(std::int64_t id, const std::string& record) {
  std::lock_guard lock(mutex_);
  Statement st(db_, "UPDATE entries SET record=?, updated=strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE id=?");
  if (!st.valid()) return Error{"ledger: " + st.error()};
  st.bind(1, record);
  st.bind(2, id);
  return done(st);
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
  if (!st.valid()) return Error{"ledger: " + st.error()};
  if (!run_id.empty()) st.bind(1, run_id);
  std::vector<LedgerEntry> out;
  while (st.step() == SQLITE_ROW) {
    out.push_back(LedgerEntry{st.integer(0), st.text(1), st.text(2), st.text(3), state_from(st.text(4)), st.text(5)});
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
