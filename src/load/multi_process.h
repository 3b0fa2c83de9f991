#pragma once
// Internal to the load engine: the plan every worker reads, running it on threads in this
// process, and splitting it over worker processes (each has its own open-file limit) whose
// ticks and results come back over pipes and are merged here.
#include <string>
#include <vector>

#include "core/result.h"
#include "load/engine.h"
#include "load/worker.h"

namespace chaosplus::load {

Result<SharedPlan> make_plan(const LoadOptions& options);
// Runs this process's part (`process_index` of `process_count`) on options.threads threads.
Result<Report> run_plan_threads(const SharedPlan& plan, const RunHooks& hooks, int process_index, int process_count);
Result<Report> run_in_processes(const SharedPlan& plan, const RunHooks& hooks);

// report.scenarios for a mix, named and weighed, with zero counts.
void start_scenario_summaries(Report& report, const SharedPlan& plan);
// The tick's percentiles from the latencies of its interval.
void set_tick_latency(Tick& tick, const LatencyHistogram& interval);
// A worker process's tick as one line for the parent, and the parent's merge of one tick from
// every process: counters add up, latency histograms merge, percentiles come from the merge.
std::string tick_line(const Tick& tick, const LatencyHistogram& interval);
Tick merge_tick_lines(const std::vector<std::string>& lines, LatencyHistogram& interval);

}  // namespace chaosplus::load
