#include "server/experiments.h"

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "server/routes.h"
#include "spec/loader.h"

namespace chaosplus::server {
namespace {

namespace fs = std::filesystem;

bool is_experiment_file(const fs::path& p) { return p.extension() == ".yaml" || p.extension() == ".yml"; }

ExperimentFile load(const fs::path& path) {
  ExperimentFile e;
  e.file = path.filename().string();
  std::error_code ec;
  e.path = fs::absolute(path, ec).string();
  e.name = path.stem().string();
  spec::LoadResult loaded = spec::load_experiment_file(e.path);
  for (const auto& d : loaded.errors) e.errors.push_back(d.to_string());
  if (loaded.experiment) {
    e.name = loaded.experiment->name;
    e.description = loaded.experiment->description;
    e.phases = static_cast<int>(loaded.experiment->phases.size());
    for (const auto& phase : loaded.experiment->phases) e.faults += static_cast<int>(phase.faults.size());
  }
  return e;
}

}  // namespace

Result<std::vector<ExperimentFile>> read_experiments(const std::string& folder) {
  std::error_code ec;
  std::vector<ExperimentFile> out;
  fs::directory_iterator it(folder, ec);
  if (ec) return Error{folder + ": cannot read the experiments folder: " + ec.message(), ErrorCode::io_error};
  for (const auto& entry : it) {
    if (!entry.is_regular_file(ec) || !is_experiment_file(entry.path())) continue;
    out.push_back(load(entry.path()));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.file < b.file; });
  return out;
}

Result<ExperimentFile> find_experiment(const std::string& folder, const std::string& file) {
  if (file.empty() || file.find('/') != std::string::npos || file == "." || file == ".." ||
      !is_experiment_file(fs::path(file))) {
    return Error{"'" + file.substr(0, 128) + "' is not an experiment file name of " + folder +
                     " (a .yaml or .yml file name, no folders)",
                 ErrorCode::invalid_argument};
  }
  const fs::path path = fs::path(folder) / file;
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) {
    return Error{"no experiment '" + file + "' in " + folder + " (GET /api/experiments lists them)",
                 ErrorCode::not_found};
  }
  return load(path);
}

net::Response list_experiments(ServerState& state) {
  auto files = read_experiments(state.options.experiments_dir);
  if (!files) return error_json(500, files.error());
  nlohmann::json list = nlohmann::json::array();
  for (const auto& e : *files) {
    list.push_back({{"file", e.file},
                    {"path", e.path},
                    {"name", e.name},
                    {"description", e.description},
                    {"valid", e.errors.empty()},
                    {"errors", e.errors},
                    {"phases", e.phases},
                    {"faults", e.faults}});
  }
  nlohmann::json body{{"folder", state.options.experiments_dir}, {"experiments", list}};
  return json_reply(200, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

}  // namespace chaosplus::server
