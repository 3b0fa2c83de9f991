#pragma once
// The faults of a run on its timeline: each injected at its offset in its phase (its ledger entry
// written and synced first) and reverted at its end, reverts that go together paced as
// runner/revert_plan.h says, and what is still on reverted newest first when the run ends or
// halts. Every step is an event (fault.injected, fault.failed, fault.reverted, fault.skipped,
// timeline.slipped).
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/event_bus.h"
#include "core/halt_switch.h"
#include "faults/fault.h"
#include "faults/target_handle.h"
#include "runner/ledger.h"
#include "runner/timeline_slip.h"
#include "spec/experiment.h"

namespace chaosplus::runner {

class FaultTimeline {
 public:
  using Clock = std::chrono::steady_clock;
  using FindTarget = std::function<faults::TargetHandle*(const std::string&)>;
  using Fail = std::function<void(const std::string&)>;  // a failure of the run: it halts

  FaultTimeline(Ledger& ledger, std::string run_id, EventBus& bus, HaltSwitch& halt, FindTarget find, Fail fail);
  ~FaultTimeline();

  // Builds the faults whose target is not on this host (a target on agents, runner/fleet_run.h),
  // given the fault's phase, its index among the phase's faults and its planned length; nullptr
  // when the target is here (faults::make_fault builds it). The ledger and events are the same.
  using MakeElsewhere = std::function<std::unique_ptr<faults::Fault>(const spec::Fault&, const std::string& phase,
                                                                     int index, Duration planned_length)>;
  void set_make_elsewhere(MakeElsewhere make) { elsewhere_ = std::move(make); }

  // Plays the faults of `phase`, which started at `phase_start`: injects and reverts each at its
  // times, until the last action, a halt, or a fault that could not be injected. Faults that last
  // to the end of the phase stay on (revert_phase).
  void play(const spec::Phase& phase, Clock::time_point phase_start);
  // The faults of the phase played last that are still on, newest first.
  void revert_phase();
  // Every fault still on, newest first.
  void revert_all_active();
  // A timeline.slipped event when `due` is more than the margin ago.
  void note_slip(const std::string& phase, const std::string& where, Clock::time_point due);

 private:
  struct Planned;
  bool inject(Planned& f, const std::string& phase);
  void revert(Planned& f);
  void revert_together(const std::vector<Planned*>& newest_first);

  Ledger& ledger_;
  const std::string run_id_;
  EventBus& bus_;
  HaltSwitch& halt_;
  FindTarget find_;
  Fail fail_;
  MakeElsewhere elsewhere_;
  SlipTracker slips_;
  std::vector<std::unique_ptr<Planned>> all_;
  std::vector<Planned*> phase_;           // the faults of the phase played last, in the file's order
  std::vector<Planned*> injected_order_;  // active faults in injection order
};

}  // namespace chaosplus::runner
