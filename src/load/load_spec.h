#pragma once
// The load kind of phase activity as the experiment file gives it (`load:` in a phase): which
// requests, which model, which thresholds. Parsed once by the loader (spec/), immutable after;
// each run makes its LoadActivity from it (load/load_activity.h).
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/activity.h"
#include "core/agent_selector.h"
#include "core/mark.h"
#include "core/units.h"

namespace chaosplus::load {

// A pass/fail condition on a load's final figures: "p99 < 250ms", "error_rate < 1%", "rps > 100".
struct LoadThreshold {
  std::string metric;  // p50, p90, p99, p99.9, max, avg (seconds), error_rate (fraction), rps
  Comparison condition;
  std::string text;  // as written
  Mark mark;
};

// Moves linearly to `target` within `over` (a hold keeps the previous level).
struct LoadStage {
  Duration over{0};
  double target = 0;  // requests per second (open model) or users
};

// One of three models: connections (each sends its next request when the last one is answered),
// open (`rate` or rate stages: arrivals on a schedule, latency from the intended send time), users
// (`vus` or user stages looping over a scenario with think time).
class LoadSpec : public ActivityConfig {
 public:
  static constexpr const char* kKind = "load";

  std::string name;  // defaults to the phase name
  std::string url;
  std::string method = "GET";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  int connections = 10;
  int threads = 1;
  Duration timeout = std::chrono::seconds(10);
  double rate = 0;                     // open model
  std::vector<LoadStage> rate_stages;  // open model with ramps
  std::uint64_t vus = 0;               // users model
  std::vector<LoadStage> vu_stages;
  Duration think{0};
  std::string scenario;  // scenario file (relative to the working directory): users, or open-model sessions
  std::optional<std::uint64_t> max_sessions;  // open model with multi-step scenarios: sessions at once
  std::optional<std::uint64_t> seed;          // draws of a scenario mix (else the scenario file's seed)
  bool tls_verify = true;                     // https://: check the server's certificate ("tls: {verify: false}")
  std::string tls_ca_file;                    // https://: trusted CAs, PEM ("tls: {ca_file: ...}")
  std::vector<LoadThreshold> thresholds;
  // Distributed load (docs/load.md): 0 sends from this process; N splits the load over N agents
  // (k6's execution segments, load/segment.h) chosen by `generators_on` (any agents when it names
  // no label or host), merged centrally (fleet/distributed_load.h).
  int generators = 0;
  AgentSelector generators_on;

  std::unique_ptr<Activity> make(const ActivityContext& context) const override;  // load/load_activity.cpp
  bool judges() const override { return !thresholds.empty(); }
  bool on_agents() const override { return generators > 0; }
};

}  // namespace chaosplus::load
