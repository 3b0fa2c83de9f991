#pragma once
// Runs a load test: one share-nothing event loop per thread (optionally in several worker
// processes), a tick per second for the timeline, merged counters and histograms at the end.
#include <functional>

#include "core/halt_switch.h"
#include "core/result.h"
#include "load/latency_histogram.h"
#include "load/load_options.h"
#include "load/report.h"

namespace chaosplus::load {

struct RunHooks {
  HaltSwitch* halt = nullptr;                // stops the run early (the report covers what ran)
  std::function<void(const Tick&)> on_tick;  // once per second, on the calling thread
  // The same, with the latencies of that second (worker processes send them to the parent, which
  // merges them before taking percentiles).
  std::function<void(const Tick&, const LatencyHistogram&)> on_tick_latency;
};

// Blocks for at most options.duration (plus the time to stop the loops). Errors are about the
// options or the machine (cannot create threads, epoll); refused connections and bad responses
// are counted in the report instead.
Result<Report> run_load(const LoadOptions& options, const RunHooks& hooks = {});

}  // namespace chaosplus::load
