#pragma once
// The verdict of a run, from what happened (docs/architecture.md, "Exit codes"). A pure function of its
// inputs, so each case (a halt with a failed revert, a run that checked nothing) is tested alone.
#include <string>
#include <vector>

#include "spec/experiment.h"

namespace chaosplus::runner {

// held 0, deviated 1, aborted 2 (guardrail or halt), error 3 (invalid input or chaosplus's own
// failure), not_restored 4 (a revert or rollback failed: the system may still be changed),
// unchecked 6 (the run checked nothing: no probe ran and no load had thresholds). 5 is `recover`'s
// "the ledger cannot be trusted" and is not used by `run`.
enum class Verdict { held, deviated, aborted, error, not_restored, unchecked };
std::string to_string(Verdict verdict);
int exit_code(Verdict verdict);
const char* label(Verdict verdict);  // "HELD", "NOT RESTORED", ... for the printed summary

struct RunFacts {
  std::vector<std::string> errors;        // chaosplus's own failures (setup, ledger, a fault not injected)
  std::vector<std::string> not_restored;  // reverts, rollbacks or placements that failed
  bool halted = false;
  std::string halt_reason;
  bool guardrail_tripped = false;
  bool checked = false;  // a steady-state probe ran, or a load had thresholds
  bool before_held = true;
  bool after_checked = false;
  bool after_held = true;
  std::vector<std::string> deviations;  // steady state before/after, tolerances, load thresholds
  std::string slips;                    // timeline slips, when any
};

struct VerdictResult {
  Verdict verdict = Verdict::error;
  std::vector<std::string> reasons;  // most important first
};

// A run checks something when a steady-state probe runs, a load has thresholds, or a guardrail
// watches a load; otherwise its verdict cannot be "held" (docs/architecture.md).
bool checks_anything(const spec::Experiment& experiment);

// Precedence: a change left on the system (not_restored) before chaosplus's own error, before a
// halt, before a deviation; a run that checked nothing is never held. Every cause that applies is
// kept in the reasons, so a guardrail abort with a failed revert says both.
VerdictResult decide(const RunFacts& facts);

}  // namespace chaosplus::runner
