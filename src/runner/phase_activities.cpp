#include "runner/phase_activities.h"

namespace chaosplus::runner {

PhaseActivities::PhaseActivities(EventBus& bus, HaltSwitch& halt, Fail fail)
    : bus_(bus), halt_(halt), fail_(std::move(fail)) {}

PhaseActivities::~PhaseActivities() {
  stop();
  running_.clear();  // each activity waits for its own threads
}

void PhaseActivities::start(const spec::Phase& phase, const std::map<std::string, std::int64_t>& target_pids) {
  for (const spec::ActivitySpec& a : phase.activities) {
    ActivityContext context{a.kind, a.name, phase.name, phase.duration, target_pids};
    std::unique_ptr<Activity> activity;
    if (!a.config->on_agents()) {
      activity = a.config->make(context);
    } else if (on_agents_) {
      activity = on_agents_(*a.config, context);
    }
    if (!activity) {
      fail_("line " + std::to_string(a.mark.line) + ": " + a.kind + " " + a.name + " of phase " + phase.name +
            " runs on agents (generators:), expected a run with agents (an etcd endpoint, docs/agents.md)");
      continue;
    }
    if (Status s = activity->start(bus_, halt_); !s) {
      fail_(s.error());
      continue;
    }
    running_.push_back({std::move(context), std::move(activity)});
  }
}

void PhaseActivities::stop() {
  for (auto& r : running_) r.activity->stop();
}

void PhaseActivities::finish() {
  stop();
  std::vector<Running> ending = std::move(running_);
  running_.clear();
  for (auto& r : ending) {
    auto judgments = r.activity->finish();
    if (!judgments) {
      fail_(judgments.error());
      continue;
    }
    for (const Judgment& j : *judgments) bus_.publish(threshold_result_event(r.context, j));
  }
}

}  // namespace chaosplus::runner
