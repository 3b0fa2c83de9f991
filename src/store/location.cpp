#include "store/location.h"

#include <cstdlib>
#include <filesystem>

#include "core/config_file.h"
#include "store/store.h"

namespace chaosplus::store {
namespace {

std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::string() : std::string(value);
}

}  // namespace

std::string config_path() { return config_file_path(); }

Result<std::string> resolve_location(const std::string& flag, const std::string& state_dir) {
  if (!flag.empty()) return flag;
  if (auto from_env = env("CHAOSPLUS_STORE"); !from_env.empty()) return from_env;
  auto config = read_config_file();
  if (!config) return config.failure();
  if (!config->store.empty()) return config->store;
  return default_location(state_dir);
}

}  // namespace chaosplus::store
