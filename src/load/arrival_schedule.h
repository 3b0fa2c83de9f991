#pragma once
// When the open model's requests are due: the k-th arrival is sent at the instant the expected
// number of arrivals (the integral of the rate) reaches k. Constant rates and linear ramps are
// solved exactly, so the schedule never drifts and never depends on how late the sender is:
// that is what lets latency be measured from the intended send time (wrk2).
#include <cstdint>
#include <optional>
#include <vector>

#include "core/units.h"
#include "load/load_options.h"

namespace chaosplus::load {

class ArrivalSchedule {
 public:
  // `rate` per second before/without stages; each worker takes `share` of every rate and its
  // arrivals are offset by `phase` (0..1) of an interval, so workers do not send in lockstep.
  ArrivalSchedule(double rate, std::vector<Stage> stages, double share = 1.0, double phase = 0.0);

  // Offset from the start of the run of the next arrival, or nullopt when the rate stays at
  // zero from some point on.
  std::optional<Duration> next();
  std::uint64_t issued() const { return issued_; }

 private:
  struct Segment {
    double start_s, length_s, from, to, count_before;  // rates per second; count at start
  };
  std::vector<Segment> segments_;
  double final_rate_ = 0;
  double final_start_s_ = 0;
  double final_count_ = 0;
  double phase_;
  std::uint64_t issued_ = 0;
  std::size_t segment_ = 0;
};

}  // namespace chaosplus::load
