#pragma once
// Loads an experiment file (YAML) into the model of spec/experiment.h: interpolates ${VAR} and
// ${VAR:-default} from the environment, validates against schema/experiment.schema.json and the
// rules the schema cannot say (references, fault catalog, loopback-only hosts, timing), and reports
// every problem found with the line and column it comes from. There are no partial results: when
// anything is wrong, `experiment` is empty and `errors` says why.
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "spec/experiment.h"

namespace chaosplus::spec {

// One problem in an experiment file, positioned for editors and terminals.
struct Diagnostic {
  std::string file;
  int line = 0;    // 1-based; 0 = the whole file
  int column = 0;  // 1-based; 0 = unknown
  std::string message;
  std::string to_string() const;  // "file:line:column: message" (or "file: message" without a line)
};

struct LoadResult {
  std::optional<Experiment> experiment;  // set only when errors is empty
  std::vector<Diagnostic> errors;        // in file order
  bool ok() const { return experiment.has_value() && errors.empty(); }
};

// Values for ${VAR} given on the command line (--var KEY=VALUE); they take precedence over the
// environment.
using Variables = std::map<std::string, std::string>;

// Reads, interpolates and validates the file at `path`; a missing or unreadable file is one error.
LoadResult load_experiment_file(const std::string& path, const Variables& variables = {});
// The same from memory; `file_name` is used in diagnostics and as Experiment::source_path.
LoadResult load_experiment_text(std::string_view yaml, const std::string& file_name, const Variables& variables = {});

// "127.0.0.1:8080", "[::1]:80", "localhost:80" -> host and port (1-65535). Does not check loopback.
Result<Endpoint> parse_endpoint(std::string_view text);

}  // namespace chaosplus::spec
