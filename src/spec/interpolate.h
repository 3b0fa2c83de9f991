#pragma once
// ${VAR} and ${VAR:-default} in experiment files, replaced from the environment before validation,
// so one file serves several machines (ports, paths, tokens). "$${" stands for a literal "${".
// Like the shell, ":-" also applies when the variable is set but empty.
#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"

namespace chaosplus::spec {

// Returns the value of an environment variable, nullopt when it is not set.
using EnvLookup = std::function<std::optional<std::string>(std::string_view name)>;
// The process environment (getenv).
EnvLookup process_environment();
// Values given on the command line (--var KEY=VALUE) first, then `fallback`.
EnvLookup with_overrides(std::map<std::string, std::string> values, EnvLookup fallback);
// "KEY=VALUE" (split at the first '='; KEY as in ${KEY}: letters, digits, _, not starting with a digit).
Result<std::pair<std::string, std::string>> parse_variable_assignment(std::string_view text);

struct InterpolationError {
  std::size_t offset = 0;  // where in the input the "${" starts
  std::string message;
};

struct Interpolation {
  std::string text;                        // valid only when errors is empty
  std::vector<InterpolationError> errors;  // every problem in the input, in order
};

Interpolation interpolate(std::string_view input, const EnvLookup& lookup);

}  // namespace chaosplus::spec
