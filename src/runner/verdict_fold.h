#pragma once
// The verdict and the printed summary of a run as a fold over its events: the runner feeds it the
// live stream, `chaosplus report` the lines of a journal, and both print the same thing. Every fact
// the verdict needs is an event (run.error, fault.reverted, rollback.done, placement.removed,
// run.halted, guardrail.tripped, steady_state.result, tolerance.result, threshold.result,
// timeline.slipped); the checks the experiment makes come with run.started. No clock, no I/O.
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "core/event.h"
#include "runner/probe_window.h"
#include "runner/timeline_slip.h"
#include "runner/verdict.h"

namespace chaosplus::runner {

struct ProbeFigures {
  std::string probe;
  WindowStats overall;  // its results during the phases; count 0 when it never ran
};

struct RunSummary {
  std::string experiment;
  VerdictResult decided;
  int faults_injected = 0;
  int faults_reverted = 0;
  int faults_revert_failed = 0;
  std::optional<double> time_to_recover_ms;  // when the steady state was checked after the reverts and passed
  int after_attempts = 0;
  std::vector<ProbeFigures> probes;  // each continuous probe, in the experiment's order
  std::vector<std::string> writes;   // each write workload's figures (runner/writes_line.h), in the order they ended
  std::string journal;
  std::string logs;
};

class VerdictFold {
 public:
  void add(const Event& event);

  RunFacts facts() const;
  RunSummary summary() const;  // decide(facts()) and the run's figures

 private:
  std::string experiment_, journal_, logs_;
  bool checks_ = false;
  std::vector<std::string> errors_;
  std::vector<std::string> not_restored_;
  std::optional<std::string> halt_reason_;
  bool guardrail_tripped_ = false;
  bool before_held_ = true;
  std::vector<std::string> steady_deviations_;  // before or after
  bool after_checked_ = false;
  bool after_held_ = true;
  std::optional<double> time_to_recover_ms_;
  int after_attempts_ = 0;
  std::vector<std::string> tolerance_failures_;
  std::vector<std::string> threshold_failures_;
  std::vector<Slip> slips_;
  int injected_ = 0, reverted_ = 0, revert_failed_ = 0;
  std::vector<std::string> continuous_;  // from tolerance.result, in the experiment's order
  std::vector<std::pair<std::string, ProbeWindow>> during_;
  std::vector<std::string> writes_;
};

// The block a run prints at its end: "== name: HELD (exit code 0)", the reasons, the figures,
// where the journal and the logs are.
void print_summary(std::ostream& out, const RunSummary& summary);

// Milliseconds rounded to the microsecond: the figure written to the journal is the one the fold
// computes with, so a journal read back gives the same summary as the live run.
double rounded_ms(Duration d);

}  // namespace chaosplus::runner
