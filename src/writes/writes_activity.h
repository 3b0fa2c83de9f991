#pragma once
// The writes kind of phase activity: the write workload (writes/workload.h) for the length of the
// phase, following fault.injected on the bus; at the end the table is read back and analyzed
// (writes/history.h): a `writes.summary` event with every figure, the attempts in a JSONL file when
// asked, and each threshold judged (metric `writes.<name>.<figure>`).
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/activity.h"
#include "writes/history.h"
#include "writes/workload.h"
#include "writes/writes_spec.h"

namespace chaosplus::writes {

// A figure of the analysis by its threshold name (writes_spec.h: metrics()), in seconds for
// durations; unset when it was not measured (no fault seen, no write after it, no promotion seen,
// no read-back).
std::optional<double> measure(const Analysis& analysis, bool read_back, std::string_view metric);
// Judges each threshold; an unmeasured figure fails its threshold and says why.
std::vector<Judgment> judge_thresholds(const WritesSpec& spec, const Analysis& analysis, const std::string& read_back_error);
// The writes.summary event (docs/journal.md).
Event summary_event(const WritesSpec& spec, const Analysis& analysis, const WorkloadResult& result,
                    const std::vector<Judgment>& results);
// One JSON line per attempt, times in ms from the workload's start; `committed` tells whether the
// read-back found it (absent when the read-back failed).
Status write_history(const std::string& path, const WorkloadResult& result);

class WritesActivity : public Activity {
 public:
  WritesActivity(const WritesSpec& spec, ActivityContext context);
  ~WritesActivity() override;
  WritesActivity(const WritesActivity&) = delete;
  WritesActivity& operator=(const WritesActivity&) = delete;

  // Connects, creates the table, publishes writes.started and starts the clients.
  Status start(EventBus& bus, HaltSwitch& halt) override;
  void stop() override;
  // Waits for the clients, reads back, analyzes, publishes writes.summary; the judgments.
  Result<std::vector<Judgment>> finish() override;

 private:
  const WritesSpec spec_;  // a copy: the activity may outlive the model it was made from
  ActivityContext context_;
  EventBus* bus_ = nullptr;
  // Shared with the bus subscriber, which may outlive this activity.
  std::shared_ptr<Workload> workload_;
  bool finished_ = false;
};

}  // namespace chaosplus::writes
