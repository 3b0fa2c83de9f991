#include "runner/probe_window.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace chaosplus::runner {

void ProbeWindow::add(const Sample& sample) { samples_.push_back(sample); }

WindowStats ProbeWindow::stats(Duration now, Duration window) const {
  WindowStats s;
  std::vector<double> latencies;
  for (auto it = samples_.rbegin(); it != samples_.rend(); ++it) {
    if (it->at > now) continue;
    if (window != Duration::zero() && it->at <= now - window) break;
    ++s.count;
    if (it->ok) ++s.ok;
    latencies.push_back(it->latency_s);
  }
  if (s.count == 0) return s;
  s.success_rate = static_cast<double>(s.ok) / s.count;
  std::sort(latencies.begin(), latencies.end());
  // Nearest-rank percentiles: small sample counts, exact values.
  auto rank = [&](double q) {
    auto index = static_cast<std::size_t>(std::ceil(q * static_cast<double>(latencies.size())));
    return latencies[std::clamp<std::size_t>(index, 1, latencies.size()) - 1];
  };
  s.p50 = rank(0.50);
  s.p90 = rank(0.90);
  s.p99 = rank(0.99);
  return s;
}

}  // namespace chaosplus::runner
