#include "runner/store_recovery.h"

#include <fstream>
#include <ostream>
#include <sstream>

#include "core/event_json.h"
#include "runner/provenance.h"
#include "runner/recovery.h"
#include "runner/run_recorder.h"

namespace chaosplus::runner {
namespace {

constexpr std::size_t kReplayBatch = 500;

// The journal's complete lines; a last one without its newline may be cut short and is left out
// (as read_journal does), so the store never holds an event the journal does not.
Result<std::vector<std::string>> complete_lines(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{"cannot read the journal " + path, ErrorCode::io_error};
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  std::vector<std::string> lines;
  for (std::size_t start = 0;;) {
    const std::size_t end = text.find('\n', start);
    if (end == std::string::npos) break;
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

std::string text_if_unchanged(const std::string& path, const std::string& sha256) {
  auto now = file_sha256(path);
  if (!now || sha256.empty() || *now != sha256) return {};
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

}  // namespace

Result<Replay> replay_journal(store::Store& store, const std::string& run_id, const std::string& journal_path) {
  auto lines = complete_lines(journal_path);
  if (!lines) return lines.failure();
  auto existing = store.find_run(run_id);
  if (!existing) return existing.failure();
  bool have_row = existing->has_value() && (*existing)->run_id == run_id;
  std::optional<store::RunRow> row = have_row ? std::optional(**existing) : std::nullopt;

  Replay replay;
  std::vector<store::StoredEvent> batch;
  const auto flush = [&]() -> Status {
    Status s = batch.empty() ? ok_status() : store.append_events(run_id, batch);
    batch.clear();
    return s;
  };
  for (std::size_t i = 0; i < lines->size(); ++i) {
    const std::string& line = (*lines)[i];
    auto event = parse_event_json(line);
    if (!event) {
      return Error{journal_path + ":" + std::to_string(i + 1) + ": not a journal event: " + event.error(),
                   ErrorCode::untrusted};
    }
    if (event->type == "run.started" && !row) {
      row = run_row_from_started(*event, text_if_unchanged(event->text("file"), event->text("file_sha256")));
      if (auto s = store.begin_run(*row); !s) return s.failure();
    }
    const bool verdict = event->type == "run.verdict";
    const Event copy = verdict ? *event : Event();
    batch.push_back({static_cast<std::int64_t>(i + 1), std::move(event).value(), line});
    if (batch.size() >= kReplayBatch || verdict) {
      if (auto s = flush(); !s) return s.failure();
    }
    if (verdict && row) {
      if (auto s = store.finish_run(finished_row(*row, copy)); !s) return s.failure();
      replay.finished = true;
    }
  }
  if (auto s = flush(); !s) return s.failure();
  replay.events = static_cast<std::int64_t>(lines->size());
  return replay;
}

void mark_interrupted(store::Store& store, const RunRecord& run, std::ostream& out) {
  auto replay = replay_journal(store, run.run_id, run.journal);
  if (!replay) {
    out << "recover: the results store " << store.describe() << " may miss events of run " << run.run_id << ": "
        << replay.error() << "\n";
  }
  if (replay && replay->finished) return;  // it died after its verdict: finished it is
  if (auto s = store.set_status(run.run_id, store::RunStatus::interrupted); !s && s.code() != ErrorCode::not_found) {
    out << "recover: cannot mark run " << run.run_id << " interrupted: " << s.error() << "\n";
  } else if (s) {
    out << "recover: run " << run.run_id << " marked interrupted in the results store"
        << (replay ? " (" + std::to_string(replay->events) + " events from its journal)" : std::string()) << "\n";
  }
}

void mark_recovered(store::Store& store, const RunRecord& run, std::ostream& out) {
  auto row = store.find_run(run.run_id);
  if (!row || !row->has_value() || (*row)->run_id != run.run_id) return;
  if ((*row)->status != store::RunStatus::interrupted) return;
  if (auto s = store.set_status(run.run_id, store::RunStatus::recovered); !s) {
    out << "recover: cannot mark run " << run.run_id << " recovered: " << s.error() << "\n";
  }
}

int reconcile_store(store::Store& store, Ledger& ledger, std::ostream& out) {
  store::HistoryFilter running;
  running.status = store::RunStatus::running;
  running.limit = 0;
  auto rows = store.history(running);
  if (!rows) {
    out << "recover: " << rows.error() << "\n";
    return 0;
  }
  auto records = ledger.runs();
  if (!records) return 0;
  const std::string host = host_name();
  int reconciled = 0;
  for (const store::RunRow& row : *rows) {
    if (row.host != host) continue;
    const RunRecord* record = nullptr;
    for (const RunRecord& r : *records) {
      if (r.run_id == row.run_id) record = &r;
    }
    if (record == nullptr || record->status == "running") continue;  // not ours, or still going
    auto replay = replay_journal(store, row.run_id, record->journal.empty() ? row.journal : record->journal);
    if (!replay) {
      out << "recover: run " << row.run_id << ": " << replay.error() << "\n";
    }
    if (!replay || !replay->finished) {
      const bool crashed = record->status.starts_with("crashed");
      const auto status = record->status == "crashed, recovered" ? store::RunStatus::recovered
                          : crashed                              ? store::RunStatus::interrupted
                                                                 : store::RunStatus::finished;
      (void)store.set_status(row.run_id, status);
    }
    ++reconciled;
  }
  return reconciled;
}

}  // namespace chaosplus::runner
