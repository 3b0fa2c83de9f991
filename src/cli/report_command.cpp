#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/commands.h"
#include "runner/journal.h"
#include "runner/verdict_fold.h"

namespace chaosplus::cli {

void add_report_command(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "report",
      "Recompute a run's verdict and summary from its journal alone and print them as the run did.\n"
      "Exit codes: those of run (0 held, 1 deviated, 2 aborted, 3 error, 4 not restored, 6 unchecked), from the "
      "recomputed verdict; 3 also when the journal cannot be read or ends before the run's verdict.");
  auto path = std::make_shared<std::string>();
  cmd->add_option("JOURNAL", *path, "the run's journal (JSON lines), as `run` printed it")->required();
  cmd->callback([path, &exit_code] {
    auto events = runner::read_journal(*path);
    if (!events) {
      std::cerr << "report: " << events.error() << "\n";
      exit_code = kExitInvalid;
      return;
    }
    if (events->empty() || events->front().type != "run.started") {
      std::cerr << "report: " << *path << ": not a run's journal (its first event is not run.started)\n";
      exit_code = kExitInvalid;
      return;
    }
    runner::VerdictFold fold;
    const Event* written = nullptr;
    for (const Event& e : *events) {
      if (e.type == "run.verdict") written = &e;
      else fold.add(e);
    }
    const runner::RunSummary summary = fold.summary();
    runner::print_summary(std::cout, summary);
    exit_code = runner::exit_code(summary.decided.verdict);
    if (written == nullptr) {
      std::cerr << "report: " << *path << " ends before the run's verdict (the run was killed, or still runs)\n";
      exit_code = kExitInvalid;
    } else if (written->text("verdict") != runner::to_string(summary.decided.verdict)) {
      std::cerr << "report: the journal's run.verdict says " << written->text("verdict") << ", its events say "
                << runner::to_string(summary.decided.verdict) << "\n";
    }
  });
}

}  // namespace chaosplus::cli
