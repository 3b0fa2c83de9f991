#pragma once
// Internal to the load engine: the plan every worker reads, running it on threads in this
// process, and splitting it over worker processes (each has its own open-file limit) whose
// ticks and results come back over pipes and are merged here.
#include "core/result.h"
#include "load/engine.h"
#include "load/worker.h"

namespace chaosplus::load {

Result<SharedPlan> make_plan(const LoadOptions& options);
// Runs this process's part (`process_index` of `process_count`) on options.threads threads.
Result<Report> run_plan_threads(const SharedPlan& plan, const RunHooks& hooks, int process_index,
                                int process_count);
Result<Report> run_in_processes(const SharedPlan& plan, const RunHooks& hooks);

}  // namespace chaosplus::load
