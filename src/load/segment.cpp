#include "load/segment.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace chaosplus::load {
namespace {

// A user count in a stage is a whole number, split like any other.
double split_users(double total, Segment s) {
  return static_cast<double>(segment_share(static_cast<std::uint64_t>(std::llround(std::max(total, 0.0))), s));
}

}  // namespace

std::uint64_t segment_share(std::uint64_t total, Segment s) {
  // floor(i·V/N) without the product i·V, which overflows for large V: i·(V/N) + i·(V%N)/N, where
  // i·(V%N) < N² fits.
  const auto n = static_cast<std::uint64_t>(s.count);
  const auto upto = [&](std::uint64_t i) { return i * (total / n) + i * (total % n) / n; };
  const auto i = static_cast<std::uint64_t>(s.index);
  return upto(i + 1) - upto(i);
}

Result<LoadSegment> segment_of(const LoadSpec& load, Segment s) {
  if (s.count < 1 || s.index < 0 || s.index >= s.count) {
    return Error{"load " + load.name + ": segment " + std::to_string(s.index) + " of " + std::to_string(s.count) +
                 " is out of range, expected 0 <= index < count"};
  }
  LoadSegment out{load, false};
  LoadSpec& part = out.load;
  const double fraction = 1.0 / s.count;
  part.rate = load.rate * fraction;
  for (auto& stage : part.rate_stages) stage.target *= fraction;
  part.vus = segment_share(load.vus, s);
  for (auto& stage : part.vu_stages) stage.target = split_users(stage.target, s);
  part.connections = static_cast<int>(segment_share(static_cast<std::uint64_t>(std::max(load.connections, 0)), s));
  if (load.max_sessions) part.max_sessions = segment_share(*load.max_sessions, s);
  part.threads = std::max(1, std::min(load.threads, part.connections));
  const bool users = load.vus > 0 || !load.vu_stages.empty();
  out.idle =
      users && part.vus == 0 &&
      std::all_of(part.vu_stages.begin(), part.vu_stages.end(), [](const LoadStage& st) { return st.target <= 0; });
  return out;
}

}  // namespace chaosplus::load
