// The Markdown report, sized for a pull-request comment: the verdict first, then what was checked,
// the faults, the load figures, the findings and the comparison with the previous run.
#include <cstdio>

#include "report/figures_text.h"
#include "report/text_escape.h"
#include "report/writers.h"

namespace chaosplus::report {
namespace {

std::string code(const std::string& text) { return "`" + markdown_cell(text) + "`"; }

std::string result_of(const Check& check) {
  if (!check.held) return "not judged";
  if (*check.held) return "held";
  return check.kind == "guardrail" ? "**tripped**" : "**failed**";
}

}  // namespace

std::string markdown_report(const RunData& run, const ReportContext& context) {
  const store::RunRow& row = run.row;
  std::string verdict = row.verdict.empty() ? "no verdict (interrupted)" : row.verdict;
  std::string out = "### chaosplus: " + markdown_cell(row.experiment) + ": **" + verdict + "**";
  if (row.exit_code >= 0) out += " (exit code " + std::to_string(row.exit_code) + ")";
  out += "\n\nRun " + code(row.run_id);
  if (row.started != store::WallTime{}) out += ", started " + format_wall_time(row.started);
  out += ", took " + s_text(run.duration_ms);
  if (!row.host.empty()) out += ", on " + markdown_cell(row.host);
  out += ".\n";
  if (!run.reasons.empty()) {
    out += "\n";
    for (const std::string& reason : run.reasons) out += "- " + markdown_cell(reason) + "\n";
  }

  out += "\n#### Checks\n\n";
  if (run.checks_made.empty()) {
    out += "Nothing was checked.\n";
  } else {
    out += "| kind | check | result | measured | message |\n| --- | --- | --- | --- | --- |\n";
    for (const Check& c : run.checks_made)
      out += "| " + std::string(c.kind == "steady_state" ? "steady state" : c.kind) + " | " + markdown_cell(c.name) +
             " | " + result_of(c) + " | " + markdown_cell(c.measured) + " | " + markdown_cell(c.message) + " |\n";
  }

  if (!run.faults.empty()) {
    out += "\n#### Faults\n\n| fault | target | phase | on | off | revert |\n| --- | --- | --- | --- | --- | --- |\n";
    for (const FaultBand& f : run.faults)
      out += "| " + markdown_cell(f.fault) + " | " + markdown_cell(f.target) + " | " + markdown_cell(f.phase) + " | " +
             s_text(f.from_ms) + " | " + (f.to_ms ? s_text(*f.to_ms) : "-") + " | " +
             (!f.to_ms        ? "**never reverted**"
              : f.reverted_ok ? "ok"
                              : "**failed**: " + markdown_cell(f.error)) +
             " |\n";
  }

  if (!run.loads.empty()) {
    out +=
        "\n#### Load\n\n| load | phase | requests | rps | error rate | p50 | p99 |\n"
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |\n";
    for (const LoadSeries& l : run.loads)
      out += "| " + markdown_cell(l.load) + " | " + markdown_cell(l.phase) + " | " + fixed(l.figures.requests, 0) +
             " | " + fixed(l.figures.rps, 1) + " | " + percent_text(l.figures.error_rate) + " | " +
             ms_text(l.figures.p50_ms) + " | " + ms_text(l.figures.p99_ms) + " |\n";
  }

  if (!run.probes.empty()) {
    out +=
        "\n#### Probes during the phases\n\n| probe | results | success | p50 | p99 |\n"
        "| --- | ---: | ---: | ---: | ---: |\n";
    for (const ProbeSeries& p : run.probes)
      out += "| " + markdown_cell(p.probe) + " | " + std::to_string(p.during.count) + " | " +
             percent_text(p.during.success_rate) + " | " + ms_text(p.during.p50_ms) + " | " + ms_text(p.during.p99_ms) +
             " |\n";
  }
  if (run.time_to_recover_ms) out += "\nTime to recover: " + ms_text(*run.time_to_recover_ms) + ".\n";

  out += "\n#### Findings\n\n";
  if (run.findings.empty()) {
    out += "None.\n";
  } else {
    out += "| id | severity | oracle | operation | title |\n| --- | --- | --- | --- | --- |\n";
    for (const FindingEntry& f : run.findings)
      out += "| " + code(f.id) + " | " + markdown_cell(f.severity) + " | " + markdown_cell(f.engine + "/" + f.oracle) +
             " | " + markdown_cell(f.operation) + " | " + markdown_cell(f.title) + " |\n";
  }

  out += "\n#### Compared with the previous run\n\n";
  if (context.previous) {
    out +=
        "A: " + code(context.previous->run_a) + " (previous), B: " + code(context.previous->run_b) + " (this run).\n\n";
    out += comparison_markdown(*context.previous);
  } else {
    out += "_" + markdown_cell(context.previous_note.empty() ? "no earlier run" : context.previous_note) + "_\n";
  }
  return out;
}

}  // namespace chaosplus::report
