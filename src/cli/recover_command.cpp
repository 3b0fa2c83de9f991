#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/commands.h"
#include "runner/ledger.h"
#include "runner/recovery.h"
#include "store/location.h"
#include "store/store.h"

namespace chaosplus::cli {
namespace {

constexpr int kExitNotRestored = 4;      // a change could not be reverted (as run's exit code 4)
constexpr int kExitLedgerUntrusted = 5;  // nothing could be reverted: the ledger cannot be read or trusted

}  // namespace

void add_recover_command(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "recover",
      "Revert every change left by runs that died (kill -9, power loss); also done at the start of run.\n"
      "Exit codes: 0 every change reverted, or nothing to do; 3 invalid command line; 4 a change could not be "
      "reverted (each is listed; recover tries again next time); 5 the ledger cannot be read or trusted "
      "(damaged, or records lost): nothing was reverted, check by hand with `chaosplus leftovers`.");
  auto state_dir = std::make_shared<std::string>();
  cmd->add_option("--state-dir", *state_dir, "folder of the fault ledger");
  auto store_flag = std::make_shared<std::string>();
  cmd->add_option("--store", *store_flag,
                  "the results store where crashed runs are marked interrupted, then recovered (default: "
                  "$CHAOSPLUS_STORE, else store: in ~/.config/chaosplus/config.yaml, else results.db in the state "
                  "folder)");
  cmd->callback([state_dir, store_flag, &exit_code] {
    std::string dir = state_dir->empty() ? runner::default_state_dir() : *state_dir;
    const std::string path = runner::ledger_path(dir);
    auto ledger = runner::Ledger::open(path);
    if (!ledger) {
      std::cerr << "recover: " << ledger.error() << "\n";
      // An untrusted ledger's message already says what to check by hand; one that cannot be opened does not.
      if (ledger.code() != ErrorCode::untrusted) {
        std::cerr << "recover: without a readable ledger nothing can be reverted; `chaosplus leftovers --state-dir "
                  << dir << "` lists what chaosplus may have left on this system, to check by hand\n";
      }
      exit_code = kExitLedgerUntrusted;
      return;
    }
    // Without its store recovery still reverts: the leftovers matter more than the record.
    std::unique_ptr<store::Store> results;
    auto location = store::resolve_location(*store_flag, dir);
    auto opened = location ? store::Store::open(*location) : Result<std::unique_ptr<store::Store>>(location.failure());
    if (opened) results = std::move(opened).value();
    else std::cerr << "recover: " << opened.error() << "; reverting without it\n";
    runner::RecoveryReport r = runner::recover(**ledger, results.get(), std::cout);
    std::cout << "recover: " << r.runs_recovered << " crashed run(s), " << r.entries_reverted << " change(s) reverted, "
              << r.entries_failed << " failed";
    if (r.runs_still_active > 0)
      std::cout << "; " << r.runs_still_active << " run(s) still active (use chaosplus halt)";
    std::cout << "\n";
    exit_code = r.entries_failed == 0 ? 0 : kExitNotRestored;
  });
}

}  // namespace chaosplus::cli
