#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/commands.h"
#include "runner/leftovers.h"
#include "runner/recovery.h"

namespace chaosplus::cli {

void add_leftovers_command(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "leftovers",
      "List what chaosplus may have left on this system, to check by hand when recover cannot trust its "
      "ledger: nft tables named chaosplus*, tbf qdiscs and chaosplus-* network namespaces, processes the "
      "ledger (or its witness) recorded that still run, stopped processes, fault proxies, resolvers and their "
      "folders, skewed clock files, disk fill folders, credential files set aside, revoked access still in place, "
      "I/O fault mounts and daemons, accounts left expired, and the stress-ng processes, io_stress folders and "
      "cgroup memory limits of the host resource faults. Changes nothing.\n"
      "Exit codes: 0 nothing found; 1 something listed.");
  auto state_dir = std::make_shared<std::string>();
  cmd->add_option("--state-dir", *state_dir, "folder of the fault ledger");
  cmd->callback([state_dir, &exit_code] {
    const std::string dir = state_dir->empty() ? runner::default_state_dir() : *state_dir;
    runner::LeftoverReport report = runner::find_leftovers(runner::ledger_path(dir));
    for (const std::string& note : report.notes) std::cout << "leftovers: note: " << note << "\n";
    if (report.found.empty()) {
      std::cout << "leftovers: nothing found\n";
      exit_code = 0;
      return;
    }
    std::cout << "leftovers: " << report.found.size()
              << " thing(s) chaosplus may have left (a guess from names and states: check each by hand)\n";
    for (const runner::Leftover& l : report.found) {
      std::cout << "  " << l.what << ": " << l.detail << "\n      " << l.how << "\n";
    }
    exit_code = 1;
  });
}

}  // namespace chaosplus::cli
