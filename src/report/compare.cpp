#include "report/compare.h"
#include "report/figures_text.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>

#include "core/units.h"

namespace chaosplus::report {
namespace {

// A rule's figure as written on the command line: "25%", "5 ms", "1 s".
std::string rule_percent(double fraction) {
  std::string text = fixed(fraction * 100, 2);
  while (text.back() == '0') text.pop_back();
  if (text.back() == '.') text.pop_back();
  return text + "%";
}
std::string rule_ms(double ms) {
  if (ms >= 1000 && static_cast<long long>(ms) % 1000 == 0)
    return std::to_string(static_cast<long long>(ms / 1000)) + " s";
  std::string text = fixed(ms, 3);
  while (text.back() == '0') text.pop_back();
  if (text.back() == '.') text.pop_back();
  return text + " ms";
}

// Higher is worse (latency, error rate, recovery time): worse when B - A > allowed, better when
// A - B > allowed.
Change judge_higher_worse(double a, double b, double allowed) {
  // A change exactly at the allowance is within it: 98% after 100% with 2 points allowed is the
  // same, whatever the binary fractions make of it.
  allowed += 1e-9 * std::max({1.0, std::abs(a), std::abs(b)});
  if (b - a > allowed) return Change::worse;
  if (a - b > allowed) return Change::better;
  return Change::same;
}

void add(Comparison& c, std::string section, std::string what, std::string a, std::string b, Change change,
         std::string rule) {
  const bool regression = change == Change::worse;
  c.rows.push_back(
      CompareRow{std::move(section), std::move(what), std::move(a), std::move(b), change, std::move(rule), regression});
}

void add_latency(Comparison& c, const std::string& section, const std::string& what, double a, double b, double ratio,
                 double floor_ms) {
  const double allowed = std::max(ratio * a, floor_ms);
  add(c, section, what, ms_text(a), ms_text(b), judge_higher_worse(a, b, allowed),
      "worse when up by more than max(" + rule_percent(ratio) + ", " + rule_ms(floor_ms) + ")");
}

// held < unchecked < deviated < aborted < error < not_restored: what a pipeline would rather see.
int verdict_rank(const std::string& verdict) {
  static const std::vector<std::string> order{"held", "unchecked", "deviated", "aborted", "error", "not_restored"};
  const auto it = std::find(order.begin(), order.end(), verdict);
  return it == order.end() ? static_cast<int>(order.size()) : static_cast<int>(it - order.begin());
}

std::string verdict_text(const RunData& run) {
  return run.row.verdict.empty() ? std::string("none (interrupted)") : run.row.verdict;
}

void compare_verdicts(Comparison& c, const RunData& a, const RunData& b) {
  const int ra = verdict_rank(a.row.verdict), rb = verdict_rank(b.row.verdict);
  add(c, "verdict", "verdict", verdict_text(a), verdict_text(b),
      rb > ra   ? Change::worse
      : rb < ra ? Change::better
                : Change::same,
      "worse in the order held, unchecked, deviated, aborted, error, not_restored");
}

void compare_probes(Comparison& c, const RunData& a, const RunData& b, const CompareRules& rules) {
  auto find = [](const RunData& run, const std::string& name) -> const ProbeSeries* {
    for (const ProbeSeries& p : run.probes)
      if (p.probe == name && p.during.count > 0) return &p;
    return nullptr;
  };
  std::vector<std::string> names;
  for (const RunData* run : {&a, &b})
    for (const ProbeSeries& p : run->probes)
      if (p.during.count > 0 && std::find(names.begin(), names.end(), p.probe) == names.end()) names.push_back(p.probe);
  for (const std::string& name : names) {
    const ProbeSeries* pa = find(a, name);
    const ProbeSeries* pb = find(b, name);
    const std::string what = "probe " + name;
    if (pa == nullptr || pb == nullptr) {
      add(c, "probe", what + " (during the phases)", pa ? std::to_string(pa->during.count) + " results" : "",
          pb ? std::to_string(pb->during.count) + " results" : "", pa ? Change::only_a : Change::only_b,
          "not compared: it ran in one run only");
      continue;
    }
    const double allowed = rules.success_rate_points / 100.0;
    // Lower success is worse: flip the sides of the higher-is-worse judgement.
    add(c, "probe", what + " success rate (during the phases)", percent_text(pa->during.success_rate),
        percent_text(pb->during.success_rate),
        judge_higher_worse(-pa->during.success_rate, -pb->during.success_rate, allowed),
        "worse when down by more than " + fixed(rules.success_rate_points, 2) + " percentage points");
    add_latency(c, "probe", what + " p50 latency (during the phases)", pa->during.p50_ms, pb->during.p50_ms,
                rules.latency_ratio, rules.latency_floor_ms);
    add_latency(c, "probe", what + " p99 latency (typical second)", pa->during.p99_typical_ms,
                pb->during.p99_typical_ms, rules.tail_ratio, rules.tail_floor_ms);
  }
}

void compare_loads(Comparison& c, const RunData& a, const RunData& b, const CompareRules& rules) {
  // Loads are matched by name and phase: the same name in two phases is two loads.
  auto key = [](const LoadSeries& l) { return l.load + (l.phase.empty() ? "" : " (phase " + l.phase + ")"); };
  auto find = [&](const RunData& run, const std::string& k) -> const LoadSeries* {
    for (const LoadSeries& l : run.loads)
      if (key(l) == k && l.figures.requests > 0) return &l;
    return nullptr;
  };
  std::vector<std::string> keys;
  for (const RunData* run : {&a, &b})
    for (const LoadSeries& l : run->loads)
      if (l.figures.requests > 0 && std::find(keys.begin(), keys.end(), key(l)) == keys.end()) keys.push_back(key(l));
  for (const std::string& k : keys) {
    const LoadSeries* la = find(a, k);
    const LoadSeries* lb = find(b, k);
    const std::string what = "load " + k;
    if (la == nullptr || lb == nullptr) {
      add(c, "load", what, la ? fixed(la->figures.requests, 0) + " requests" : "",
          lb ? fixed(lb->figures.requests, 0) + " requests" : "", la ? Change::only_a : Change::only_b,
          "not compared: it ran in one run only");
      continue;
    }
    add_latency(c, "load", what + " p50 latency", la->figures.p50_ms, lb->figures.p50_ms, rules.latency_ratio,
                rules.latency_floor_ms);
    add_latency(c, "load", what + " p99 latency (typical second)", la->figures.p99_typical_ms,
                lb->figures.p99_typical_ms, rules.tail_ratio, rules.tail_floor_ms);
    add(c, "load", what + " error rate", percent_text(la->figures.error_rate), percent_text(lb->figures.error_rate),
        judge_higher_worse(la->figures.error_rate, lb->figures.error_rate, rules.error_rate_points / 100.0),
        "worse when up by more than " + fixed(rules.error_rate_points, 2) + " percentage points");
  }
}

const Check* find_check(const RunData& run, const std::string& kind, const std::string& name) {
  for (const Check& check : run.checks_made)
    if (check.kind == kind && check.name == name) return &check;
  return nullptr;
}

void compare_recovery(Comparison& c, const RunData& a, const RunData& b, const CompareRules& rules) {
  const std::string rule = "worse when longer by more than max(" + rule_percent(rules.recovery_ratio) + ", " +
                           rule_ms(rules.recovery_floor_ms) + ")";
  auto failed_after = [](const RunData& run) {
    const Check* after = find_check(run, "steady_state", "after");
    return after != nullptr && after->held && !*after->held;
  };
  if (a.time_to_recover_ms && b.time_to_recover_ms) {
    const double allowed = std::max(rules.recovery_ratio * *a.time_to_recover_ms, rules.recovery_floor_ms);
    add(c, "recovery", "time to recover (steady state after)", ms_text(*a.time_to_recover_ms),
        ms_text(*b.time_to_recover_ms), judge_higher_worse(*a.time_to_recover_ms, *b.time_to_recover_ms, allowed),
        rule);
  } else if (a.time_to_recover_ms && failed_after(b)) {
    add(c, "recovery", "time to recover (steady state after)", ms_text(*a.time_to_recover_ms), "did not recover",
        Change::worse, rule);
  } else if (b.time_to_recover_ms && failed_after(a)) {
    add(c, "recovery", "time to recover (steady state after)", "did not recover", ms_text(*b.time_to_recover_ms),
        Change::better, rule);
  }
}

std::string held_text(const Check* check) {
  if (check == nullptr) return "";
  if (!check->held) return "not judged";
  return *check->held ? "held" : (check->kind == "guardrail" ? "tripped" : "failed");
}

// Every check either run judged: a held one that fails in B is worse. A guardrail appears only when
// it tripped, so its absence is "held".
void compare_checks(Comparison& c, const RunData& a, const RunData& b) {
  std::vector<std::pair<std::string, std::string>> seen;
  for (const RunData* run : {&a, &b})
    for (const Check& check : run->checks_made)
      if (std::find(seen.begin(), seen.end(), std::pair{check.kind, check.name}) == seen.end())
        seen.emplace_back(check.kind, check.name);
  for (const auto& [kind, name] : seen) {
    const Check* ca = find_check(a, kind, name);
    const Check* cb = find_check(b, kind, name);
    const bool guardrail = kind == "guardrail";
    std::string ta = held_text(ca), tb = held_text(cb);
    // 1 held, 0 failed, -1 not judged (an int: GCC 12 misreads optional<bool> here).
    auto state = [](const Check* check) { return check == nullptr || !check->held ? -1 : *check->held ? 1 : 0; };
    int sa = state(ca), sb = state(cb);
    if (guardrail) {
      if (!ca) ta = "not tripped", sa = 1;
      if (!cb) tb = "not tripped", sb = 1;
    }
    const std::string what = (kind == "steady_state" ? "steady state " : kind + " ") + name;
    Change change = Change::same;
    if (!guardrail && (ca == nullptr || cb == nullptr)) change = ca ? Change::only_a : Change::only_b;
    else if (sa == 1 && sb != 1) change = Change::worse;  // held in A; failed, or not judged, in B
    else if (sa == 0 && sb == 1) change = Change::better;
    add(c, "check", what, ta, tb, change, "worse when it held in A and failed (or was not judged) in B");
  }
}

void compare_findings(Comparison& c, const RunData& a, const RunData& b) {
  auto ids = [](const RunData& run) {
    std::set<std::string> out;
    for (const FindingEntry& f : run.findings) out.insert(f.id);
    return out;
  };
  const std::set<std::string> in_a = ids(a), in_b = ids(b);
  auto describe = [](const FindingEntry& f) { return f.id + " " + f.severity + " " + f.engine + "/" + f.oracle; };
  for (const FindingEntry& f : b.findings)
    if (!in_a.contains(f.id))
      add(c, "finding", "finding " + describe(f) + (f.title.empty() ? "" : ": " + f.title), "", "new", Change::worse,
          "any new finding is worse");
  for (const FindingEntry& f : a.findings)
    if (!in_b.contains(f.id))
      add(c, "finding", "finding " + describe(f) + (f.title.empty() ? "" : ": " + f.title), "present", "gone",
          Change::better, "any new finding is worse");
  const std::size_t kept =
      std::count_if(b.findings.begin(), b.findings.end(), [&](const FindingEntry& f) { return in_a.contains(f.id); });
  if (!a.findings.empty() || !b.findings.empty())
    add(c, "finding", "findings (unique)", std::to_string(in_a.size()),
        std::to_string(in_b.size()) + " (" + std::to_string(kept) + " seen in A too)", Change::same,
        "any new finding is worse (rows above)");
}

std::string pad(const std::string& text, std::size_t width) {
  return text.size() >= width ? text : text + std::string(width - text.size(), ' ');
}

}  // namespace

Status set_rule(CompareRules& rules, const std::string& flag, const std::string& value) {
  auto percent = [&](double& target, bool as_points) -> Status {
    auto parsed = parse_percentage(value);
    if (!parsed)
      return Error{"--" + flag + " " + value + ": expected a percentage such as 25%", ErrorCode::invalid_argument};
    target = as_points ? *parsed * 100 : *parsed;
    return ok_status();
  };
  auto duration = [&](double& target) -> Status {
    auto parsed = parse_duration(value);
    if (!parsed)
      return Error{"--" + flag + " " + value + ": expected a duration such as 5ms or 1s", ErrorCode::invalid_argument};
    target = std::chrono::duration<double, std::milli>(*parsed).count();
    return ok_status();
  };
  if (flag == "latency-tolerance") return percent(rules.latency_ratio, false);
  if (flag == "latency-floor") return duration(rules.latency_floor_ms);
  if (flag == "tail-tolerance") return percent(rules.tail_ratio, false);
  if (flag == "tail-floor") return duration(rules.tail_floor_ms);
  if (flag == "error-rate-tolerance") return percent(rules.error_rate_points, true);
  if (flag == "success-rate-tolerance") return percent(rules.success_rate_points, true);
  if (flag == "recovery-tolerance") return percent(rules.recovery_ratio, false);
  if (flag == "recovery-floor") return duration(rules.recovery_floor_ms);
  return Error{"unknown compare rule --" + flag, ErrorCode::invalid_argument};
}

std::string_view to_string(Change change) {
  switch (change) {
    case Change::better: return "better";
    case Change::same: return "same";
    case Change::worse: return "worse";
    case Change::only_a: return "only in A";
    case Change::only_b: return "only in B";
  }
  return "same";
}

bool Comparison::regression() const {
  return std::any_of(rows.begin(), rows.end(), [](const CompareRow& r) { return r.regression; });
}

Comparison compare_runs(const RunData& a, const RunData& b, const CompareRules& rules) {
  Comparison c{a.row.run_id, b.row.run_id, a.row.experiment, b.row.experiment, {}};
  compare_verdicts(c, a, b);
  compare_probes(c, a, b, rules);
  compare_loads(c, a, b, rules);
  compare_recovery(c, a, b, rules);
  compare_checks(c, a, b);
  compare_findings(c, a, b);
  return c;
}

std::string format_comparison(const Comparison& comparison) {
  std::size_t what = 4, a = 1, b = 1, change = 6;
  for (const CompareRow& r : comparison.rows) {
    what = std::max(what, r.what.size());
    a = std::max(a, r.a.size());
    b = std::max(b, r.b.size());
    change = std::max(change, std::string(to_string(r.change)).size() + (r.regression ? 13 : 0));
  }
  std::string out = "A: " + comparison.run_a + " (" + comparison.experiment_a + ")\nB: " + comparison.run_b + " (" +
                    comparison.experiment_b + ")\n\n";
  out += pad("what", what) + "  " + pad("A", a) + "  " + pad("B", b) + "  " + pad("change", change) + "  rule\n";
  for (const CompareRow& r : comparison.rows) {
    const std::string verdict = std::string(to_string(r.change)) + (r.regression ? " (REGRESSION)" : "");
    out += pad(r.what, what) + "  " + pad(r.a, a) + "  " + pad(r.b, b) + "  " + pad(verdict, change) + "  " + r.rule +
           "\n";
  }
  std::vector<std::string> regressions;
  for (const CompareRow& r : comparison.rows)
    if (r.regression) regressions.push_back(r.what);
  if (regressions.empty()) {
    out += "\nno regression\n";
  } else {
    out += "\nREGRESSION (" + std::to_string(regressions.size()) + "):\n";
    for (const std::string& r : regressions) out += "  " + r + "\n";
  }
  return out;
}

std::string comparison_markdown(const Comparison& comparison) {
  auto cell = [](const std::string& text) {
    std::string out;
    for (const char ch : text) {
      if (ch == '|') out += "\\|";
      else if (ch == '\n') out += ' ';
      else out += ch;
    }
    return out;
  };
  std::string out = "| what | A | B | change | rule |\n| --- | --- | --- | --- | --- |\n";
  for (const CompareRow& r : comparison.rows) {
    const std::string change = r.regression ? "**worse (regression)**" : std::string(to_string(r.change));
    out += "| " + cell(r.what) + " | " + cell(r.a) + " | " + cell(r.b) + " | " + change + " | " + cell(r.rule) + " |\n";
  }
  out += comparison.regression() ? "\n**Regression** against " + cell(comparison.run_a) + ".\n"
                                 : "\nNo regression against " + cell(comparison.run_a) + ".\n";
  return out;
}

std::string comparison_json(const Comparison& comparison) {
  nlohmann::json rows = nlohmann::json::array();
  for (const CompareRow& r : comparison.rows)
    rows.push_back({{"section", r.section},
                    {"what", r.what},
                    {"a", r.a},
                    {"b", r.b},
                    {"change", std::string(to_string(r.change))},
                    {"rule", r.rule},
                    {"regression", r.regression}});
  nlohmann::json out = {{"run_a", comparison.run_a},
                        {"run_b", comparison.run_b},
                        {"experiment_a", comparison.experiment_a},
                        {"experiment_b", comparison.experiment_b},
                        {"regression", comparison.regression()},
                        {"rows", rows}};
  return out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace chaosplus::report
