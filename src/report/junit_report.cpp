// JUnit XML: each check of the run a test case, so CI systems list them natively. One suite per
// kind (steady state, tolerance, threshold, guardrail); a check that failed has a <failure>, one
// the run never judged (the after check of a run that stopped first) is <skipped>.
#include <cstdio>
#include <map>

#include "report/text_escape.h"
#include "report/writers.h"

namespace chaosplus::report {
namespace {

struct Suite {
  std::string kind;
  std::vector<const Check*> cases;
  int failures = 0, skipped = 0;
};

std::string attribute(const std::string& text) { return "\"" + xml_escape(text) + "\""; }

std::string seconds(double ms) {
  char text[32];
  std::snprintf(text, sizeof text, "%.3f", ms / 1000.0);
  return text;
}

}  // namespace

std::string junit_report(const RunData& run) {
  const std::string experiment = run.row.experiment.empty() ? "experiment" : run.row.experiment;
  // The declared guardrails that did not trip held while the run watched them.
  std::vector<Check> held_guardrails;
  for (const std::string& name : run.guardrails_declared) {
    bool tripped = false;
    for (const Check& c : run.checks_made) tripped = tripped || (c.kind == "guardrail" && c.name == name);
    if (!tripped) held_guardrails.push_back(Check{"guardrail", name, "", true, "", "did not trip"});
  }
  std::vector<Suite> suites;
  for (const char* kind : {"steady_state", "tolerance", "threshold", "guardrail"})
    suites.push_back(Suite{kind, {}, 0, 0});
  auto place = [&](const Check& check) {
    for (Suite& s : suites) {
      if (s.kind != check.kind) continue;
      s.cases.push_back(&check);
      if (!check.held) ++s.skipped;
      else if (!*check.held) ++s.failures;
    }
  };
  for (const Check& c : run.checks_made) place(c);
  for (const Check& c : held_guardrails) place(c);

  int tests = 0, failures = 0, skipped = 0;
  for (const Suite& s : suites) tests += static_cast<int>(s.cases.size()), failures += s.failures, skipped += s.skipped;
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += "<testsuites name=" + attribute("chaosplus " + experiment) + " tests=\"" + std::to_string(tests) +
         "\" failures=\"" + std::to_string(failures) + "\" errors=\"0\" skipped=\"" + std::to_string(skipped) +
         "\" time=\"" + seconds(run.duration_ms) + "\">\n";
  const std::string timestamp =
      run.row.started != store::WallTime{} ? format_wall_time(run.row.started).substr(0, 19) : std::string();
  for (const Suite& s : suites) {
    if (s.cases.empty()) continue;
    const std::string suite_name = experiment + "." + s.kind;
    out += "  <testsuite name=" + attribute(suite_name) + " tests=\"" + std::to_string(s.cases.size()) +
           "\" failures=\"" + std::to_string(s.failures) + "\" errors=\"0\" skipped=\"" + std::to_string(s.skipped) +
           "\" time=\"0\"" + (timestamp.empty() ? "" : " timestamp=" + attribute(timestamp)) + ">\n";
    out += "    <properties><property name=\"run_id\" value=" + attribute(run.row.run_id) +
           "/><property name=\"verdict\" value=" + attribute(run.row.verdict) + "/></properties>\n";
    for (const Check* c : s.cases) {
      const std::string name = s.kind == "steady_state" ? "steady state " + c->name : c->name;
      out += "    <testcase classname=" + attribute(suite_name) + " name=" + attribute(name) + " time=\"0\"";
      std::string detail = c->message;
      if (!c->metric.empty()) detail += (detail.empty() ? "" : "\n") + std::string("metric: ") + c->metric;
      if (!c->measured.empty()) detail += (detail.empty() ? "" : "\n") + std::string("measured: ") + c->measured;
      if (!c->held) {
        out += ">\n      <skipped message=" + attribute(c->message.empty() ? "not judged" : c->message) +
               "/>\n    </testcase>\n";
      } else if (!*c->held) {
        out += ">\n      <failure type=" + attribute(s.kind) +
               " message=" + attribute(c->message.empty() ? "failed" : c->message) + ">" + xml_escape(detail) +
               "</failure>\n    </testcase>\n";
      } else if (!detail.empty()) {
        out += ">\n      <system-out>" + xml_escape(detail) + "</system-out>\n    </testcase>\n";
      } else {
        out += "/>\n";
      }
    }
    out += "  </testsuite>\n";
  }
  out += "</testsuites>\n";
  return out;
}

}  // namespace chaosplus::report
