#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/commands.h"
#include "cli/run_store.h"
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
  std::string store, state_dir;
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

// The comparison with the previous run: the one given with --previous, else the run of the same
// experiment that started last before this one in the results store.
Status add_previous(const ReportOptions& options, RunStore& runs, const report::RunData& run,
                    report::ReportContext& context) {
  std::optional<report::LoadedRun> previous;
  if (!options.previous.empty()) {
    auto given = runs.load(options.previous);
    if (!given) return Error{"--previous " + given.error(), given.code()};
    previous = std::move(given).value();
  } else {
    auto store = runs.get();
    if (!store) {
      context.previous_note = "no earlier run: " + store.error();
      return ok_status();
    }
    if (*store == nullptr) {
      context.previous_note = "no earlier run: " + runs.describe() + " (give one with --previous)";
      return ok_status();
    }
    auto row = (*store)->previous_run(run.row);
    if (!row) return Error{"looking up the previous run in " + (*store)->describe() + ": " + row.error(), row.code()};
    if (!*row) {
      context.previous_note = "no earlier run of " + run.row.experiment + " in " + (*store)->describe();
      return ok_status();
    }
    auto events = (*store)->events((*row)->run_id);
    if (!events) return Error{"reading the previous run " + (*row)->run_id + ": " + events.error(), events.code()};
    report::LoadedRun loaded{**row, {}};
    for (store::StoredEvent& e : *events) loaded.events.push_back(std::move(e.event));
    previous = std::move(loaded);
  }
  context.previous = report::compare_runs(report::derive_run(previous->row, previous->events), run);
  return ok_status();
}

int write_reports(const ReportOptions& options, RunStore& runs, const report::LoadedRun& loaded) {
  report::RunData run = report::derive_run(loaded.row, loaded.events);
  report::ReportContext context;
  context.version = runner::chaosplus_version();
  context.experiment_text = report::experiment_text(loaded.row);
  if (context.experiment_text) report::add_declared_guardrails(run, *context.experiment_text);
  if (auto added = add_previous(options, runs, run, context); !added) {
    std::cerr << "report: " << added.error() << "\n";
    return kExitInvalid;
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
  cmd->add_option("RUN", options->run,
                  "the run: its journal (JSON lines), as `run` printed it, or its id (or a unique prefix of it) in the "
                  "results store")
      ->required();
  cmd->add_option("--html", options->html,
                  "write one self-contained HTML page (charts, checks, faults, findings, the experiment file; opens "
                  "offline)");
  cmd->add_option("--markdown", options->markdown, "write a Markdown summary (for a pull-request comment)");
  cmd->add_option("--junit", options->junit, "write JUnit XML: each check a test case");
  cmd->add_option("--sarif", options->sarif, "write SARIF 2.1.0 of the run's findings");
  cmd->add_option("--previous", options->previous,
                  "compare with this earlier run (a journal or a run id) in the HTML and Markdown reports; default: "
                  "the previous run of the same experiment in the results store");
  cmd->add_option("--store", options->store,
                  "the results store (a file path, sqlite:PATH or postgresql://...); default: $CHAOSPLUS_STORE, the "
                  "config file's store:, else <state dir>/results.db");
  cmd->add_option("--state-dir", options->state_dir, "the state folder whose results.db is the default store");
  cmd->callback([options, &exit_code] {
    RunStore runs(options->store, options->state_dir);
    auto loaded = runs.load(options->run);
    if (!loaded) {
      std::cerr << "report: " << loaded.error() << "\n";
      exit_code = kExitInvalid;
      return;
    }
    exit_code =
        options->any_file() ? write_reports(*options, runs, *loaded) : print_recomputed(options->run, loaded->events);
  });
}

}  // namespace chaosplus::cli
