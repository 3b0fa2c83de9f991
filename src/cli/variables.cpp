#include "cli/variables.h"

#include <CLI/CLI.hpp>
#include <ostream>

#include "spec/interpolate.h"

namespace chaosplus::cli {

void add_variable_option(CLI::App& command, std::vector<std::string>& given) {
  command
      .add_option("--var", given,
                  "KEY=VALUE: the value of ${KEY} in the experiment file, over the environment (repeatable)")
      ->allow_extra_args(false)
      ->type_name("KEY=VALUE");
}

std::optional<spec::Variables> read_variables(const std::vector<std::string>& given, std::ostream& err) {
  spec::Variables variables;
  bool ok = true;
  for (const auto& text : given) {
    auto assignment = spec::parse_variable_assignment(text);
    if (!assignment) {
      err << "error: " << assignment.error() << "\n";
      ok = false;
      continue;
    }
    variables[assignment->first] = assignment->second;
  }
  if (!ok) return std::nullopt;
  return variables;
}

}  // namespace chaosplus::cli
