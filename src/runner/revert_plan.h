#pragma once
// The order of reverts at the end of a phase or a run. Faults are taken off newest first, except
// those that bring a process back (kill, restart): they wait until every other fault is off, so a
// supervisor that was paused runs again before its child is judged. Then they are waited for
// together: each one that is back by itself (a supervisor restarted it) is reverted at once (its
// ready check), and each one still missing when its grace ends is reverted then (its restart).
#include <functional>
#include <vector>

#include "core/units.h"

namespace chaosplus::runner {

struct PendingRevert {
  bool brings_back = false;
  std::function<bool()> back;    // is its process back by itself?
  Duration grace{0};             // how long to wait for that
  std::function<void()> revert;  // takes the fault off (and reports it)
};

// `newest_first`: the faults to revert, newest first. Waits with `wait` (a sleep of the given time;
// the runner's is not cut short by a halt) between looks at the processes still missing.
void revert_in_order(std::vector<PendingRevert> newest_first, const std::function<void(Duration)>& wait);

}  // namespace chaosplus::runner
