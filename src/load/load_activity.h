#pragma once
// The load kind of phase activity: the load engine on its own thread for the length of the phase,
// a `load.tick` event per second on the bus (the stream guardrails on a load read), a
// `load.summary` at the end, and each threshold judged on the final figures.
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/activity.h"
#include "core/halt_switch.h"
#include "load/load_options.h"
#include "load/load_spec.h"
#include "load/report.h"

namespace chaosplus::load {

// The engine's options for a load that lasts `duration`.
Result<LoadOptions> to_load_options(const LoadSpec& load, Duration duration);
// Judges each threshold on the final report (latencies from the corrected histogram); metrics are
// named on the stream: "load.<name>.latency_p99".
std::vector<Judgment> judge_thresholds(const LoadSpec& load, const Report& report);
// The load.tick event of a load's second on the run's timeline: tick_event plus the load's name and
// the window it covers (from_ms/to_ms since the run's start), given when the load started.
Event load_tick_event(const std::string& name, const Tick& tick, Duration started_at);
// The load.summary event: figures and thresholds.
Event summary_event(const LoadSpec& load, const Report& report, const std::vector<Judgment>& results);

class LoadActivity : public Activity {
 public:
  LoadActivity(const LoadSpec& spec, ActivityContext context);
  ~LoadActivity() override;
  LoadActivity(const LoadActivity&) = delete;
  LoadActivity& operator=(const LoadActivity&) = delete;

  // Publishes load.started and starts sending; ticks are published from the load's thread.
  Status start(EventBus& bus, HaltSwitch& halt) override;
  void stop() override { stop_.trigger("phase over"); }
  // Waits for the load to end, publishes load.summary; the thresholds' judgments.
  Result<std::vector<Judgment>> finish() override;

 private:
  const LoadSpec spec_;  // a copy: the activity may outlive the model it was made from
  ActivityContext context_;
  EventBus* bus_ = nullptr;
  HaltSwitch stop_;
  std::optional<Result<Report>> result_;  // set by the load's thread before it ends
  std::thread thread_;
};

}  // namespace chaosplus::load
