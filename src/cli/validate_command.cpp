#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/commands.h"
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
  cmd->callback([files, given, &exit_code] {
    const auto variables = read_variables(*given, std::cerr);
    if (!variables) {
      exit_code = kExitInvalid;
      return;
    }
    exit_code = 0;
    for (const auto& file : *files) {
      spec::LoadResult loaded = spec::load_experiment_file(file, *variables);
      // Extensions are asked what they offer only once the file itself is valid.
      if (loaded.ok()) loaded.errors = extension::resolve(*loaded.experiment);
      if (loaded.ok()) {
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
