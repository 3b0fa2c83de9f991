#pragma once
// Judges the stream as it goes by: continuous probe results (`probe.result` during the phases) and
// load ticks (`load.tick`) trip guardrails (abort now), and each probe's tolerance is tracked
// (deviation at the end). It subscribes to the run's events; pure logic over them, no clock, no I/O.
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/event.h"
#include "runner/probe_window.h"
#include "spec/experiment.h"

namespace chaosplus::runner {

struct GuardrailTrip {
  std::string guardrail;  // its name
  std::string probe;      // the probe it watches, or
  std::string load;       // the load
  std::string metric;     // the stream metric it judges: "probe.checkout-ok.success_rate", "load.shop.error_rate"
  std::string message;    // "checkout-ok success rate 33% < 50% over the last 3s (2/6 ok)"
  double measured = 0;
};

// One second of a phase's load, as guardrails see it.
struct LoadSample {
  Duration at{0};
  std::uint64_t requests = 0;  // attempted: answered, failed in transport, or dropped
  std::uint64_t errors = 0;    // failed: transport errors, dropped arrivals, status >= 400
  double p50_s = 0, p90_s = 0, p99_s = 0;
};

struct ToleranceResult {
  std::string probe;
  bool held = true;
  std::string message;  // "success rate 97.5% (39/40) >= 95%", or where it fell short
  WindowStats overall;
};

std::string describe(const spec::Guardrail& guardrail);
// The stream metric a guardrail judges: "probe.<probe>.<metric>" or "load.<load>.<metric>", the metric
// one of success_rate, error_rate, latency_p50, latency_p90, latency_p99.
std::string stream_metric(const spec::Guardrail& guardrail);

class Monitor {
 public:
  explicit Monitor(const spec::Experiment& experiment);

  // Reads one event of the stream (a subscriber of the bus); returns the first guardrail it trips.
  std::optional<GuardrailTrip> on_event(const Event& event);

  // Records a continuous probe result; returns the first guardrail this result trips, if any.
  std::optional<GuardrailTrip> observe(const std::string& probe, const Sample& sample);

  // Records a load tick; returns the first guardrail on that load it trips, if any. A window's
  // error rate is errors over requests of its ticks, its latency percentile the worst tick's.
  std::optional<GuardrailTrip> observe_load(const std::string& load, const LoadSample& sample);

  // Tolerance of every continuous probe over the results observed so far.
  std::vector<ToleranceResult> tolerances() const;
  WindowStats overall(const std::string& probe) const;
  WindowStats recent(const std::string& probe, Duration now, Duration window) const;

 private:
  const spec::Experiment& experiment_;
  mutable std::mutex mutex_;
  std::map<std::string, ProbeWindow> windows_;
  std::map<std::string, std::deque<LoadSample>> loads_;
  // Worst window seen per probe with a windowed tolerance: (success rate, stats, end time).
  struct Worst {
    double rate = 2.0;
    WindowStats stats;
    Duration at{0};
  };
  std::map<std::string, Worst> worst_;
};

}  // namespace chaosplus::runner
