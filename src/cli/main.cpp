// chaosplus: chaos experiments as code. See `chaosplus --help` and docs/.
#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/commands.h"
#include "cli/signal_watcher.h"
#include "core/allowed_hosts.h"
#include "core/config_file.h"
#include "faults/registry.h"
#include "fleet/remote_fault.h"
#include "runner/provenance.h"

int main(int argc, char** argv) {
  chaosplus::cli::SignalWatcher::block();
  chaosplus::faults::register_builtin_faults();
  chaosplus::fleet::register_remote_fault_undo();  // recover reaches faults agents held
  // The allow-list (core/allowed_hosts.h) serves every command. A config file that cannot be read
  // leaves it at loopback (fail closed); run and validate read the file again and stop on the error.
  if (auto config = chaosplus::read_config_file(); !config) {
    std::cerr << "chaosplus: warning: " << config.error() << "; only loopback is allowed\n";
  } else if (auto applied = chaosplus::apply_allow_list(*config); !applied) {
    std::cerr << "chaosplus: warning: " << applied.error() << "; the allow-list holds loopback only\n";
    chaosplus::allowed_hosts().clear();
  }
  CLI::App app{
      "chaosplus: controlled chaos experiments - faults, probes, guardrails and a guaranteed return to the "
      "original state.\nExit codes of run: 0 hypothesis held, 1 deviated, 2 aborted (guardrail or halt), "
      "3 invalid input or runner error, 4 not restored (a revert failed: see chaosplus leftovers and recover), "
      "6 unchecked (nothing was checked). Exit codes of recover and leftovers: see their --help."};
  app.require_subcommand(1);
  app.set_version_flag("--version", "chaosplus " + chaosplus::runner::chaosplus_version());
  int exit_code = 0;
  chaosplus::cli::add_run_command(app, exit_code);
  chaosplus::cli::add_validate_command(app, exit_code);
  chaosplus::cli::add_recover_command(app, exit_code);
  chaosplus::cli::add_leftovers_command(app, exit_code);
  chaosplus::cli::add_halt_command(app, exit_code);
  chaosplus::cli::add_proxy_command(app, exit_code);
  chaosplus::cli::add_resolver_command(app, exit_code);
  chaosplus::cli::add_load_command(app, exit_code);
  chaosplus::cli::add_fuzz_command(app, exit_code);
  chaosplus::cli::add_scan_command(app, exit_code);
  chaosplus::cli::add_report_command(app, exit_code);
  chaosplus::cli::add_compare_command(app, exit_code);
  chaosplus::cli::add_schema_command(app, exit_code);
  chaosplus::cli::add_replay_command(app, exit_code);
  chaosplus::cli::add_history_command(app, exit_code);
  chaosplus::cli::add_show_command(app, exit_code);
  chaosplus::cli::add_iofs_command(app, exit_code);
  chaosplus::cli::add_server_command(app, exit_code);
  chaosplus::cli::add_agent_command(app, exit_code);
  chaosplus::cli::add_agents_command(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : chaosplus::cli::kExitInvalid;
  }
  return exit_code;
}
