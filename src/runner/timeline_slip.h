#pragma once
// How late the runner acts against its own timeline. A runner that was frozen (SIGSTOP, a host
// that stalled) acts late: a fault stays on past its `for`, a phase lasts longer than written. Each
// action (and each phase end) that comes later than the margin is a slip; the run publishes it
// (`timeline.slipped`) and the verdict names it, so a distorted timeline is never silent. No clock
// and no I/O here: the runner passes the instants.
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "core/units.h"

namespace chaosplus::runner {

inline constexpr Duration kSlipMargin = std::chrono::milliseconds(250);

struct Slip {
  std::string phase;
  std::string where;  // "revert of pause sleeper", "end of phase"
  Duration late{};    // past its due time
};

// For the verdict: "the timeline slipped 2 time(s) by more than 250ms, at most 29.8s late (revert of
// pause sleeper in phase chaos): the runner was late (...), so faults stayed on ..."; "" without
// slips.
std::string slip_summary(const std::vector<Slip>& slips, Duration margin);

class SlipTracker {
 public:
  using Instant = std::chrono::steady_clock::time_point;
  explicit SlipTracker(Duration margin = kSlipMargin) : margin_(margin) {}

  // A slip (also kept) when `now` is past `due` by more than the margin.
  std::optional<Slip> check(const std::string& phase, const std::string& where, Instant due, Instant now);

  const std::vector<Slip>& slips() const { return slips_; }
  std::string summary() const { return slip_summary(slips_, margin_); }

 private:
  Duration margin_;
  std::vector<Slip> slips_;
};

}  // namespace chaosplus::runner
