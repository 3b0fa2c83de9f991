#include "runner/recheck.h"

namespace chaosplus::runner {

Recheck recheck(const std::function<Status()>& check, std::optional<Duration> within, Duration every,
                const std::function<void(Duration)>& wait) {
  using Clock = std::chrono::steady_clock;
  Recheck r;
  const auto start = Clock::now();
  while (true) {
    r.last = check();
    ++r.attempts;
    if (r.last) {
      r.time_to_recover = std::chrono::duration_cast<Duration>(Clock::now() - start);
      return r;
    }
    if (!within || Clock::now() - start + every > *within) return r;
    wait(every);
  }
}

}  // namespace chaosplus::runner
