#pragma once
// Runs built event by event, for the report tests: the journal's event types with the fields the
// runner writes (docs/journal.md), at chosen elapsed times.
#include <chrono>
#include <string>
#include <vector>

#include "core/event.h"
#include "report/run_data.h"

namespace chaosplus::report::testing {

inline Event at(double ms, Event e) {
  e.elapsed = std::chrono::duration_cast<Duration>(std::chrono::duration<double, std::milli>(ms));
  return e;
}

class RunBuilder {
 public:
  explicit RunBuilder(std::string run_id, std::string experiment = "shop") {
    add(0, Event("run.started")
               .with("run_id", std::move(run_id))
               .with("experiment", std::move(experiment))
               .with("file", "/nowhere/shop.yaml")
               .with("file_sha256", "00")
               .with("checks", true));
  }
  RunBuilder& add(double ms, Event e) {
    events.push_back(at(ms, std::move(e)));
    return *this;
  }
  // `count` results of a probe during one phase, every 100 ms from `from_ms`, each `latency_ms`
  // (plus `jitter_ms` on every other one), the first `failures` of them failed.
  RunBuilder& probes(const std::string& probe, double from_ms, int count, double latency_ms, double jitter_ms = 0,
                     int failures = 0) {
    for (int i = 0; i < count; ++i)
      add(from_ms + 100.0 * i, Event("probe.result")
                                   .with("probe", probe)
                                   .with("stage", "during")
                                   .with("ok", i >= failures)
                                   .with("latency_ms", latency_ms + (i % 2 == 1 ? jitter_ms : 0))
                                   .with("status", i >= failures ? 201 : 503)
                                   .with("phase", "steady"));
    return *this;
  }
  // A load of 3 seconds (or one per entry of `tick_p99`, each second's p99) at 100 requests a second.
  RunBuilder& load(const std::string& name, double from_ms, double p50, double p99, double error_rate,
                   std::vector<double> tick_p99 = {}) {
    if (tick_p99.empty()) tick_p99.assign(3, p99);
    const int seconds = static_cast<int>(tick_p99.size());
    add(from_ms, Event("load.started").with("load", name).with("phase", "steady").with("url", "http://127.0.0.1:1/"));
    for (int s = 0; s < seconds; ++s)
      add(from_ms + 1000.0 * (s + 1), Event("load.tick")
                                          .with("load", name)
                                          .with("second", s)
                                          .with("from_ms", from_ms + 1000.0 * s)
                                          .with("to_ms", from_ms + 1000.0 * (s + 1))
                                          .with("requests", 100)
                                          .with("rps", 100.0)
                                          .with("errors", 0)
                                          .with("error_rate", error_rate)
                                          .with("p50_ms", p50)
                                          .with("p99_ms", tick_p99[static_cast<std::size_t>(s)]));
    add(from_ms + 1000.0 * seconds, Event("load.summary")
                                        .with("load", name)
                                        .with("requests", 100 * seconds)
                                        .with("rps", 100.0)
                                        .with("error_rate", error_rate)
                                        .with("p50_ms", p50)
                                        .with("p90_ms", p99)
                                        .with("p99_ms", p99)
                                        .with("max_ms", p99));
    return *this;
  }
  RunBuilder& verdict(double ms, const std::string& verdict, int exit_code, const std::string& reasons = "") {
    return add(ms, Event("run.verdict").with("verdict", verdict).with("exit_code", exit_code).with("reasons", reasons));
  }
  RunData data() const { return derive_run(row_from_events(events), events); }

  std::vector<Event> events;
};

}  // namespace chaosplus::report::testing
