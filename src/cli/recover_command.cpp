#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/commands.h"
#include "runner/ledger.h"
#include "runner/recovery.h"

namespace chaosplus::cli {

void add_recover_command(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "recover", "Revert every change left by runs that died (kill -9, power loss); also done at the start of run");
  auto state_dir = std::make_shared<std::string>();
  cmd->add_option("--state-dir", *state_dir, "folder of the fault ledger");
  cmd->callback([state_dir, &exit_code] {
    std::string dir = state_dir->empty() ? runner::default_state_dir() : *state_dir;
    auto ledger = runner::Ledger::open(runner::ledger_path(dir));
    if (!ledger) {
      std::cerr << "recover: " << ledger.error() << "\n";
      exit_code = kExitInvalid;
      return;
    }
    runner::RecoveryReport r = runner::recover(**ledger, std::cout);
    std::cout << "recover: " << r.runs_recovered << " crashed run(s), " << r.entries_reverted << " change(s) reverted, "
              << r.entries_failed << " failed";
    if (r.runs_still_active > 0) std::cout << "; " << r.runs_still_active << " run(s) still active (use chaosplus halt)";
    std::cout << "\n";
    exit_code = r.entries_failed == 0 ? 0 : kExitInvalid;
  });
}

}  // namespace chaosplus::cli
