#include "runner/verdict.h"

#include <algorithm>

namespace chaosplus::runner {

std::string to_string(Verdict v) {
  switch (v) {
    case Verdict::held: return "held";
    case Verdict::deviated: return "deviated";
    case Verdict::aborted: return "aborted";
    case Verdict::error: return "error";
    case Verdict::not_restored: return "not_restored";
    case Verdict::unchecked: return "unchecked";
  }
  return "error";
}

int exit_code(Verdict v) {
  switch (v) {
    case Verdict::held: return 0;
    case Verdict::deviated: return 1;
    case Verdict::aborted: return 2;
    case Verdict::error: return 3;
    case Verdict::not_restored: return 4;
    case Verdict::unchecked: return 6;
  }
  return 3;
}

const char* label(Verdict v) {
  switch (v) {
    case Verdict::held: return "HELD";
    case Verdict::deviated: return "DEVIATED";
    case Verdict::aborted: return "ABORTED";
    case Verdict::error: return "ERROR";
    case Verdict::not_restored: return "NOT RESTORED";
    case Verdict::unchecked: return "UNCHECKED";
  }
  return "ERROR";
}

// A run checks something when a steady-state probe runs, an activity has thresholds, or a
// guardrail watches a load; otherwise its verdict cannot be "held" (docs/architecture.md).
bool checks_anything(const spec::Experiment& e) {
  if (!e.steady_state.probes.empty()) return true;
  if (std::any_of(e.guardrails.begin(), e.guardrails.end(), [](const spec::Guardrail& g) { return !g.load.empty(); })) {
    return true;
  }
  for (const spec::Phase& p : e.phases) {
    for (const spec::ActivitySpec& a : p.activities) {
      if (a.config->judges()) return true;
    }
  }
  return false;
}

VerdictResult decide(const RunFacts& f) {
  VerdictResult r;
  auto add = [&](const std::vector<std::string>& more) { r.reasons.insert(r.reasons.end(), more.begin(), more.end()); };
  add(f.not_restored);
  add(f.errors);
  // A run that fails halts itself with "error: <the error>"; that error is listed already.
  const bool halt_repeats_an_error = std::any_of(f.errors.begin(), f.errors.end(),
                                                 [&](const std::string& e) { return f.halt_reason == "error: " + e; });
  if (f.halted && !halt_repeats_an_error) r.reasons.push_back(f.halt_reason);
  add(f.deviations);

  if (!f.not_restored.empty()) {
    r.verdict = Verdict::not_restored;
    r.reasons.push_back(
        "the system may still be changed: `chaosplus leftovers` lists what is left, `chaosplus recover` tries the "
        "reverts again");
  } else if (!f.errors.empty()) {
    r.verdict = Verdict::error;
  } else if (f.halted) {
    r.verdict = Verdict::aborted;
  } else if (!f.deviations.empty()) {
    r.verdict = Verdict::deviated;
  } else if (!f.checked) {
    r.verdict = Verdict::unchecked;
    r.reasons.push_back(
        "nothing was checked: the experiment has no steady-state probe and no load threshold, so it cannot say "
        "whether the system held");
  } else {
    r.verdict = Verdict::held;
    r.reasons.push_back(f.after_checked
                            ? "the steady state held before, during and after the phases"
                            : "the load's thresholds and guardrails held (no steady-state probe was checked)");
  }
  if (!f.slips.empty()) r.reasons.push_back(f.slips);
  if (f.not_restored.empty() && f.errors.empty() && f.halted) {
    const bool operator_stop = !f.guardrail_tripped;
    r.reasons.push_back(operator_stop      ? "the steady state was not checked after an operator's halt"
                        : !f.after_checked ? "the steady state could not be checked after the rollback"
                        : f.after_held     ? "after rollback the steady state held again: the system recovered"
                                           : "after rollback the steady state did NOT hold");
  }
  return r;
}

}  // namespace chaosplus::runner
