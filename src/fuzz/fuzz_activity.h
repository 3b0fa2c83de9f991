#pragma once
// The fuzz kind of phase activity: the fuzz engine on its own thread for the length of the phase
// (or its own `duration`), following the run's events (phase, faults, target processes) through a
// ChaosContext so every finding is stamped with the faults active when it appeared; a
// `fuzz.finding` event per new finding, a `fuzz.summary` at the end, and each threshold judged on
// the unique findings (metric `fuzz.<name>.findings`).
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/activity.h"
#include "core/halt_switch.h"
#include "fuzz/chaos_context.h"
#include "fuzz/engine.h"
#include "fuzz/fuzz_spec.h"

namespace chaosplus::fuzz {

// The engine's options for a fuzz that lasts `duration` (the spec's own, else this).
FuzzOptions to_fuzz_options(const FuzzSpec& spec, Duration duration);
// Judges each threshold on the unique findings; metrics "fuzz.<name>.findings" and, with a
// severity, "fuzz.<name>.findings{severity>=high}".
std::vector<Judgment> judge_thresholds(const FuzzSpec& spec, const std::vector<Finding>& findings);
// The fuzz.summary event (docs/journal.md).
Event summary_event(const FuzzSpec& spec, const FuzzSummary& summary, const std::vector<Judgment>& results);

class FuzzActivity : public Activity {
 public:
  FuzzActivity(const FuzzSpec& spec, ActivityContext context);
  ~FuzzActivity() override;
  FuzzActivity(const FuzzActivity&) = delete;
  FuzzActivity& operator=(const FuzzActivity&) = delete;

  // Loads the document (an error names its file and line), publishes fuzz.started and starts.
  Status start(EventBus& bus, HaltSwitch& halt) override;
  void stop() override { stop_.trigger("phase over"); }
  // Waits for the engine to end, publishes fuzz.summary; the thresholds' judgments.
  Result<std::vector<Judgment>> finish() override;

 private:
  const FuzzSpec spec_;  // a copy: the activity may outlive the model it was made from
  ActivityContext context_;
  EventBus* bus_ = nullptr;
  HaltSwitch stop_;
  ChaosContext chaos_;
  FuzzOptions options_;
  FuzzHooks hooks_;
  std::optional<Result<FuzzSummary>> result_;  // set by the engine's thread before it ends
  std::thread thread_;
};

}  // namespace chaosplus::fuzz
