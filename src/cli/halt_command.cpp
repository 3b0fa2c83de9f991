#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>

#include "cli/commands.h"
#include "runner/halt_request.h"
#include "runner/ledger.h"
#include "runner/recovery.h"

namespace chaosplus::cli {

void add_halt_command(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("halt", "Stop every running experiment now: its faults are reverted at once");
  struct Options {
    std::string state_dir;
    std::string wait = "30s";
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("--state-dir", o->state_dir, "folder of the fault ledger");
  cmd->add_option("--wait", o->wait, "how long to wait for the runs to finish reverting (default 30s)");
  cmd->callback([o, &exit_code] {
    auto wait = parse_duration(o->wait);
    if (!wait) {
      std::cerr << "halt: --wait " << wait.error() << "\n";
      exit_code = kExitInvalid;
      return;
    }
    std::string dir = o->state_dir.empty() ? runner::default_state_dir() : o->state_dir;
    auto ledger = runner::Ledger::open(runner::ledger_path(dir));
    if (!ledger) {
      std::cerr << "halt: " << ledger.error() << "\n";
      exit_code = kExitInvalid;
      return;
    }
    // The same switch as the server's HALT (runner/halt_request.h).
    auto report = runner::halt_runs(**ledger, {}, *wait, std::cout);
    if (!report) {
      std::cerr << "halt: " << report.error() << "\n";
      exit_code = kExitInvalid;
      return;
    }
    for (const auto& run : report->runs) {
      if (!run.error.empty()) {
        std::cerr << "halt: cannot signal run " << run.run_id << " (pid " << run.pid << "): " << run.error << "\n";
        continue;
      }
      std::printf("halt: run %s (pid %d): ", run.run_id.c_str(), run.pid);
      if (run.faults_cleared) std::printf("all faults reverted %.3fs after the halt", *run.faults_cleared);
      else std::printf("faults NOT all reverted within %s", o->wait.c_str());
      if (run.ended) std::printf(", run ended after %.3fs\n", *run.ended);
      else std::printf(", run still ending\n");
    }
    if (report->recovered_crashed) {
      const auto& r = report->recovery;
      std::printf("halt: %d crashed run(s) recovered, %d change(s) reverted, %d failed\n", r.runs_recovered,
                  r.entries_reverted, r.entries_failed);
    }
    if (report->runs.empty() && !report->recovered_crashed) std::printf("halt: no experiment is running\n");
    std::fflush(stdout);
    exit_code = report->ok() ? 0 : kExitInvalid;
  });
}

}  // namespace chaosplus::cli
