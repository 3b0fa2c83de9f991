#pragma once
// The results of one continuous probe on the run's timeline, and statistics over a trailing window
// of them: what guardrails and tolerances are judged on.
#include <deque>
#include <optional>

#include "core/units.h"

namespace chaosplus::runner {

struct Sample {
  Duration at{0};  // elapsed since the run started
  bool ok = false;
  double latency_s = 0;
};

struct WindowStats {
  int count = 0;
  int ok = 0;
  double success_rate = 1.0;         // ok / count; 1.0 when empty
  double p50 = 0, p90 = 0, p99 = 0;  // latency, seconds
};

class ProbeWindow {
 public:
  void add(const Sample& sample);
  // Over samples with at in (now - window, now]; a zero window means all samples.
  WindowStats stats(Duration now, Duration window) const;
  WindowStats all() const { return stats(Duration::max(), Duration::zero()); }
  const std::deque<Sample>& samples() const { return samples_; }

 private:
  std::deque<Sample> samples_;
};

}  // namespace chaosplus::runner
