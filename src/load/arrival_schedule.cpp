#include "load/arrival_schedule.h"

#include <cmath>

namespace chaosplus::load {

ArrivalSchedule::ArrivalSchedule(double rate, std::vector<Stage> stages, double share, double phase) : phase_(phase) {
  double t = 0, level = rate * share, count = 0;
  for (const Stage& s : stages) {
    const double length = std::chrono::duration<double>(s.over).count();
    const double to = s.target * share;
    if (length > 0) {
      segments_.push_back({t, length, level, to, count});
      count += (level + to) / 2 * length;
      t += length;
    }
    level = to;
  }
  final_rate_ = level;
  final_start_s_ = t;
  final_count_ = count;
}

std::optional<Duration> ArrivalSchedule::next() {
  const double k = static_cast<double>(issued_) + phase_;
  // The k-th arrival is at the time the expected count reaches k.
  while (segment_ < segments_.size()) {
    const Segment& s = segments_[segment_];
    const double need = k - s.count_before;
    const double a = (s.to - s.from) / (2 * s.length_s);  // count(x) = from*x + a*x^2
    const double disc = s.from * s.from + 4 * a * need;
    if (disc >= 0) {
      const double denom = s.from + std::sqrt(disc);
      const double x = denom > 0 ? 2 * need / denom : (need <= 0 ? 0.0 : -1.0);
      if (x >= 0 && x <= s.length_s) {
        ++issued_;
        return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(s.start_s + x));
      }
    }
    ++segment_;
  }
  if (final_rate_ <= 0) return std::nullopt;
  const double x = (k - final_count_) / final_rate_;
  ++issued_;
  return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(final_start_s_ + std::max(0.0, x)));
}

}  // namespace chaosplus::load
