#pragma once
// Two runs side by side: what got better or worse from run A (the reference) to run B, each row
// with the rule that decides whether its change is a regression. Pure: no clock, no I/O.
// docs/reports.md lists the rules and their defaults.
#include <string>
#include <vector>

#include "core/result.h"
#include "report/run_data.h"

namespace chaosplus::report {

// A latency is worse when B exceeds A by more than max(ratio * A, floor): the ratio catches a real
// slowdown of a slow path, the floor keeps a 2 ms -> 4 ms jitter of a fast one from counting.
// The tail (p99) of a short run rests on its few slowest samples, so it is judged on the p99 of a
// typical second (run_data.h: one stall of a busy machine does not move it), with a looser rule.
struct CompareRules {
  double latency_ratio = 0.25;  // p50
  double latency_floor_ms = 5;
  double tail_ratio = 0.5;  // p99
  double tail_floor_ms = 25;
  double error_rate_points = 1.0;    // percentage points a load's error rate may rise
  double success_rate_points = 1.0;  // percentage points a probe's success rate may fall
  double recovery_ratio = 0.5;       // time to recover
  double recovery_floor_ms = 1000;
};

// Sets one rule from a command-line flag's value: "latency-tolerance" "25%", "latency-floor" "5ms",
// "tail-tolerance", "tail-floor", "error-rate-tolerance" "1%", "success-rate-tolerance" "1%",
// "recovery-tolerance" "50%", "recovery-floor" "1s". Errors name the flag and the expected form.
Status set_rule(CompareRules& rules, const std::string& flag, const std::string& value);

enum class Change { better, same, worse, only_a, only_b };
std::string_view to_string(Change change);  // "better", "same", "worse", "only in A", "only in B"

struct CompareRow {
  std::string section;  // verdict, probe, load, recovery, check, finding
  std::string what;     // "probe checkout p50 latency (during the phases)"
  std::string a, b;     // the figures as shown ("12.3 ms", "98.5%", "held"); "" when absent
  Change change = Change::same;
  std::string rule;  // what makes it a regression: "worse when up by more than max(25%, 5 ms)"
  bool regression = false;
};

struct Comparison {
  std::string run_a, run_b;  // run ids
  std::string experiment_a, experiment_b;
  std::vector<CompareRow> rows;
  bool regression() const;
};

Comparison compare_runs(const RunData& a, const RunData& b, const CompareRules& rules = {});

// The terminal's table: one line per row, then "no regression" or "REGRESSION: <rows>".
std::string format_comparison(const Comparison& comparison);
// A Markdown table, for a pull-request comment or the Markdown report.
std::string comparison_markdown(const Comparison& comparison);
// {"run_a", "run_b", "regression", "rows": [{"section", "what", "a", "b", "change", "rule", "regression"}]}
std::string comparison_json(const Comparison& comparison);

}  // namespace chaosplus::report
