// The HTML report: one self-contained page. Chart.js, our timeline script and style are inlined,
// the run's data is embedded as JSON; nothing is fetched, so it opens offline and prints.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "report/chart_script.h"
#include "report/figures_text.h"
#include "report/page_assets.h"
#include "report/text_escape.h"
#include "report/writers.h"

namespace chaosplus::report {
namespace {

using Json = nlohmann::json;

double seconds(double ms) { return ms / 1000.0; }

std::string mark_short(const Mark& mark) {
  if (mark.kind == "guardrail") return "guardrail";
  if (mark.kind == "halt") return "halt";
  if (mark.kind == "error") return "error";
  return "fault failed";
}

// "v-held": its own prefix, so the badge's colours never mix with the tables' .held and .failed.
std::string verdict_class(const std::string& verdict) {
  return "v-" + (verdict.empty() ? std::string("none") : verdict);
}

std::string cell(const std::string& text, const std::string& css = "") {
  return "<td" + (css.empty() ? "" : " class=\"" + css + "\"") + ">" + html_escape(text) + "</td>";
}

std::string check_result(const Check& check) {
  if (!check.held) return "not judged";
  if (*check.held) return "held";
  return check.kind == "guardrail" ? "tripped" : "failed";
}

std::string check_class(const Check& check) { return !check.held ? "skipped" : *check.held ? "held" : "failed"; }

std::string header(const RunData& run) {
  const store::RunRow& row = run.row;
  std::string out = "<header>\n<h1>" + html_escape(row.experiment.empty() ? "(unnamed experiment)" : row.experiment) +
                    "</h1>\n<p class=\"meta\"><span>run " + html_escape(row.run_id) + "</span>";
  if (row.started != store::WallTime{})
    out += "<span>started " + html_escape(format_wall_time(row.started)) + "</span>";
  out += "<span>took " + s_text(run.duration_ms) + "</span>";
  if (!row.host.empty()) out += "<span>host " + html_escape(row.host) + "</span>";
  if (!run.version.empty()) out += "<span>chaosplus " + html_escape(run.version) + "</span>";
  out += "</p>\n<p><span class=\"verdict " + html_escape(verdict_class(row.verdict)) + "\" data-verdict=\"" +
         html_escape(row.verdict) + "\">" +
         html_escape(row.verdict.empty() ? "no verdict: the run was interrupted" : row.verdict) + "</span>";
  if (row.exit_code >= 0) out += " exit code " + std::to_string(row.exit_code);
  out += "</p>\n";
  if (!run.reasons.empty()) {
    out += "<ul class=\"reasons\">";
    for (const std::string& reason : run.reasons) out += "<li>" + html_escape(reason) + "</li>";
    out += "</ul>\n";
  }
  return out + "</header>\n";
}

std::string timeline(const RunData& run) {
  std::string out = "<section id=\"timeline\">\n<h2>Timeline</h2>\n";
  out +=
      "<p class=\"note\">Shaded bands: faults from injection to revert. Vertical lines: guardrail trips, halts, "
      "errors.</p>\n";
  auto chart = [](const std::string& name, const std::string& title) {
    return "<h3>" + title + "</h3>\n<div class=\"chart-box\"><canvas data-chart=\"" + name + "\" id=\"chart-" + name +
           "\" role=\"img\" aria-label=\"" + html_escape(title) + "\"></canvas></div>\n";
  };
  if (run.probes.empty()) {
    out += "<p class=\"note\">No probe ran in this run.</p>\n";
  } else {
    out += chart("probe-success", "Probe results");
    out += chart("probe-latency", "Probe latency");
  }
  if (run.loads.empty()) {
    out += "<p class=\"note\">This run had no load.</p>\n";
  } else {
    out += chart("load-rate", "Load: requests and errors per second");
    out += chart("load-latency", "Load: latency p50 and p99");
  }
  return out + "</section>\n";
}

std::string checks_table(const RunData& run) {
  std::string out = "<section id=\"checks\">\n<h2>Checks</h2>\n";
  if (run.checks_made.empty()) return out + "<p class=\"note\">Nothing was checked.</p>\n</section>\n";
  out += "<table><tr><th>kind</th><th>check</th><th>metric</th><th>result</th><th>measured</th><th>message</th></tr>\n";
  for (const Check& check : run.checks_made)
    out += "<tr>" + cell(check.kind == "steady_state" ? "steady state" : check.kind) + cell(check.name) +
           cell(check.metric) + cell(check_result(check), check_class(check)) + cell(check.measured) +
           cell(check.message) + "</tr>\n";
  return out + "</table>\n</section>\n";
}

std::string faults_table(const RunData& run) {
  std::string out = "<section id=\"faults\">\n<h2>Faults</h2>\n";
  if (run.faults.empty()) return out + "<p class=\"note\">No fault was injected.</p>\n</section>\n";
  out +=
      "<table><tr><th>fault</th><th>target</th><th>phase</th><th>on</th><th>off</th><th>revert</th><th>settings</th></"
      "tr>\n";
  for (const FaultBand& f : run.faults) {
    const std::string revert = !f.to_ms ? "never reverted" : f.reverted_ok ? "ok" : "failed: " + f.error;
    out += "<tr>" + cell(f.fault) + cell(f.target) + cell(f.phase) + cell(s_text(f.from_ms), "num") +
           cell(f.to_ms ? s_text(*f.to_ms) : "-", "num") + cell(revert, f.to_ms && f.reverted_ok ? "held" : "failed") +
           cell(f.summary) + "</tr>\n";
  }
  return out + "</table>\n</section>\n";
}

std::string figures_tables(const RunData& run) {
  std::string out = "<section id=\"figures\">\n<h2>Figures</h2>\n";
  if (!run.probes.empty()) {
    out +=
        "<h3>Probes during the phases</h3>\n<table><tr><th>probe</th><th>results</th><th>success</th><th>p50</th>"
        "<th>p99</th></tr>\n";
    for (const ProbeSeries& p : run.probes)
      out += "<tr>" + cell(p.probe) + cell(std::to_string(p.during.count), "num") +
             cell(percent_text(p.during.success_rate), "num") + cell(ms_text(p.during.p50_ms), "num") +
             cell(ms_text(p.during.p99_ms), "num") + "</tr>\n";
    out += "</table>\n";
  }
  if (!run.loads.empty()) {
    out +=
        "<h3>Loads</h3>\n<table><tr><th>load</th><th>phase</th><th>requests</th><th>rps</th><th>error rate</th>"
        "<th>p50</th><th>p90</th><th>p99</th><th>max</th></tr>\n";
    for (const LoadSeries& l : run.loads) {
      const LoadFigures& f = l.figures;
      out += "<tr>" + cell(l.load) + cell(l.phase) + cell(fixed(f.requests, 0), "num") + cell(fixed(f.rps, 1), "num") +
             cell(percent_text(f.error_rate), "num") + cell(ms_text(f.p50_ms), "num") + cell(ms_text(f.p90_ms), "num") +
             cell(ms_text(f.p99_ms), "num") + cell(ms_text(f.max_ms), "num") + "</tr>\n";
    }
    out += "</table>\n";
  }
  if (!run.phases.empty()) {
    out += "<h3>Phases</h3>\n<table><tr><th>phase</th><th>from</th><th>to</th><th></th></tr>\n";
    for (const PhaseSpan& p : run.phases)
      out += "<tr>" + cell(p.name) + cell(s_text(p.from_ms), "num") + cell(p.to_ms ? s_text(*p.to_ms) : "-", "num") +
             cell(p.halted   ? "halted"
                  : !p.to_ms ? "did not end"
                             : "",
                  p.halted || !p.to_ms ? "failed" : "") +
             "</tr>\n";
    out += "</table>\n";
  }
  if (run.time_to_recover_ms)
    out += "<p>Time to recover (steady state after the reverts): " + ms_text(*run.time_to_recover_ms) + "</p>\n";
  if (!run.marks.empty()) {
    out += "<h3>Trips, halts and errors</h3>\n<table><tr><th>at</th><th>what</th></tr>\n";
    for (const Mark& m : run.marks) out += "<tr>" + cell(s_text(m.at_ms), "num") + cell(m.label) + "</tr>\n";
    out += "</table>\n";
  }
  return out + "</section>\n";
}

std::string findings_table(const RunData& run) {
  std::string out = "<section id=\"findings\">\n<h2>Findings</h2>\n";
  if (run.findings.empty()) return out + "<p class=\"note\">No finding.</p>\n</section>\n";
  out +=
      "<table><tr><th>id</th><th>severity</th><th>engine</th><th>oracle</th><th>operation</th><th>phase</th>"
      "<th>count</th><th>title</th></tr>\n";
  for (const FindingEntry& f : run.findings)
    out += "<tr>" + cell(f.id) + cell(f.severity) + cell(f.engine) + cell(f.oracle) + cell(f.operation) +
           cell(f.phase) + cell(std::to_string(f.count), "num") + cell(f.title) + "</tr>\n";
  return out + "</table>\n</section>\n";
}

std::string comparison_section(const ReportContext& context) {
  std::string out = "<section id=\"comparison\">\n<h2>Compared with the previous run</h2>\n";
  if (!context.previous)
    return out + "<p class=\"note\">" +
           html_escape(context.previous_note.empty() ? "no earlier run" : context.previous_note) + "</p>\n</section>\n";
  const Comparison& c = *context.previous;
  out += "<p>A: " + html_escape(c.run_a) + " (the previous run), B: " + html_escape(c.run_b) + " (this run). " +
         (c.regression() ? "<span class=\"regression\">Regression.</span>" : "No regression.") + "</p>\n";
  out += "<table><tr><th>what</th><th>A</th><th>B</th><th>change</th><th>rule</th></tr>\n";
  for (const CompareRow& r : c.rows) {
    const std::string change = std::string(to_string(r.change)) + (r.regression ? " (regression)" : "");
    out += "<tr>" + cell(r.what) + cell(r.a, "num") + cell(r.b, "num") +
           cell(change, r.change == Change::worse    ? "worse"
                        : r.change == Change::better ? "better"
                                                     : "same") +
           cell(r.rule) + "</tr>\n";
  }
  return out + "</table>\n</section>\n";
}

std::string experiment_section(const RunData& run, const ReportContext& context) {
  std::string out = "<section id=\"experiment\">\n<h2>Experiment file</h2>\n";
  if (!run.row.file.empty()) out += "<p class=\"meta\">" + html_escape(run.row.file) + "</p>\n";
  if (!context.experiment_text)
    return out +
           "<p class=\"note\">Not available: the results store does not hold it and the file has changed since the run "
           "(or is gone).</p>\n</section>\n";
  return out + "<pre class=\"experiment\">" + html_escape(*context.experiment_text) + "</pre>\n</section>\n";
}

}  // namespace

std::string timeline_json(const RunData& run) {
  Json probes = Json::array();
  for (const ProbeSeries& p : run.probes) {
    Json points = Json::array();
    for (const ProbePoint& point : p.points)
      points.push_back(Json::array({seconds(point.at_ms), point.ok ? 1 : 0, point.latency_ms, point.stage}));
    probes.push_back({{"probe", p.probe}, {"points", points}});
  }
  Json loads = Json::array();
  for (const LoadSeries& l : run.loads) {
    Json ticks = Json::array();
    for (const LoadTick& t : l.ticks)
      ticks.push_back({{"t", seconds((t.from_ms + t.to_ms) / 2)},
                       {"rps", t.rps},
                       {"errors", t.errors + t.status_4xx_5xx + t.dropped},
                       {"error_rate", t.error_rate},
                       {"p50", t.p50_ms},
                       {"p99", t.p99_ms}});
    loads.push_back({{"load", l.load}, {"phase", l.phase}, {"ticks", ticks}});
  }
  Json faults = Json::array();
  for (const FaultBand& f : run.faults)
    faults.push_back({{"label", f.fault + (f.target.empty() ? "" : " " + f.target)},
                      {"summary", f.summary},
                      {"from", seconds(f.from_ms)},
                      {"to", f.to_ms ? Json(seconds(*f.to_ms)) : Json(nullptr)},
                      {"ok", f.reverted_ok}});
  Json marks = Json::array();
  for (const Mark& m : run.marks)
    marks.push_back({{"at", seconds(m.at_ms)}, {"kind", m.kind}, {"short", mark_short(m)}, {"label", m.label}});
  Json phases = Json::array();
  for (const PhaseSpan& p : run.phases)
    phases.push_back(
        {{"name", p.name}, {"from", seconds(p.from_ms)}, {"to", p.to_ms ? Json(seconds(*p.to_ms)) : Json(nullptr)}});
  const Json data = {{"run",
                      {{"id", run.row.run_id},
                       {"experiment", run.row.experiment},
                       {"verdict", run.row.verdict},
                       {"duration_s", seconds(run.duration_ms)},
                       {"complete", run.complete}}},
                     {"probes", probes},
                     {"loads", loads},
                     {"faults", faults},
                     {"marks", marks},
                     {"phases", phases}};
  return data.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string html_report(const RunData& run, const ReportContext& context) {
  const std::string title = "chaosplus report: " + run.row.experiment + " " + run.row.run_id;
  std::string out;
  out.reserve(chart_script().size() + 64 * 1024);
  out += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  // Nothing from the network: scripts and styles are inline, images data: only.
  out +=
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; script-src 'unsafe-inline'; "
      "style-src 'unsafe-inline'; img-src data:\">\n";
  out +=
      "<title>" + html_escape(title) + "</title>\n<style>\n" + std::string(report_page_style()) + "</style>\n</head>\n";
  out += "<body data-run-id=\"" + html_escape(run.row.run_id) + "\">\n";
  out += header(run);
  out += timeline(run);
  out += checks_table(run);
  out += faults_table(run);
  out += figures_tables(run);
  out += findings_table(run);
  out += comparison_section(context);
  out += experiment_section(run, context);
  out += "<footer>Written by chaosplus" + (context.version.empty() ? "" : " " + html_escape(context.version)) +
         " from the run's events.</footer>\n";
  out += "<script type=\"application/json\" id=\"run-data\">" + script_safe_json(timeline_json(run)) + "</script>\n";
  out += "<script>\n" + script_safe_code(chart_script()) + "\n</script>\n";
  out += "<script>\n" + script_safe_code(report_page_script()) + "</script>\n";
  out += "</body>\n</html>\n";
  return out;
}

}  // namespace chaosplus::report
