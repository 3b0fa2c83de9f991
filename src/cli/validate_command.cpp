#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/commands.h"
#include "cli/etcd_settings.h"
#include "cli/variables.h"
#include "extension/resolve.h"
#include "spec/loader.h"

namespace chaosplus::cli {

void add_validate_command(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("validate", "Check experiment files; print every error as file:line:column");
  auto files = std::make_shared<std::vector<std::string>>();
  auto given = std::make_shared<std::vector<std::string>>();
  cmd->add_option("files", *files, "experiment files (YAML)")->required();
  add_variable_option(*cmd, *given);
  auto etcd = std::make_shared<EtcdFlags>();
  add_etcd_option(*cmd, *etcd);
  cmd->callback([files, given, etcd, &exit_code] {
    const auto variables = read_variables(*given, std::cerr);
    if (!variables) {
      exit_code = kExitInvalid;
      return;
    }
    auto fleet = resolve_fleet_options(*etcd);
    if (!fleet) {
      std::cerr << "chaosplus: " << fleet.error() << "\n";
      exit_code = kExitInvalid;
      return;
    }
    // With etcd, the registered agents' addresses are allowed, as in a run, and every `on:` must
    // match one of them.
    allow_registered_agents(*fleet, std::cerr);
    const auto agent_errors = [&](const spec::Experiment& experiment) {
      return fleet->etcd.endpoints.empty() ? std::vector<std::string>{} : check_selectors(experiment, *fleet);
    };
    exit_code = 0;
    for (const auto& file : *files) {
      spec::LoadResult loaded = spec::load_experiment_file(file, *variables);
      // Extensions are asked what they offer only once the file itself is valid.
      if (loaded.ok()) loaded.errors = extension::resolve(*loaded.experiment);
      if (loaded.ok()) {
        if (const auto unmatched = agent_errors(*loaded.experiment); !unmatched.empty()) {
          for (const auto& e : unmatched) std::cerr << e << "\n";
          std::cerr << file << ": " << unmatched.size() << " error(s)\n";
          exit_code = kExitInvalid;
          continue;
        }
        std::cout << file << ": ok (" << loaded.experiment->phases.size() << " phase(s), "
                  << loaded.experiment->targets.size() << " target(s))\n";
        continue;
      }
      for (const auto& d : loaded.errors) std::cerr << d.to_string() << "\n";
      std::cerr << file << ": " << loaded.errors.size() << " error(s)\n";
      exit_code = kExitInvalid;
    }
  });
}

}  // namespace chaosplus::cli
