#pragma once
// --var KEY=VALUE on `run` and `validate`: values for ${KEY} in the experiment file that take
// precedence over the environment.
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "spec/loader.h"

namespace CLI {
class App;
}

namespace chaosplus::cli {

// Registers the repeatable option; each occurrence takes exactly one KEY=VALUE.
void add_variable_option(CLI::App& command, std::vector<std::string>& given);

// The given assignments as variables (a later KEY wins); nullopt after printing what is wrong.
std::optional<spec::Variables> read_variables(const std::vector<std::string>& given, std::ostream& err);

}  // namespace chaosplus::cli
