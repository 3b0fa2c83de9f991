#pragma once
// Records a run into the results store as it goes: a bus subscriber beside the journal that
// numbers the events 1, 2, 3... exactly as the journal's lines (both see every event in the same
// order), creates the run's row at run.started (at once, before any fault), and finishes it at
// run.verdict. Events are written by a thread of its own, in batches (every 100 ms or 256 events,
// one transaction each), so the bus never waits for them. When the store fails the recorder stops
// writing (the run goes on, the journal stays complete) and says why once, through failure();
// `chaosplus recover` replays the journal into the store later.
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/event.h"
#include "store/store.h"

namespace chaosplus::runner {

class RunRecorder {
 public:
  // `file_text`: the experiment file as run, read once at the start.
  RunRecorder(store::Store& store, std::string run_id, std::string file_text);
  ~RunRecorder();  // close()
  RunRecorder(const RunRecorder&) = delete;
  RunRecorder& operator=(const RunRecorder&) = delete;

  void on_event(const Event& event);           // the bus subscriber: quick, never touches the database
  void close();                                // writes what is queued and stops the writer
  std::optional<std::string> failure() const;  // the first error of the store, if any

 private:
  void write_loop();
  void write(std::vector<store::StoredEvent>& batch);
  void fail(const std::string& why);

  store::Store& store_;
  const std::string run_id_;
  const std::string file_text_;
  store::RunRow started_;  // the row, set at run.started before it is queued; then read by the writer

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<store::StoredEvent> queue_;  // guarded by mutex_
  std::int64_t next_seq_ = 1;              // guarded by mutex_
  bool closing_ = false;                   // guarded by mutex_
  bool closed_ = false;                    // the writer has stopped; guarded by mutex_
  std::optional<std::string> failure_;     // guarded by mutex_
  std::thread writer_;
};

// The run's row as run.started describes it (run_id, experiment, file, file_sha256, host, journal,
// its time), status running.
store::RunRow run_row_from_started(const Event& started, std::string file_text);
// `run` finished as run.verdict says (verdict, exit code, reasons, its time).
store::RunRow finished_row(store::RunRow run, const Event& verdict);

}  // namespace chaosplus::runner
