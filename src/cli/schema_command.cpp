#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/commands.h"
#include "spec/fault_catalog.h"
#include "spec/schema.h"

namespace chaosplus::cli {

void add_schema_command(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "schema",
      "Print the JSON Schema of experiment files, its fault part generated from the fault registry "
      "(schema/experiment.schema.json is this output: chaosplus schema > schema/experiment.schema.json)");
  auto markdown = std::make_shared<bool>(false);
  cmd->add_flag("--markdown", *markdown,
                "print instead the parameter table of every fault type, as docs/faults.md shows them");
  cmd->callback([markdown, &exit_code] {
    if (*markdown) {
      for (const auto& type : spec::fault_catalog()) {
        const std::string table = spec::fault_param_table(type);
        std::cout << "`" << type.name << "`: " << type.help << "\n\n"
                  << (table.empty() ? "no parameters\n" : table) << "\n";
      }
    } else {
      std::cout << spec::experiment_schema_text();
    }
    exit_code = std::cout.good() ? 0 : kExitInvalid;
  });
}

}  // namespace chaosplus::cli
