#include "runner/timeline_slip.h"

#include <algorithm>

namespace chaosplus::runner {

std::optional<Slip> SlipTracker::check(const std::string& phase, const std::string& where, Instant due, Instant now) {
  const auto late = std::chrono::duration_cast<Duration>(now - due);
  if (late <= margin_) return std::nullopt;
  slips_.push_back(Slip{phase, where, late});
  return slips_.back();
}

std::string slip_summary(const std::vector<Slip>& slips, Duration margin) {
  if (slips.empty()) return {};
  const auto worst =
      std::max_element(slips.begin(), slips.end(), [](const Slip& a, const Slip& b) { return a.late < b.late; });
  return "the timeline slipped " + std::to_string(slips.size()) + " time(s) by more than " + format_duration(margin) +
         ", at most " + format_duration(worst->late) + " late (" + worst->where + " in phase " + worst->phase +
         "): the runner was late (frozen, starved of CPU, or held up by a slow inject or revert), so faults "
         "stayed on and phases lasted longer than written";
}

}  // namespace chaosplus::runner
