#include "runner/verdict_fold.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ostream>

#include "runner/writes_line.h"

namespace chaosplus::runner {
namespace {

Duration from_ms(double ms) { return std::chrono::microseconds(std::llround(ms * 1000.0)); }

}  // namespace

double rounded_ms(Duration d) {
  return static_cast<double>(std::chrono::round<std::chrono::microseconds>(d).count()) / 1000.0;
}

void VerdictFold::add(const Event& e) {
  const std::string& t = e.type;
  if (t == "run.started") {
    experiment_ = e.text("experiment");
    journal_ = e.text("journal");
    logs_ = e.text("logs");
    checks_ = e.flag("checks");
  } else if (t == "run.error") {
    errors_.push_back(e.text("message"));
  } else if (t == "run.halted") {
    if (!halt_reason_) halt_reason_ = e.text("reason");
  } else if (t == "guardrail.tripped") {
    guardrail_tripped_ = true;
  } else if (t == "fault.injected") {
    ++injected_;
  } else if (t == "fault.reverted") {
    if (e.flag("ok")) {
      ++reverted_;
    } else {
      ++revert_failed_;
      not_restored_.push_back("revert failed: " + e.text("summary") + ": " + e.text("error"));
    }
  } else if (t == "rollback.done") {
    if (!e.flag("ok")) not_restored_.push_back("rollback " + e.text("name") + " failed: " + e.text("error"));
  } else if (t == "agent.teardown") {
    // An agent that could not revert its part of the run or stop its targets left something on.
    if (!e.flag("ok")) not_restored_.push_back("agent " + e.text("agent") + " could not tear down: " + e.text("error"));
  } else if (t == "placement.removed") {
    if (!e.flag("ok")) not_restored_.push_back("could not stop " + e.text("what") + ": " + e.text("error"));
  } else if (t == "steady_state.result") {
    const bool after = e.text("stage") == "after";
    if (after) {
      after_checked_ = true;
      after_held_ = e.flag("held");
      after_attempts_ = static_cast<int>(e.number("attempts"));
      if (e.find("time_to_recover_ms") != nullptr) time_to_recover_ms_ = e.number("time_to_recover_ms");
    } else {
      before_held_ = e.flag("held");
    }
    if (!e.flag("held")) steady_deviations_.push_back(e.text("message"));
  } else if (t == "tolerance.result") {
    continuous_.push_back(e.text("probe"));
    if (!e.flag("held"))
      tolerance_failures_.push_back("during the phases " + e.text("probe") + ": " + e.text("message"));
  } else if (t == "threshold.result") {
    if (!e.flag("held"))
      threshold_failures_.push_back(e.text("activity") + " " + e.text("name") + ": " + e.text("message"));
  } else if (t == "writes.summary") {
    writes_.push_back(writes_line(e, false));
  } else if (t == "timeline.slipped") {
    slips_.push_back(Slip{e.text("phase"), e.text("where"), from_ms(e.number("late_ms"))});
  } else if (t == "probe.result" && e.text("stage") == "during") {
    const std::string probe = e.text("probe");
    auto it = std::find_if(during_.begin(), during_.end(), [&](const auto& p) { return p.first == probe; });
    if (it == during_.end()) it = during_.insert(during_.end(), {probe, ProbeWindow{}});
    it->second.add(Sample{e.elapsed, e.flag("ok"), e.number("latency_ms") / 1000.0});
  }
}

RunFacts VerdictFold::facts() const {
  RunFacts f;
  f.errors = errors_;
  f.not_restored = not_restored_;
  // A run that failed halts itself with "error: <the first error>".
  f.halted = halt_reason_.has_value() || !errors_.empty();
  f.halt_reason = halt_reason_ ? *halt_reason_ : errors_.empty() ? std::string() : "error: " + errors_.front();
  f.guardrail_tripped = guardrail_tripped_;
  f.checked = checks_;
  f.before_held = before_held_;
  f.after_checked = after_checked_;
  f.after_held = after_held_;
  f.deviations = steady_deviations_;
  // A halted run's tolerances are not held against it: the phases were cut short.
  if (!f.halted) f.deviations.insert(f.deviations.end(), tolerance_failures_.begin(), tolerance_failures_.end());
  f.deviations.insert(f.deviations.end(), threshold_failures_.begin(), threshold_failures_.end());
  f.slips = slip_summary(slips_, kSlipMargin);
  return f;
}

RunSummary VerdictFold::summary() const {
  RunSummary s;
  s.experiment = experiment_;
  s.decided = decide(facts());
  s.faults_injected = injected_;
  s.faults_reverted = reverted_;
  s.faults_revert_failed = revert_failed_;
  s.time_to_recover_ms = time_to_recover_ms_;
  s.after_attempts = after_attempts_;
  for (const std::string& probe : continuous_) {
    auto it = std::find_if(during_.begin(), during_.end(), [&](const auto& p) { return p.first == probe; });
    s.probes.push_back({probe, it == during_.end() ? WindowStats{} : it->second.all()});
  }
  s.writes = writes_;
  s.journal = journal_;
  s.logs = logs_;
  return s;
}

void print_summary(std::ostream& out, const RunSummary& s) {
  const Verdict v = s.decided.verdict;
  out << "\n== " << s.experiment << ": " << label(v) << " (exit code " << exit_code(v) << ")\n";
  for (const auto& r : s.decided.reasons) out << "   - " << r << "\n";
  out << "   faults: " << s.faults_injected << " injected, " << s.faults_reverted << " reverted";
  if (s.faults_revert_failed > 0) out << ", " << s.faults_revert_failed << " FAILED to revert";
  out << "\n";
  if (s.time_to_recover_ms) {
    char line[160];
    std::snprintf(line, sizeof line,
                  "   time to recover: %.0f ms (the steady state passed after the reverts on attempt %d)\n",
                  *s.time_to_recover_ms, s.after_attempts);
    out << line;
  }
  for (const ProbeFigures& p : s.probes) {
    const WindowStats& w = p.overall;
    if (w.count == 0) {
      out << "   probe " << p.probe << " during the phases: not run\n";
      continue;
    }
    char line[200];
    std::snprintf(line, sizeof line, "   probe %s during the phases: %d/%d ok (%.1f%%), p50 %.1fms, p99 %.1fms\n",
                  p.probe.c_str(), w.ok, w.count, w.success_rate * 100, w.p50 * 1000, w.p99 * 1000);
    out << line;
  }
  for (const std::string& w : s.writes) out << "   " << w << "\n";
  out << "   journal: " << s.journal << "\n";
  out << "   logs:    " << s.logs << "/\n" << std::flush;
}

}  // namespace chaosplus::runner
