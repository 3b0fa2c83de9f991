#pragma once
// A phase's `load` block run by the load engine on its own thread for the length of the phase,
// its per-second ticks handed to the runner, and its thresholds judged on the final figures.
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/event.h"
#include "core/halt_switch.h"
#include "load/engine.h"
#include "load/report.h"
#include "spec/experiment.h"

namespace chaosplus::runner {

struct ThresholdResult {
  std::string threshold;  // as written: "p99 < 250ms"
  bool held = true;
  double measured = 0;  // seconds, fraction, or requests per second
  std::string message;  // "p99 = 212ms, expected < 250ms"
};

// The engine's options for a load block that lasts `duration`.
Result<load::LoadOptions> to_load_options(const spec::Load& load, Duration duration);
// Judges each threshold on the final report (latencies from the corrected histogram).
std::vector<ThresholdResult> judge_thresholds(const spec::Load& load, const load::Report& report);
// The load.summary event: figures and thresholds.
Event summary_event(const spec::Load& load, const load::Report& report, const std::vector<ThresholdResult>& results);

class PhaseLoad {
 public:
  using TickHandler = std::function<void(const load::Tick&)>;
  // Starts sending at once; ticks arrive on the load's thread.
  PhaseLoad(const spec::Load& load, load::LoadOptions options, TickHandler on_tick);
  ~PhaseLoad();
  PhaseLoad(const PhaseLoad&) = delete;
  PhaseLoad& operator=(const PhaseLoad&) = delete;

  void stop() { stop_.trigger("phase over"); }  // ends it early; safe from any thread
  // Waits for the load to end; the report, or why it could not run.
  Result<load::Report> finish();

 private:
  HaltSwitch stop_;
  std::optional<Result<load::Report>> result_;
  std::thread thread_;
};

}  // namespace chaosplus::runner
