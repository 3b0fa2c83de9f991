#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/commands.h"
#include "report/run_data.h"
#include "report/writers.h"
#include "runner/provenance.h"
#include "runner/verdict_fold.h"

namespace chaosplus::cli {
namespace {

struct ReportOptions {
  std::string run;
  std::string html, markdown, junit, sarif;
  std::string previous;
  bool any_file() const { return !html.empty() || !markdown.empty() || !junit.empty() || !sarif.empty(); }
};

// Without a format flag: the summary the run printed, recomputed from its events, and the exit code
// of its verdict (3 when the journal ends before the verdict).
int print_recomputed(const std::string& run, const std::vector<Event>& events) {
  runner::VerdictFold fold;
  const Event* written = nullptr;
  for (const Event& e : events) {
    if (e.type == "run.verdict") written = &e;
    else fold.add(e);
  }
  const runner::RunSummary summary = fold.summary();
  runner::print_summary(std::cout, summary);
  int code = runner::exit_code(summary.decided.verdict);
  if (written == nullptr) {
    std::cerr << "report: " << run << " ends before the run's verdict (the run was killed, or still runs)\n";
    code = kExitInvalid;
  } else if (written->text("verdict") != runner::to_string(summary.decided.verdict)) {
    std::cerr << "report: the journal's run.verdict says " << written->text("verdict") << ", its events say "
              << runner::to_string(summary.decided.verdict) << "\n";
  }
  return code;
}

int write_reports(const ReportOptions& options, const report::LoadedRun& loaded) {
  report::RunData run = report::derive_run(loaded.row, loaded.events);
  report::ReportContext context;
  context.version = runner::chaosplus_version();
  context.experiment_text = report::experiment_text(loaded.row);
  if (context.experiment_text) report::add_declared_guardrails(run, *context.experiment_text);
  if (!options.previous.empty()) {
    auto previous = report::load_run(options.previous, nullptr);
    if (!previous) {
      std::cerr << "report: --previous " << previous.error() << "\n";
      return kExitInvalid;
    }
    context.previous = report::compare_runs(report::derive_run(previous->row, previous->events), run);
  } else {
    context.previous_note = "no earlier run to compare with (give one with --previous)";
  }
  const std::pair<const std::string*, const char*> outputs[] = {
      {&options.html, "HTML"}, {&options.markdown, "Markdown"}, {&options.junit, "JUnit"}, {&options.sarif, "SARIF"}};
  for (const auto& [path, kind] : outputs) {
    if (path->empty()) continue;
    const std::string format = kind;
    const std::string content = format == "HTML"       ? report::html_report(run, context)
                                : format == "Markdown" ? report::markdown_report(run, context)
                                : format == "JUnit"    ? report::junit_report(run)
                                                       : report::sarif_report(run, context.version);
    if (auto written = report::write_report_file(*path, content); !written) {
      std::cerr << "report: " << written.error() << "\n";
      return kExitInvalid;
    }
    std::cout << format << " report: " << *path << "\n";
  }
  if (!run.complete) {
    std::cerr << "report: " << options.run << " ends before the run's verdict (the run was killed, or still runs)\n";
    return kExitInvalid;
  }
  return loaded.row.exit_code >= 0 ? loaded.row.exit_code : kExitInvalid;
}

}  // namespace

void add_report_command(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "report",
      "Without a format option: recompute a run's verdict and summary from its journal alone and print them as the "
      "run did. With --html, --markdown, --junit or --sarif: write those reports of the run (docs/reports.md).\n"
      "Exit codes: those of run (0 held, 1 deviated, 2 aborted, 3 error, 4 not restored, 6 unchecked), from the "
      "recomputed verdict (the run's own with a format option); 3 also when the run cannot be read, ends before its "
      "verdict, or a report cannot be written.");
  auto options = std::make_shared<ReportOptions>();
  cmd->add_option("RUN", options->run, "the run's journal (JSON lines), as `run` printed it")->required();
  cmd->add_option("--html", options->html,
                  "write one self-contained HTML page (charts, checks, faults, findings, the experiment file; opens "
                  "offline)");
  cmd->add_option("--markdown", options->markdown, "write a Markdown summary (for a pull-request comment)");
  cmd->add_option("--junit", options->junit, "write JUnit XML: each check a test case");
  cmd->add_option("--sarif", options->sarif, "write SARIF 2.1.0 of the run's findings");
  cmd->add_option("--previous", options->previous,
                  "compare with this earlier run (a journal) in the HTML and Markdown reports");
  cmd->callback([options, &exit_code] {
    auto loaded = report::load_run(options->run, nullptr);
    if (!loaded) {
      std::cerr << "report: " << loaded.error() << "\n";
      exit_code = kExitInvalid;
      return;
    }
    exit_code = options->any_file() ? write_reports(*options, *loaded) : print_recomputed(options->run, loaded->events);
  });
}

}  // namespace chaosplus::cli
