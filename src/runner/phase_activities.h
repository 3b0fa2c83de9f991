#pragma once
// The runner's side of phase activities (core/activity.h): every activity of a phase is made from
// its kind's settings and started when the phase starts, stopped when it ends or the run halts,
// and finished for its judgments, each published as a `threshold.result` event (the verdict reads
// those). Nothing here knows a kind by name: a new kind needs no change to the runner.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/activity.h"
#include "core/event_bus.h"
#include "core/halt_switch.h"
#include "spec/experiment.h"

namespace chaosplus::runner {

class PhaseActivities {
 public:
  using Fail = std::function<void(const std::string& message)>;  // a failure of chaosplus itself
  PhaseActivities(EventBus& bus, HaltSwitch& halt, Fail fail);
  // Makes an activity that runs on agents (ActivityConfig::on_agents(): a load with generators,
  // fleet/distributed_load.h); a run without agents has none, and such an activity cannot start.
  using OnAgents =
      std::function<std::unique_ptr<Activity>(const ActivityConfig& config, const ActivityContext& context)>;
  void set_on_agents(OnAgents factory) { on_agents_ = std::move(factory); }
  ~PhaseActivities();  // stops and waits for what still runs, without judging it
  PhaseActivities(const PhaseActivities&) = delete;
  PhaseActivities& operator=(const PhaseActivities&) = delete;

  // Starts every activity of `phase`; one that cannot start is a failure (the others still run
  // until the halt that follows stops them). `target_pids`: the targets' processes now (by name).
  void start(const spec::Phase& phase, const std::map<std::string, std::int64_t>& target_pids = {});
  // Asks every running activity to end; they wind down while the run goes on (reverts).
  void stop();
  // Stops what still runs, waits for each, and publishes its judgments. Nothing runs after.
  void finish();

 private:
  struct Running {
    ActivityContext context;
    std::unique_ptr<Activity> activity;
  };
  EventBus& bus_;
  HaltSwitch& halt_;
  Fail fail_;
  OnAgents on_agents_;
  std::vector<Running> running_;  // of the current phase, in the phase's order
};

}  // namespace chaosplus::runner
