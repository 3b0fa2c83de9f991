#pragma once
// The experiment files the server offers to start: the *.yaml and *.yml files directly in its
// experiments folder, each validated as `chaosplus validate` would (without its extensions' answers).
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"

namespace chaosplus::server {

struct ExperimentFile {
  std::string file;  // the file name in the folder ("quickstart.yaml"): what POST /api/runs names
  std::string path;  // absolute
  std::string name;  // the experiment's name; the file's stem when the file does not load
  std::string description;
  std::vector<std::string> errors;  // "file:line:column: message"; empty when valid
  int phases = 0;
  int faults = 0;
};

// Sorted by file name. An unreadable folder is an error naming it.
Result<std::vector<ExperimentFile>> read_experiments(const std::string& folder);

// Finds `file` in the folder: a plain file name, no path (not_found, or invalid_argument for a path).
Result<ExperimentFile> find_experiment(const std::string& folder, const std::string& file);

}  // namespace chaosplus::server
