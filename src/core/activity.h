#pragma once
// The door every phase activity goes through: anything that runs *during* a phase (load today;
// fuzz, security scans, database workloads next). The runner starts each activity of a phase when
// the phase starts, stops it when the phase ends or the run halts, and finishes it for its
// judgments; it knows activities only through this interface, never by kind (docs/load.md,
// "Phase activities"). An activity talks to the rest of the run only through the event bus.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/event.h"
#include "core/result.h"
#include "core/units.h"

namespace chaosplus {

class EventBus;
class HaltSwitch;

// One threshold judged on an activity's final figures: becomes a `threshold.result` event.
struct Judgment {
  std::string metric;     // the stream metric it judges: "load.checkout.latency_p99"
  std::string threshold;  // as written: "p99 < 250ms"
  bool held = true;
  double measured = 0;  // seconds, fraction, or count/rate, as the metric says
  std::string message;  // for people: "p99 = 212ms, within p99 < 250ms"
};

// Where an activity runs: which one it is, in which phase, for how long, and the processes of the
// experiment's targets as the phase begins (the fuzzer watches one for death and memory growth;
// later restarts reach an activity as target.started events).
struct ActivityContext {
  std::string kind;   // "load"
  std::string name;   // the activity's name, unique in the experiment
  std::string phase;  // the phase it runs in
  Duration duration{0};
  std::map<std::string, std::int64_t> target_pids;  // target name -> pid, for targets with a process
};

class Activity {
 public:
  virtual ~Activity() = default;

  // Begins the activity and returns at once; it runs until stop() or the end of its phase. Events
  // go to `bus`; `halt` is the run's stop button, which an activity may also trigger. An error
  // means nothing was started.
  virtual Status start(EventBus& bus, HaltSwitch& halt) = 0;
  // Ends it early; safe from any thread, and more than once.
  virtual void stop() = 0;
  // Waits for it to end; its judgments (one per threshold), or why it could not run.
  virtual Result<std::vector<Judgment>> finish() = 0;
};

// A kind's parsed settings: immutable after loading, shared by the model and every run of it;
// each run makes its own Activity from them (like Envoy's filter config and filter).
class ActivityConfig {
 public:
  virtual ~ActivityConfig() = default;
  virtual std::unique_ptr<Activity> make(const ActivityContext& context) const = 0;
  // True when it judges something (has thresholds): a run with it checks something.
  virtual bool judges() const = 0;
  // True when it runs on agents rather than in this process (a load with `generators:`): the runner
  // makes it through the run's agents (runner/phase_activities.h), not with make().
  virtual bool on_agents() const { return false; }
};

// The `threshold.result` event of one judgment (fields activity, name, metric, threshold, held,
// measured, message: docs/journal.md).
Event threshold_result_event(const ActivityContext& context, const Judgment& judgment);

}  // namespace chaosplus
