#pragma once
// The fuzz kind of phase activity as the experiment file gives it (`fuzz:` in a phase): which
// API (an OpenAPI document and a base URL), for how long, with which seed and credentials, which
// target's process to watch, and which thresholds. Parsed once by the loader (spec/), immutable
// after; each run makes its FuzzActivity from it (fuzz/fuzz_activity.h).
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/activity.h"
#include "core/mark.h"
#include "core/units.h"
#include "fuzz/finding.h"

namespace chaosplus::fuzz {

// A pass/fail condition on the unique findings at the end: "findings < 1",
// "findings{severity>=high} < 1".
struct FuzzThreshold {
  std::optional<Severity> at_least;  // counts only findings this severe; unset: all of them
  Comparison condition;
  std::string text;  // as written
  Mark mark;
};

class FuzzSpec : public ActivityConfig {
 public:
  static constexpr const char* kKind = "fuzz";

  std::string name;      // defaults to the phase name
  std::string openapi;   // the document's path (a relative one resolved against the experiment file's folder)
  std::string base_url;  // loopback http(s)
  std::optional<Duration> duration;  // default: the phase's length
  std::uint64_t seed = 1;
  int connections = 32;
  Duration timeout = std::chrono::seconds(5);
  std::uint64_t max_requests = 5'000'000;
  std::vector<std::pair<std::string, std::string>> headers;  // sent with every request (credentials)
  std::string target;                          // an experiment target whose process is watched (death, restart, memory)
  std::uint64_t memory_growth = 100ULL << 20;  // 0: off
  bool minimize = true;
  std::vector<FuzzThreshold> thresholds;

  std::unique_ptr<Activity> make(const ActivityContext& context) const override;  // fuzz/fuzz_activity.cpp
  bool judges() const override { return !thresholds.empty(); }
};

}  // namespace chaosplus::fuzz
