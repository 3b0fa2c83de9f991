#include "runner/run_recorder.h"

#include <chrono>

namespace chaosplus::runner {
namespace {

using namespace std::chrono_literals;

constexpr auto kBatchWindow = 100ms;     // the most a committed event lags behind the journal
constexpr std::size_t kBatchSize = 256;  // or sooner when this many are waiting

}  // namespace

store::RunRow run_row_from_started(const Event& started, std::string file_text) {
  store::RunRow row;
  row.run_id = started.text("run_id");
  row.experiment = started.text("experiment");
  row.file = started.text("file");
  row.file_text = std::move(file_text);
  row.file_sha256 = started.text("file_sha256");
  row.journal = started.text("journal");
  row.host = started.text("host");
  row.status = store::RunStatus::running;
  row.started = started.wall;
  return row;
}

store::RunRow finished_row(store::RunRow run, const Event& verdict) {
  run.status = store::RunStatus::finished;
  run.verdict = verdict.text("verdict");
  run.exit_code = static_cast<int>(verdict.number("exit_code", -1));
  run.reasons = verdict.text("reasons");
  run.ended = verdict.wall;
  return run;
}

RunRecorder::RunRecorder(store::Store& store, std::string run_id, std::string file_text)
    : store_(store), run_id_(std::move(run_id)), file_text_(std::move(file_text)) {
  writer_ = std::thread([this] { write_loop(); });
}

RunRecorder::~RunRecorder() { close(); }

void RunRecorder::on_event(const Event& event) {
  if (event.type == "run.started") {
    // The row at once, the one write on the bus's thread (before any fault): a store that fails
    // later still has the run, for recover to complete from the journal.
    started_ = run_row_from_started(event, file_text_);
    if (Status s = store_.begin_run(started_); !s) fail(s.error());
  }
  std::unique_lock lock(mutex_);
  // Numbered even after a failure or close: the seq is the event's line in the journal.
  queue_.push_back({next_seq_++, event, {}});
  if (closed_) {
    // After the writer has stopped (something published while the run is torn down): written
    // here, so the store still misses none of the journal's events.
    std::vector<store::StoredEvent> late;
    late.swap(queue_);
    lock.unlock();
    write(late);
  } else if (queue_.size() >= kBatchSize) {
    wake_.notify_one();
  }
}

void RunRecorder::close() {
  {
    std::lock_guard lock(mutex_);
    if (closing_) return;
    closing_ = true;
  }
  wake_.notify_one();
  if (writer_.joinable()) writer_.join();
  std::vector<store::StoredEvent> rest;  // queued between the writer's last look and now
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
    rest.swap(queue_);
  }
  write(rest);
}

std::optional<std::string> RunRecorder::failure() const {
  std::lock_guard lock(mutex_);
  return failure_;
}

void RunRecorder::fail(const std::string& why) {
  std::lock_guard lock(mutex_);
  if (!failure_) failure_ = why;
}

void RunRecorder::write_loop() {
  std::vector<store::StoredEvent> batch;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait_for(lock, kBatchWindow, [this] { return closing_ || queue_.size() >= kBatchSize; });
      if (queue_.empty() && closing_) return;
      batch.swap(queue_);
    }
    write(batch);
    batch.clear();
  }
}

// In order: events in transactions, the row finished once run.verdict is stored.
// After the first failure nothing more is written: the store would have a gap the journal has not.
void RunRecorder::write(std::vector<store::StoredEvent>& batch) {
  if (failure()) return;
  std::size_t from = 0;
  const auto append_until = [&](std::size_t end) -> bool {
    if (end <= from) return true;
    Status s = store_.append_events(run_id_, std::span(batch).subspan(from, end - from));
    from = end;
    if (!s) fail(s.error());
    return s.ok();
  };
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const Event& e = batch[i].event;
    if (e.type == "run.verdict") {
      if (!append_until(i + 1)) return;
      if (Status s = store_.finish_run(finished_row(started_, e)); !s) return fail(s.error());
    }
  }
  append_until(batch.size());
}

}  // namespace chaosplus::runner
