#include <unistd.h>

#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>

#include "cli/commands.h"
#include "cli/etcd_settings.h"
#include "cli/signal_watcher.h"
#include "cli/variables.h"
#include "extension/resolve.h"
#include "runner/dry_run.h"
#include "runner/recovery.h"
#include "runner/runner.h"
#include "spec/loader.h"

namespace chaosplus::cli {
namespace {

// Our own argv as the kernel keeps it, for the journal's provenance (redacted by the runner).
std::vector<std::string> own_command_line() {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  std::vector<std::string> argv;
  std::string arg;
  while (std::getline(in, arg, '\0')) argv.push_back(arg);
  return argv;
}

}  // namespace

void add_run_command(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("run", "Run an experiment: steady state, phases with faults, rollback, verdict");
  struct Options {
    std::string file;
    std::string runs_dir = "runs";
    std::string journal;
    std::string state_dir;
    std::string store;
    bool plain = false;
    bool dry_run = false;
    std::vector<std::string> variables;
    EtcdFlags etcd;
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("file", o->file, "experiment file (YAML)")->required();
  cmd->add_option("--runs-dir", o->runs_dir,
                  "folder of journals and logs; outputs.journal is a file name pattern below it (default: runs)");
  cmd->add_option("--journal", o->journal,
                  "write the journal (JSON lines) to this path instead, anywhere; it must not exist yet");
  cmd->add_option("--state-dir", o->state_dir,
                  "folder of the fault ledger (default: $CHAOSPLUS_STATE_DIR or ~/.local/state/chaosplus)");
  cmd->add_option("--store", o->store,
                  "record the run in this results store: a postgresql:// URI (loopback) or an SQLite file (default: "
                  "$CHAOSPLUS_STORE, else store: in ~/.config/chaosplus/config.yaml, else results.db in the state "
                  "folder)");
  cmd->add_flag("--plain", o->plain, "no live status line, even on a terminal");
  add_variable_option(*cmd, o->variables);
  add_run_fleet_options(*cmd, o->etcd);
  cmd->add_flag("--dry-run", o->dry_run,
                "validate, find the targets (attach rules, ports) and print the timeline of faults and what each "
                "would touch; inject nothing, start nothing, write no journal or ledger; exit 0 when all is found");
  cmd->callback([o, &exit_code] {
    const auto variables = read_variables(o->variables, std::cerr);
    if (!variables) {
      exit_code = kExitInvalid;
      return;
    }
    auto fleet = resolve_fleet_options(o->etcd);
    if (!fleet) {
      std::cerr << "chaosplus: " << fleet.error() << "; nothing was run\n";
      exit_code = kExitInvalid;
      return;
    }
    allow_registered_agents(*fleet, std::cerr);  // before loading: the experiment may name them
    spec::LoadResult loaded = spec::load_experiment_file(o->file, *variables);
    // Extensions are asked what they offer only once the file itself is valid.
    if (loaded.ok()) loaded.errors = extension::resolve(*loaded.experiment);
    if (!loaded.ok()) {
      for (const auto& d : loaded.errors) std::cerr << d.to_string() << "\n";
      std::cerr << o->file << ": " << loaded.errors.size() << " error(s); nothing was run\n";
      exit_code = kExitInvalid;
      return;
    }
    if (auto needs = check_fleet_needs(*loaded.experiment, *fleet); !needs) {
      std::cerr << needs.error() << "\n";
      exit_code = kExitInvalid;
      return;
    }
    fleet->vars = *variables;
    if (o->dry_run) {
      exit_code = runner::dry_run(*loaded.experiment, std::cout) ? 0 : kExitInvalid;
      return;
    }
    runner::RunOptions options;
    options.command_line = own_command_line();
    options.state_dir = o->state_dir.empty() ? runner::default_state_dir() : o->state_dir;
    options.runs_dir = o->runs_dir;
    options.journal_path = o->journal;
    options.store = o->store;
    options.live_status = !o->plain && ::isatty(STDOUT_FILENO) != 0;
    options.fleet = std::move(fleet).value();
    HaltSwitch halt;
    SignalWatcher watcher(halt);
    runner::RunResult result = runner::run_experiment(*loaded.experiment, options, halt, std::cout);
    exit_code = runner::exit_code(result.verdict);
  });
}

}  // namespace chaosplus::cli
