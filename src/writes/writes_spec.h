#pragma once
// The writes kind of phase activity as the experiment file gives it (`writes:` in a phase): where
// to write (a libpq connection string, a table), how (clients, rate, timeout), which Patroni APIs
// time the promotion, where the attempts are kept, and which thresholds judge the figures of the
// analysis (writes/history.h). Parsed once by the loader (spec/builder_writes.cpp), immutable after;
// each run makes its WritesActivity from it (writes/writes_activity.h).
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/activity.h"
#include "core/mark.h"
#include "core/units.h"

namespace chaosplus::writes {

// A figure of the analysis a threshold can judge, and how its number is written.
struct Metric {
  std::string_view name;  // "rto", "lost_writes"
  QuantityKind kind;      // duration (seconds) or number
};
// rto, promotion, reconnection, rpo_span (durations); lost_writes, unexpected_writes,
// unknown_writes, unknown_committed, failed_writes, failed_committed, split_brain, acknowledged,
// attempted (counts).
const std::vector<Metric>& metrics();
const Metric* find_metric(std::string_view name);

// "rto < 15s", "lost_writes == 0".
struct WritesThreshold {
  std::string metric;
  Comparison condition;
  std::string text;  // as written
  Mark mark;
};

class WritesSpec : public ActivityConfig {
 public:
  static constexpr const char* kKind = "writes";

  std::string name;  // defaults to the phase name
  std::string dsn;   // libpq connection string, loopback hosts only
  std::string table = "chaosplus_writes";
  int clients = 4;
  double rate = 200;  // inserts per second, all clients together
  Duration timeout = std::chrono::seconds(2);  // per insert, once connected
  // Per reconnect, every host of the string together: a multi-host string whose first host hangs
  // (a frozen primary) needs its libpq connect_timeout and then some to reach the next.
  Duration connect_timeout = std::chrono::seconds(10);
  std::vector<std::string> patroni;            // REST API endpoints "127.0.0.11:8008"
  std::string history;                         // JSONL file of every attempt; "" = none
  std::vector<WritesThreshold> thresholds;

  std::unique_ptr<Activity> make(const ActivityContext& context) const override;  // writes_activity.cpp
  bool judges() const override { return !thresholds.empty(); }
};

}  // namespace chaosplus::writes
