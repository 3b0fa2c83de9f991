#include "store/sql_store.h"

#include <mutex>

#include "core/event_json.h"
#include "store/derived_rows.h"
#include "store/migrations.h"

namespace chaosplus::store {
namespace {

std::int64_t to_ms(WallTime t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
WallTime from_ms(std::int64_t ms) { return WallTime(std::chrono::milliseconds(ms)); }

std::int64_t integer(const std::optional<std::string>& text) {
  if (!text || text->empty()) return 0;
  try {
    return std::stoll(*text);
  } catch (const std::exception&) {
    return 0;
  }
}
double real(const std::optional<std::string>& text) {
  if (!text || text->empty()) return 0;
  try {
    return std::stod(*text);
  } catch (const std::exception&) {
    return 0;
  }
}
std::string str(const std::optional<std::string>& text) { return text.value_or(""); }

constexpr const char* kRunColumns =
    "SELECT run_id, experiment, file, file_text, file_sha256, journal, host, status, verdict, exit_code, reasons,"
    " started_ms, ended_ms, events FROM runs";

RunRow run_from(const std::vector<std::optional<std::string>>& r) {
  RunRow run;
  run.run_id = str(r[0]);
  run.experiment = str(r[1]);
  run.file = str(r[2]);
  run.file_text = str(r[3]);
  run.file_sha256 = str(r[4]);
  run.journal = str(r[5]);
  run.host = str(r[6]);
  run.status = parse_run_status(str(r[7])).value_or(RunStatus::running);
  run.verdict = str(r[8]);
  run.exit_code = static_cast<int>(integer(r[9]));
  run.reasons = str(r[10]);
  run.started = from_ms(integer(r[11]));
  const std::int64_t ended = integer(r[12]);
  run.ended = ended == 0 ? WallTime{} : from_ms(ended);
  run.events = integer(r[13]);
  return run;
}

std::string wall_text(WallTime t) { return t == WallTime{} ? std::string() : format_wall_time(t); }

class SqlStore final : public Store {
 public:
  explicit SqlStore(std::unique_ptr<SqlConnection> connection) : db_(std::move(connection)) {}

  Status migrate();
  std::string describe() const override { return db_->describe(); }
  Status begin_run(const RunRow& run) override;
  Status append_events(const std::string& run_id, std::span<const StoredEvent> events) override;
  Status finish_run(const RunRow& run) override;
  Status set_status(const std::string& run_id, RunStatus status) override;
  Result<std::vector<RunRow>> history(const HistoryFilter& filter) override;
  Result<std::optional<RunRow>> find_run(const std::string& id_or_prefix) override;
  Result<std::optional<RunRow>> previous_run(const RunRow& run) override;
  Result<std::vector<StoredEvent>> events(const std::string& run_id, std::int64_t after_seq,
                                          std::size_t limit) override;
  Result<std::vector<MetricPoint>> metrics(const std::string& run_id, const std::string& name_prefix) override;
  Result<std::vector<FaultRow>> faults(const std::string& run_id) override;
  Result<std::vector<FindingRow>> findings(const std::string& run_id) override;

 private:
  // Runs `body` in a write transaction: committed when it returns ok, rolled back otherwise.
  template <typename Body>
  Status in_transaction(Body&& body) {
    if (auto s = db_->begin_write(); !s) return s;
    Status s = body();
    if (!s) {
      (void)db_->run("ROLLBACK");
      return s;
    }
    if (auto r = db_->run("COMMIT"); !r) {
      (void)db_->run("ROLLBACK");
      return r.failure();
    }
    return ok_status();
  }
  Result<std::int64_t> stored_version();
  Result<std::vector<RunRow>> runs_where(const std::string& where, const std::vector<SqlValue>& params);

  std::mutex mutex_;
  std::unique_ptr<SqlConnection> db_;  // guarded by mutex_
};

Result<std::int64_t> SqlStore::stored_version() {
  auto r = db_->run("SELECT MAX(version) FROM schema_version");
  if (!r) return r.failure();
  return r->rows.empty() ? 0 : integer(r->rows[0][0]);
}

Status SqlStore::migrate() {
  std::lock_guard lock(mutex_);
  if (auto r = db_->run("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)"); !r) return r.failure();
  const auto& list = migrations();
  const auto latest = static_cast<std::int64_t>(list.size());
  for (;;) {
    bool done = false;
    Status s = in_transaction([&]() -> Status {
      // Read inside the write transaction: two processes opening a new store migrate it once.
      auto version = stored_version();
      if (!version) return version.failure();
      if (*version > latest) {
        return Error{"the results store " + describe() + " has schema version " + std::to_string(*version) +
                         ", newer than this chaosplus knows (" + std::to_string(latest) +
                         "): use a newer chaosplus with it, or another --store",
                     ErrorCode::invalid_argument};
      }
      if (*version == latest) {
        done = true;
        return ok_status();
      }
      for (const std::string& sql : list[static_cast<std::size_t>(*version)]) {
        if (auto r = db_->run(sql); !r) return r.failure();
      }
      if (auto r = db_->run("INSERT INTO schema_version (version) VALUES ($1)", {*version + 1}); !r) return r.failure();
      return ok_status();
    });
    if (!s) return s;
    if (done) return ok_status();
  }
}

Status SqlStore::begin_run(const RunRow& run) {
  std::lock_guard lock(mutex_);
  // A run begun again (a journal replayed after its row was written) keeps its row and events.
  auto r = db_->run(
      "INSERT INTO runs (run_id, experiment, file, file_text, file_sha256, journal, host, status, verdict, exit_code,"
      " reasons, started, started_ms, ended, ended_ms, events)"
      " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, 0) ON CONFLICT (run_id) DO NOTHING",
      {run.run_id, run.experiment, run.file, run.file_text, run.file_sha256, run.journal, run.host,
       to_string(run.status), run.verdict, std::int64_t{run.exit_code}, run.reasons, wall_text(run.started),
       to_ms(run.started), wall_text(run.ended), run.ended == WallTime{} ? 0 : to_ms(run.ended)});
  if (!r) return r.failure();
  return ok_status();
}

Status SqlStore::append_events(const std::string& run_id, std::span<const StoredEvent> events) {
  if (events.empty()) return ok_status();
  std::lock_guard lock(mutex_);
  return in_transaction([&]() -> Status {
    std::int64_t added = 0;
    for (const StoredEvent& stored : events) {
      const Event& e = stored.event;
      const std::string line = stored.line.empty() ? to_json_line(e) : stored.line;
      auto r = db_->run(
          "INSERT INTO events (run_id, seq, time, elapsed_ms, type, line) VALUES ($1, $2, $3, $4, $5, $6)"
          " ON CONFLICT (run_id, seq) DO NOTHING",
          {run_id, stored.seq, format_wall_time(e.wall), std::chrono::duration<double, std::milli>(e.elapsed).count(),
           e.type, line});
      if (!r) return r.failure();
      if (r->changed == 0) continue;  // stored before: its derived rows are there too
      ++added;
      for (const SqlStatement& st : derived_rows(run_id, stored.seq, e, line)) {
        if (auto d = db_->run(st.sql, st.params); !d) return d.failure();
      }
    }
    auto r = db_->run("UPDATE runs SET events = events + $1 WHERE run_id = $2", {added, run_id});
    if (!r) return r.failure();
    return ok_status();
  });
}

Status SqlStore::finish_run(const RunRow& run) {
  std::lock_guard lock(mutex_);
  auto r = db_->run(
      "UPDATE runs SET status = $1, verdict = $2, exit_code = $3, reasons = $4, ended = $5, ended_ms = $6"
      " WHERE run_id = $7",
      {to_string(run.status), run.verdict, std::int64_t{run.exit_code}, run.reasons, wall_text(run.ended),
       run.ended == WallTime{} ? 0 : to_ms(run.ended), run.run_id});
  if (!r) return r.failure();
  if (r->changed == 0)
    return Error{"the results store " + describe() + " has no run " + run.run_id, ErrorCode::not_found};
  return ok_status();
}

Status SqlStore::set_status(const std::string& run_id, RunStatus status) {
  std::lock_guard lock(mutex_);
  auto r = db_->run("UPDATE runs SET status = $1 WHERE run_id = $2", {to_string(status), run_id});
  if (!r) return r.failure();
  if (r->changed == 0) return Error{"the results store " + describe() + " has no run " + run_id, ErrorCode::not_found};
  return ok_status();
}

Result<std::vector<RunRow>> SqlStore::runs_where(const std::string& where, const std::vector<SqlValue>& params) {
  auto r = db_->run(std::string(kRunColumns) + where, params);
  if (!r) return r.failure();
  std::vector<RunRow> runs;
  for (const auto& row : r->rows) runs.push_back(run_from(row));
  return runs;
}

Result<std::vector<RunRow>> SqlStore::history(const HistoryFilter& filter) {
  std::lock_guard lock(mutex_);
  std::string where;
  std::vector<SqlValue> params;
  const auto add = [&](const std::string& condition, SqlValue value) {
    params.push_back(std::move(value));
    where += (where.empty() ? " WHERE " : " AND ") + condition + " $" + std::to_string(params.size());
  };
  if (!filter.experiment.empty()) add("experiment =", filter.experiment);
  if (!filter.verdict.empty()) add("verdict =", filter.verdict);
  if (filter.status) add("status =", to_string(*filter.status));
  if (filter.since) add("started_ms >=", to_ms(*filter.since));
  if (filter.until) add("started_ms <", to_ms(*filter.until));
  where += " ORDER BY started_ms DESC, run_id DESC";
  if (filter.limit > 0) {
    params.emplace_back(static_cast<std::int64_t>(filter.limit));
    where += " LIMIT $" + std::to_string(params.size());
  }
  return runs_where(where, params);
}

Result<std::optional<RunRow>> SqlStore::find_run(const std::string& id_or_prefix) {
  if (id_or_prefix.empty())
    return Error{"no run id given, expected an id or a prefix of one", ErrorCode::invalid_argument};
  std::lock_guard lock(mutex_);
  auto exact = runs_where(" WHERE run_id = $1", {id_or_prefix});
  if (!exact) return exact.failure();
  if (!exact->empty()) return std::optional<RunRow>(exact->front());
  auto matches = runs_where(" WHERE SUBSTR(run_id, 1, $2) = $1 ORDER BY run_id LIMIT 6",
                            {id_or_prefix, static_cast<std::int64_t>(id_or_prefix.size())});
  if (!matches) return matches.failure();
  if (matches->empty()) return std::optional<RunRow>();
  if (matches->size() > 1) {
    std::string ids;
    for (std::size_t i = 0; i < matches->size() && i < 5; ++i) ids += (i ? ", " : "") + (*matches)[i].run_id;
    if (matches->size() > 5) ids += ", ...";
    return Error{"the run '" + id_or_prefix + "' is ambiguous: it begins " + ids + "; give more of the id",
                 ErrorCode::invalid_argument};
  }
  return std::optional<RunRow>(matches->front());
}

Result<std::optional<RunRow>> SqlStore::previous_run(const RunRow& run) {
  std::lock_guard lock(mutex_);
  auto r = runs_where(
      " WHERE experiment = $1 AND run_id <> $2 AND status = 'finished' AND started_ms <= $3"
      " ORDER BY started_ms DESC, run_id DESC LIMIT 2",
      {run.experiment, run.run_id, to_ms(run.started)});
  if (!r) return r.failure();
  for (const RunRow& candidate : *r) {
    // Two runs started in the same millisecond: the one with the smaller id came first.
    if (candidate.started < run.started || candidate.run_id < run.run_id) return std::optional<RunRow>(candidate);
  }
  return std::optional<RunRow>();
}

Result<std::vector<StoredEvent>> SqlStore::events(const std::string& run_id, std::int64_t after_seq,
                                                  std::size_t limit) {
  std::lock_guard lock(mutex_);
  std::string sql = "SELECT seq, line FROM events WHERE run_id = $1 AND seq > $2 ORDER BY seq";
  std::vector<SqlValue> params{run_id, after_seq};
  if (limit > 0) {
    sql += " LIMIT $3";
    params.emplace_back(static_cast<std::int64_t>(limit));
  }
  auto r = db_->run(sql, params);
  if (!r) return r.failure();
  std::vector<StoredEvent> out;
  out.reserve(r->rows.size());
  for (const auto& row : r->rows) {
    StoredEvent stored;
    stored.seq = integer(row[0]);
    stored.line = str(row[1]);
    auto event = parse_event_json(stored.line);
    if (!event) {
      return Error{"the results store " + describe() + ": run " + run_id + " event " + std::to_string(stored.seq) +
                       ": " + event.error(),
                   ErrorCode::untrusted};
    }
    stored.event = std::move(event).value();
    out.push_back(std::move(stored));
  }
  return out;
}

Result<std::vector<MetricPoint>> SqlStore::metrics(const std::string& run_id, const std::string& name_prefix) {
  std::lock_guard lock(mutex_);
  auto r = db_->run(
      "SELECT seq, elapsed_ms, name, value FROM metrics WHERE run_id = $1 AND SUBSTR(name, 1, $3) = $2"
      " ORDER BY seq, name",
      {run_id, name_prefix, static_cast<std::int64_t>(name_prefix.size())});
  if (!r) return r.failure();
  std::vector<MetricPoint> out;
  for (const auto& row : r->rows) out.push_back({integer(row[0]), real(row[1]), str(row[2]), real(row[3])});
  return out;
}

Result<std::vector<FaultRow>> SqlStore::faults(const std::string& run_id) {
  std::lock_guard lock(mutex_);
  auto r = db_->run(
      "SELECT seq, kind, target, summary, phase, ledger_id, injected_at, injected_ms, reverted_at, reverted_ms,"
      " revert_ok, revert_error FROM faults WHERE run_id = $1 ORDER BY seq",
      {run_id});
  if (!r) return r.failure();
  std::vector<FaultRow> out;
  for (const auto& row : r->rows) {
    FaultRow f;
    f.seq = integer(row[0]);
    f.kind = str(row[1]);
    f.target = str(row[2]);
    f.summary = str(row[3]);
    f.phase = str(row[4]);
    f.ledger_id = str(row[5]);
    f.injected_at = parse_wall_time(str(row[6])).value_or(WallTime{});
    f.injected_ms = real(row[7]);
    f.reverted_at = parse_wall_time(str(row[8]));
    f.reverted_ms = real(row[9]);
    if (const std::int64_t ok = integer(row[10]); ok >= 0) f.revert_ok = ok == 1;
    f.revert_error = str(row[11]);
    out.push_back(std::move(f));
  }
  return out;
}

Result<std::vector<FindingRow>> SqlStore::findings(const std::string& run_id) {
  std::lock_guard lock(mutex_);
  auto r = db_->run(
      "SELECT seq, elapsed_ms, source, finding_id, severity, title, finding FROM findings WHERE run_id = $1"
      " ORDER BY seq",
      {run_id});
  if (!r) return r.failure();
  std::vector<FindingRow> out;
  for (const auto& row : r->rows) {
    out.push_back({integer(row[0]), real(row[1]), str(row[2]), str(row[3]), str(row[4]), str(row[5]), str(row[6])});
  }
  return out;
}

}  // namespace

Result<std::unique_ptr<Store>> open_sql_store(std::unique_ptr<SqlConnection> connection) {
  auto store = std::make_unique<SqlStore>(std::move(connection));
  if (auto s = store->migrate(); !s) return s.failure();
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace chaosplus::store
