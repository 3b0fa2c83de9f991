#pragma once
// The steady-state check after the reverts, tried again until it passes or `within` has passed
// (steady_state.after.within): a service brought back needs a moment before it answers, and how
// long it needed is the run's time to recover.
#include <functional>
#include <optional>

#include "core/result.h"
#include "core/units.h"

namespace chaosplus::runner {

struct Recheck {
  Status last = ok_status();                // the last attempt's outcome
  std::optional<Duration> time_to_recover;  // from the first attempt to the one that passed
  int attempts = 0;
};

// Runs `check` once, then, while it fails and `within` allows, again every `every` (slept with
// `wait`). Without `within` it runs once.
Recheck recheck(const std::function<Status()>& check, std::optional<Duration> within, Duration every,
                const std::function<void(Duration)>& wait);

}  // namespace chaosplus::runner
